# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crash-status and local-status: the verdict fleet.kdump's crash test and readiness get, and record --json."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings, strategies as st

from collector_helpers import FLAT, FLAT_HEADER, KDUMP, fixture_text, flat, make_entry, run
from kdump_collector import crashkinds, status

SYSRQ = fixture_text('dmesg-sysrq-6.1.txt')
NULL = fixture_text('dmesg-null-module.txt')


def jrun(*args):
    result = run(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def fleet(tmp_path):
    """web1: a complete sysrq dump; web2: a complete dump of another crash; db1: a dump still arriving; db2: a dump
    cut short; db3: an empty one; old1: a sysrq dump from before the test."""
    root = str(tmp_path / 'root')
    make_entry(os.path.join(root, 'web1'), 'web1', '202611261216', SYSRQ, flat(KDUMP, b'a' * 1000))
    make_entry(os.path.join(root, 'web2'), 'web2', '202611261217', NULL, flat(KDUMP, b'b' * 1000))
    make_entry(os.path.join(root, 'db1'), 'db1', '202611261218', SYSRQ, FLAT, dump_name='dump-incomplete')
    make_entry(os.path.join(root, 'db2'), 'db2', '202611261219', SYSRQ, FLAT_HEADER + KDUMP)
    make_entry(os.path.join(root, 'db3'), 'db3', '202611261220', SYSRQ, b'')
    make_entry(os.path.join(root, 'old1'), 'old1', '202611250800', SYSRQ, FLAT)
    db = str(tmp_path / 'index.db')
    assert run('index', '--root', root, '--db', db).returncode == 0
    return root, db


def status_of(db, *hosts, since='2026-11-26T12:16Z', expect='sysrq', extra=()):
    args = ['crash-status', '--db', db, '--json'] + list(extra)
    for host in hosts:
        args += ['--host', host]
    if since:
        args += ['--since', since]
    if expect:
        args += ['--expect', expect]
    return jrun(*args)


def test_verdict_per_host(fleet):
    _root, db = fleet
    out = status_of(db, 'web1', 'web2', 'db1', 'db2', 'db3', 'old1', 'nohost')
    assert (out['since'], out['expect'], out['indexed']) == ('2026-11-26T12:16:00Z', 'sysrq', None)
    hosts = out['hosts']
    verdicts = {h: (v['found'], v['settled']) for h, v in hosts.items()}
    assert verdicts == {'web1': (True, True), 'web2': (False, True), 'db1': (False, False), 'db2': (False, True),
                        'db3': (False, True), 'old1': (False, False), 'nohost': (False, False)}
    web1 = hosts['web1']
    assert web1['dump']['state'] == 'complete' and web1['dump']['reason'] == 'sysrq: Trigger a crash'
    assert web1['why'].startswith('dump %d of 2026-11-26T12:16:00Z is complete (dump.202611261216, ' % web1['dump']['id'])
    assert web1['why'].endswith('shows a crash triggered through /proc/sysrq-trigger (echo c): kernel panic: sysrq triggered crash')
    assert (web1['dump']['title'], web1['dump']['corrupted']) == ('kernel panic: sysrq triggered crash', False)
    assert set(web1['dump']) >= {'id', 'host', 'time', 'state', 'kernel', 'reason', 'signature', 'error', 'path'}
    assert hosts['web2']['why'].endswith('is complete but shows %s, not a crash triggered through /proc/sysrq-trigger '
                                         '(echo c)' % hosts['web2']['dumps'][0]['title'])
    assert hosts['db1']['why'].endswith('is incomplete: dump-incomplete is not renamed yet: kdump-tools is still saving it, or stopped')
    assert "is incomplete: dump.202611261219 ends without makedumpfile's end marker" in hosts['db2']['why']
    assert hosts['db3']['why'].endswith('is empty')
    assert hosts['old1']['why'] == 'no dump of old1 indexed since 2026-11-26T12:16:00Z' and hosts['old1']['dumps'] == []


def test_without_expect_any_complete_dump_answers(fleet):
    _root, db = fleet
    hosts = status_of(db, 'web2', 'old1', since=None, expect=None)['hosts']
    assert hosts['web2']['found'] and hosts['old1']['found']
    assert hosts['web2']['why'].endswith('makedumpfile-flattened)')


def test_unknown_kind_refused(fleet):
    _root, db = fleet
    result = run('crash-status', '--db', db, '--host', 'web1', '--expect', 'meteor')
    assert result.returncode == 1 and b"unknown crash kind 'meteor' (known: bug, hung_task, oops, softlockup, sysrq, warn)" in result.stderr


def test_index_pass_first(tmp_path):
    root, db = str(tmp_path / 'root'), str(tmp_path / 'index.db')
    assert run('index', '--root', root, '--db', db).returncode == 1  # no root yet: nothing created
    os.makedirs(root)
    assert run('index', '--root', root, '--db', db).returncode == 0
    make_entry(os.path.join(root, 'web1'), 'web1', '202611261216', SYSRQ, FLAT)
    assert status_of(db, 'web1')['hosts']['web1']['found'] is False
    out = status_of(db, 'web1', extra=['--index', '--root', root])
    assert out['hosts']['web1']['found'] is True
    assert out['indexed'] == {'new': 1, 'updated': 0, 'unchanged': 0, 'errors': 0, 'missing': 0}
    result = run('crash-status', '--db', db, '--host', 'web1', '--index')
    assert result.returncode == 1 and b'--index needs --root' in result.stderr


def test_missing_index_is_an_error(tmp_path):
    result = run('crash-status', '--db', str(tmp_path / 'none.db'), '--host', 'web1')
    assert result.returncode == 1 and b'does not exist (run index first)' in result.stderr


def test_record_json_returns_the_row(fleet):
    _root, db = fleet
    row = jrun('record', '--db', db, '--host', 'web1', '--outcome', 'ok', '--kernel', '6.1.0', '--dump-id', '1', '--json')
    expected = {'host': 'web1', 'outcome': 'ok', 'kernel': '6.1.0', 'dump_id': 1}
    assert {k: row[k] for k in expected} == expected
    assert jrun('list-tests', '--db', db, '--json') == [row]


# -- what a crash kind looks like --------------------------------------------------------------------------------------

@pytest.mark.parametrize('row, shown', [
    ({'reason': 'sysrq: Trigger a crash'}, True),
    ({'reason': 'SysRq : Trigger a crash'}, True),           # before Linux 5.x
    ({'reason': 'Trigger a crash'}, True),
    ({'reason': 'sysrq: Trigger a crash now'}, False),       # the whole line, not a prefix
    ({'reason': 'BUG: kernel NULL pointer dereference, address: 0000000000000000'}, False),
    ({'reason': None}, False),
    # Indexed with the crash triage: its title decides, whatever the reason line says.
    ({'title': 'kernel panic: sysrq triggered crash', 'reason': 'sysrq: Trigger a crash'}, True),
    ({'title': 'kernel panic: sysrq triggered crash', 'reason': None}, True),
    ({'title': 'BUG: kernel NULL pointer dereference in crash_module_init', 'reason': 'sysrq: Trigger a crash'}, False),
])
def test_sysrq_kind(row, shown):
    assert crashkinds.KINDS['sysrq'].shown_by(row) is shown


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(['title', 'reason']), st.none() | st.text(max_size=80)))
def test_kind_match_needs_the_whole_name(row):
    kind = crashkinds.KINDS['sysrq']
    if kind.shown_by(row):
        assert row.get('title') == 'kernel panic: sysrq triggered crash' or (
            not row.get('title') and row['reason'].endswith('Trigger a crash'))


@pytest.mark.parametrize('kind, title, shown', [
    ('oops', 'BUG: unable to handle kernel NULL pointer dereference in fleet_crashkind_oops', True),
    ('bug', 'kernel BUG in fleet_crashkind_bug', True),
    ('warn', 'WARNING in fleet_crashkind_warn', True),
    ('hung_task', 'INFO: task hung in fleet_crashkind_hang', True),
    ('softlockup', 'BUG: soft lockup in fleet_crashkind_spin', True),
    # Another kind's function, or a name that only starts like it, is not this kind.
    ('oops', 'WARNING in fleet_crashkind_warn', False),
    ('bug', 'kernel BUG in fleet_crashkind_bugfix', False),
    ('warn', 'kernel panic: sysrq triggered crash', False),
])
def test_module_kinds_are_named_by_their_function(kind, title, shown):
    assert crashkinds.KINDS[kind].shown_by({'title': title, 'reason': None}) is shown


def test_module_kinds_without_a_title_go_by_the_panic_line():
    assert crashkinds.KINDS['hung_task'].shown_by({'title': None, 'reason': 'Kernel panic - not syncing: hung_task: blocked tasks'})
    assert not crashkinds.KINDS['warn'].shown_by({'title': None, 'reason': 'Kernel panic - not syncing: Fatal exception'})


def row(state, **extra):
    base = {'id': 7, 'host': 'h', 'stamp': '202611261216', 'time': '2026-11-26T12:16:00Z', 'state': state, 'dump_name': None,
            'dump_bytes': None, 'dump_format': None, 'dmesg_bytes': 100, 'kernel': None, 'reason': None, 'signature': None,
            'error': None, 'path': '/r/h/h-202611261216'}
    base.update(extra)
    return base


def test_verdict_names_a_missing_dmesg():
    out = status.verdict('h', [row('complete', dump_name='dump.202611261216', dmesg_bytes=None)], 'sysrq')
    assert out['why'] == 'dump 7 of 2026-11-26T12:16:00Z is complete but shows no crash (no dmesg was saved), not a crash ' \
                         'triggered through /proc/sysrq-trigger (echo c)'
    out = status.verdict('h', [row('complete', dump_name='dump.202611261216')], 'sysrq')
    assert 'shows no crash (its dmesg names none)' in out['why']


def test_verdict_prefers_the_newest_good_dump_and_carries_triage_fields():
    rows = [row('complete', id=1, dump_name='dump.1', reason='sysrq: Trigger a crash'),
            row('complete', id=2, dump_name='dump.2', title='kernel panic: sysrq triggered crash', kind='kernel panic: sysrq '
                'triggered crash', guilty_frame=None, corrupted=False),
            row('incomplete', id=3, dump_name='dump-incomplete')]
    out = status.verdict('h', rows, 'sysrq')
    assert out['found'] and out['dump']['id'] == 2 and out['dump']['title'] == 'kernel panic: sysrq triggered crash'
    assert 'corrupted' in out['dump'] and 'title' not in out['dumps'][0]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.builds(row, st.sampled_from(['complete', 'incomplete', 'empty', 'pruned', 'missing']),
                          dump_name=st.sampled_from([None, 'dump.202611261216', 'dump-incomplete']),
                          reason=st.sampled_from([None, 'sysrq: Trigger a crash', 'BUG: x']), error=st.none() | st.text(max_size=9)),
                max_size=5), st.sampled_from([None, 'sysrq']), st.booleans())
def test_verdict_is_consistent(rows, kind, final):
    out = status.verdict('h', rows, kind, final=final)
    assert out['found'] == (out['dump'] is not None)
    assert len(out['dumps']) == len(rows) and out['why'] and '\n' not in out['why']
    if out['found']:
        assert out['settled'] and out['dump']['state'] == 'complete'
    if final:
        assert out['settled']
    if not rows:
        assert out['settled'] is final


# -- local-status: kdump-tools' own directory on the host, checked as the index checks ----------------------------------

def local_dump(coredir, stamp, dmesg=SYSRQ, dump=FLAT, dump_name=None):
    path = os.path.join(coredir, stamp)
    os.makedirs(path)
    if dmesg is not None:
        with open(os.path.join(path, 'dmesg.' + stamp), 'w', encoding='utf-8') as handle:
            handle.write(dmesg)
    with open(os.path.join(path, dump_name or 'dump.' + stamp), 'wb') as handle:
        handle.write(dump)
    return path


def local(coredir, since='2026-11-26T12:16Z', expect='sysrq'):
    args = ['local-status', '--coredir', coredir, '--host', 'web1']
    args += ['--since', since] if since else []
    args += ['--expect', expect] if expect else []
    return jrun(*args)['hosts']['web1']


def test_local_complete_sysrq_dump(tmp_path):
    coredir = str(tmp_path)
    local_dump(coredir, '202611250800', dmesg=NULL)
    path = local_dump(coredir, '202611261216')
    for name in ('kexec_cmd', 'kdump_lock', 'linux-image-6.1.0-27-amd64-202611261216.crash'):
        (tmp_path / name).write_text('x')
    out = local(coredir)
    assert out['found'] and out['settled'] and out['dump']['path'] == path and out['dump']['id'] is None
    assert [d['stamp'] for d in out['dumps']] == ['202611261216']
    assert out['why'].startswith('%s of 2026-11-26T12:16:00Z is complete (dump.202611261216, ' % path)


def test_local_dump_cut_short_is_settled_not_found(tmp_path):
    local_dump(str(tmp_path), '202611261216', dump=FLAT_HEADER + KDUMP)
    out = local(str(tmp_path))
    assert (out['found'], out['settled']) == (False, True)
    assert "ends without makedumpfile's end marker" in out['why'] and 'grow crashkernel=' in out['why']


def test_local_nothing_since_is_settled(tmp_path):
    local_dump(str(tmp_path), '202611250800')
    out = local(str(tmp_path))
    assert (out['found'], out['settled']) == (False, True)
    assert out['why'] == 'no dump of web1 in %s since 2026-11-26T12:16:00Z' % tmp_path
    assert local(str(tmp_path / 'absent'))['why'].startswith('no dump of web1 in %s' % (tmp_path / 'absent'))


def test_local_never_follows_a_symlinked_dump_directory(tmp_path):
    elsewhere = tmp_path / 'elsewhere'
    local_dump(str(elsewhere), '202611261216')
    coredir = tmp_path / 'crash'
    coredir.mkdir()
    os.symlink(str(elsewhere / '202611261216'), str(coredir / '202611261216'))
    assert local(str(coredir))['dumps'] == []


def test_local_wrong_crash(tmp_path):
    local_dump(str(tmp_path), '202611261216', dmesg=NULL)
    out = local(str(tmp_path))
    assert not out['found'] and 'is complete but shows' in out['why']


def test_last_answers_for_the_newest_dumps(tmp_path):
    root, db = str(tmp_path / 'root'), str(tmp_path / 'index.db')
    make_entry(os.path.join(root, 'web1'), 'web1', '202611250800', SYSRQ, FLAT)
    make_entry(os.path.join(root, 'web1'), 'web1', '202611261216', SYSRQ, FLAT_HEADER + KDUMP)
    assert run('index', '--root', root, '--db', db).returncode == 0
    assert status_of(db, 'web1', since=None, expect=None)['hosts']['web1']['found'] is True
    latest = status_of(db, 'web1', since=None, expect=None, extra=['--last', '1'])['hosts']['web1']
    assert (latest['found'], latest['settled'], [d['stamp'] for d in latest['dumps']]) == (False, True, ['202611261216'])
    result = run('crash-status', '--db', db, '--host', 'web1', '--last', '0')
    assert result.returncode == 2 and b'argument --last: not a number from 1 to' in result.stderr
