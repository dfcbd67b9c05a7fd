# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kdump-collector list, show, stats, report, metrics, prune, record and list-tests."""

from __future__ import annotations

import datetime
import json
import os
import re

import pytest

from collector_helpers import FLAT, KDUMP, fixture_text, flat, make_entry, run

SUBCOMMANDS = ('receive', 'index', 'list', 'show', 'stats', 'crash-status', 'local-status', 'report', 'metrics', 'prune', 'record',
               'list-tests')
LIST_KEYS = {'id', 'host', 'tag', 'stamp', 'time', 'state', 'dump_bytes', 'dump_format', 'kernel', 'reason', 'rip', 'signature',
             'title', 'kind', 'guilty_frame', 'corrupted', 'known_issue'}
SYSRQ = 'kernel panic: sysrq triggered crash'
NULL = 'BUG: unable to handle kernel NULL pointer dereference in fleetdrv_ioctl'


@pytest.fixture
def fleet(tmp_path):
    """Three hosts, two bugs, one empty and one incomplete dump, indexed."""
    root = str(tmp_path / 'root')
    sysrq, null = fixture_text('dmesg-sysrq-6.1.txt'), fixture_text('dmesg-null-module.txt')
    hostile = sysrq.replace('sysrq: Trigger a crash', 'sysrq: Trigger a crash <script>alert(1)</script> "q"')
    make_entry(os.path.join(root, 'web1'), 'web1', '202611200800', sysrq, flat(KDUMP, b'a' * 1000))
    make_entry(os.path.join(root, 'web1'), 'web1', '202611210800', sysrq, flat(KDUMP, b'b' * 1000))
    make_entry(os.path.join(root, 'web1'), 'web1', '202611220800', sysrq, flat(KDUMP, b'c' * 1000))
    make_entry(os.path.join(root, 'web2'), 'web2', '202611230800', null, flat(KDUMP, b'd' * 2000))
    make_entry(os.path.join(root, 'web2'), 'web2', '202611240800', null, flat(KDUMP, b'e' * 2000))
    make_entry(os.path.join(root, 'db1'), 'db1', '202611250800', hostile, b'')
    make_entry(os.path.join(root, 'db1'), 'db1', '202611260800', sysrq, FLAT, dump_name='dump-incomplete')
    db = str(tmp_path / 'index.db')
    assert run('index', '--root', root, '--db', db).returncode == 0
    return tmp_path, root, db


def jrun(*args):
    result = run(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize('sub', SUBCOMMANDS)
def test_help_for_every_subcommand(sub):
    result = run(sub, '--help')
    assert result.returncode == 0 and result.stdout.startswith(b'usage: kdump-collector ' + sub.encode())


def test_top_level_help_lists_subcommands():
    out = run('--help').stdout.decode()
    assert all(sub in out for sub in SUBCOMMANDS)


def test_list_json_and_filters(fleet):
    _tmp, _root, db = fleet
    items = jrun('list', '--db', db, '--json')
    assert len(items) == 7 and all(LIST_KEYS <= set(item) for item in items)
    assert [i['time'] for i in items] == sorted(i['time'] for i in items)
    assert {i['host'] for i in jrun('list', '--db', db, '--json', '--host', 'web2')} == {'web2'}
    since = jrun('list', '--db', db, '--json', '--since', '2026-11-24')
    assert [i['stamp'] for i in since] == ['202611240800', '202611250800', '202611260800']
    assert len(jrun('list', '--db', db, '--json', '--since', '2026-11-24T09:00:00+01:00')) == 3
    sig = items[3]['signature']
    assert [i['stamp'] for i in jrun('list', '--db', db, '--json', '--signature', sig)] == ['202611230800', '202611240800']
    text = run('list', '--db', db).stdout.decode()
    assert text.splitlines()[0].split()[:3] == ['ID', 'TIME', 'HOST'] and len(text.splitlines()) == 8
    bad = run('list', '--db', db, '--since', 'yesterday')
    assert bad.returncode != 0 and b'ISO 8601' in bad.stderr


def test_list_new_since_and_new_on_kernel(fleet):
    """The question after a rollout: which bugs are new since then, which appeared first on the new kernel."""
    _tmp, _root, db = fleet
    new = jrun('list', '--db', db, '--json', '--new-since', '2026-11-23')
    assert [(i['stamp'], i['title']) for i in new] == [('202611230800', NULL), ('202611240800', NULL)]
    assert jrun('list', '--db', db, '--json', '--new-since', '2026-11-20T09:00:00Z', '--host', 'web1') == []
    assert [i['stamp'] for i in jrun('list', '--db', db, '--json', '--new-on-kernel', '6.1.0-18-amd64')] == [
        '202611230800', '202611240800']
    assert len(jrun('list', '--db', db, '--json', '--new-on-kernel', '6.1.0-27-amd64')) == 5
    assert jrun('list', '--db', db, '--json', '--new-on-kernel', '6.1.0-27-amd64', '--new-since', '2026-11-21') == []
    bad = run('list', '--db', db, '--new-since', 'last week')
    assert bad.returncode != 0 and b'--new-since' in bad.stderr and b'ISO 8601' in bad.stderr


def test_known_issues_in_list_show_stats_report(fleet):
    tmp, root, db = fleet
    issues = tmp / 'known.json'
    issues.write_text(json.dumps([{'pattern': 'sysrq', 'url': 'https://bugs.example/42', 'note': 'crash test'}]))
    assert run('index', '--root', root, '--db', db, '--known-issues', str(issues)).returncode == 0
    items = jrun('list', '--db', db, '--json')
    assert {i['title']: i['known_issue'] for i in items if i['title']} == {
        SYSRQ: {'url': 'https://bugs.example/42', 'note': 'crash test'}, NULL: None}
    table = run('list', '--db', db).stdout.decode()
    assert re.search(re.escape(SYSRQ) + r' +https://bugs\.example/42$', table, re.M)
    assert re.search(re.escape(NULL) + r' +new$', table, re.M)
    ident = [i['id'] for i in items if i['title'] == SYSRQ][0]
    assert 'known issue: https://bugs.example/42 crash test' in run('show', str(ident), '--db', db).stdout.decode()
    by_title = {g['title']: g['known_issue'] for g in jrun('stats', '--db', db, '--json')['by_signature']}
    assert by_title[SYSRQ]['url'] == 'https://bugs.example/42' and by_title[NULL] is None
    page = tmp / 'report.html'
    assert run('report', '--db', db, '--html', str(page), '--new-since', '2026-11-23').returncode == 0
    html = page.read_text()
    assert '<a href="https://bugs.example/42">known</a> crash test' in html
    # The titles table: a title first seen since --new-since is marked, hosts are counted per title.
    table = html.split('<h2>Crashes by title</h2>')[1].split('<h2>')[0]
    null_row = [r for r in table.split('<tr>') if NULL in r][0]
    sysrq_row = [r for r in table.split('<tr>') if SYSRQ in r][0]
    assert 'new since 2026-11-23T00:00:00Z' in null_row and '<td>new</td>' in null_row
    assert 'new since' not in sysrq_row and '<td title="db1, web1">2</td>' in sysrq_row


def test_show_escapes_the_report(tmp_path):
    """A crashing host's dmesg may hold terminal escapes: show prints them as text."""
    root = str(tmp_path / 'root')
    db = str(tmp_path / 'index.db')
    text = fixture_text('dmesg-sysrq-6.1.txt').replace('Hardware name: QEMU', 'Hardware name: \x1b]0;owned\x07\x1b[2J QEMU')
    make_entry(os.path.join(root, 'h'), 'h', '202611261216', text, FLAT)
    assert run('index', '--root', root, '--db', db).returncode == 0
    shown = run('show', '1', '--db', db).stdout.decode()
    assert '\x1b' not in shown and '\\x1b]0;owned\\x07\\x1b[2J QEMU' in shown


def test_list_without_db_fails_cleanly(tmp_path):
    result = run('list', '--db', str(tmp_path / 'nope.db'))
    assert result.returncode != 0 and b'does not exist' in result.stderr
    assert not (tmp_path / 'nope.db').exists()


def test_show(fleet):
    _tmp, _root, db = fleet
    ident = [i['id'] for i in jrun('list', '--db', db, '--json') if i['stamp'] == '202611200800'][0]
    item = jrun('show', str(ident), '--db', db, '--json')
    assert item['id'] == ident and item['host'] == 'web1' and item['frames'][0] == 'sysrq_handle_crash'
    assert (item['title'], item['kind'], item['guilty_frame'], item['corrupted']) == (SYSRQ, SYSRQ, None, False)
    assert item['known_issue'] is None and item['report'].startswith('Kernel panic - not syncing: sysrq triggered crash')
    text = run('show', str(ident), '--db', db).stdout.decode()
    assert 'reason:' in text and 'sysrq_handle_crash <- ' in text and 'title:       ' + SYSRQ in text
    assert 'known issue: new' in text and '\nreport:\n    Kernel panic - not syncing: sysrq triggered crash\n' in text
    missing = run('show', '99', '--db', db)
    assert missing.returncode == 1 and b'no dump with id 99' in missing.stderr


def test_stats(fleet):
    _tmp, _root, db = fleet
    stats = jrun('stats', '--db', db, '--json')
    assert stats['total'] == 7
    assert stats['by_state'] == {'complete': 5, 'empty': 1, 'incomplete': 1}
    top = stats['by_signature'][0]
    # The hostile dmesg (db1) is the same crash: a reason line with markup does not change the title.
    assert (top['title'], top['kind'], top['count'], top['hosts'], top['kernels']) == (
        SYSRQ, SYSRQ, 5, ['db1', 'web1'], ['6.1.0-27-amd64'])
    assert top['first_seen'] == '2026-11-20T08:00:00Z' and top['last_seen'] == '2026-11-26T08:00:00Z'
    assert top['known_issue'] is None and stats['by_signature'][1]['title'] == NULL
    assert {h['host']: h['count'] for h in stats['by_host']} == {'web1': 3, 'web2': 2, 'db1': 2}
    assert {k['kernel']: k['count'] for k in stats['by_kernel']} == {'6.1.0-27-amd64': 5, '6.1.0-18-amd64': 2}
    assert stats['first_seen'] == '2026-11-20T08:00:00Z' and stats['last_seen'] == '2026-11-26T08:00:00Z'
    text = run('stats', '--db', db).stdout.decode()
    assert text.splitlines()[2].split() == ['SIGNATURE', 'COUNT', 'HOSTS', 'KERNELS', 'FIRST', 'LAST', 'TITLE', 'ISSUE']
    assert re.search(re.escape(SYSRQ) + r' +new$', text, re.M)


def test_report_html(fleet):
    tmp, _root, db = fleet
    out = tmp / 'report.html'
    assert run('report', '--db', db, '--html', str(out)).returncode == 0
    page = out.read_text()
    assert '<title>fleet.kdump crash report</title>' in page and '<svg' in page and '<rect' in page
    assert not re.search(r'(src|href)=|https?://|@import', page)
    assert '<script>' not in page and '&lt;script&gt;' in page
    assert 'Incomplete, empty or damaged' in page and 'dump-incomplete' not in page.split('Incomplete')[0]
    assert page.count('<tr>') >= 7 + 3 + 2
    assert os.listdir(str(tmp)).count('report.html') == 1 and not [n for n in os.listdir(str(tmp)) if n.endswith('.tmp')]


def test_metrics_textfile(fleet):
    tmp, _root, db = fleet
    out = tmp / 'kdump.prom'
    assert run('metrics', '--db', db, '--textfile', str(out)).returncode == 0
    text = out.read_text()
    samples = [line for line in text.splitlines() if not line.startswith('#')]
    assert all(re.match(r'[a-z_]+(\{[^}]*\})? \d+$', line) for line in samples)
    assert 'kdump_collector_dumps{state="complete"} 5' in samples
    assert 'kdump_collector_dumps{state="empty"} 1' in samples
    newest = datetime.datetime(2026, 11, 22, 8, 0, tzinfo=datetime.timezone.utc).timestamp()
    assert 'kdump_collector_last_dump_timestamp_seconds{host="web1"} %d' % newest in samples
    # Counts per kind of report: one sample per family, whatever the hosts wrote.
    kinds = {s.split('"')[1]: int(s.split()[-1]) for s in samples if s.startswith('kdump_collector_crashes{')}
    assert kinds['panic'] == 5 and kinds['fault'] == 2 and sum(kinds.values()) == 7 and len(kinds) == 16
    assert 'kdump_collector_new_signatures 0' in samples
    assert '# TYPE kdump_collector_dumps gauge' in text
    assert not [n for n in os.listdir(str(tmp)) if n.endswith('.tmp')]


def test_prune_keep_per_signature(fleet):
    tmp, root, db = fleet
    before = run('list', '--db', db, '--json').stdout
    dry = run('prune', '--db', db, '--root', root, '--keep-per-signature', '1', '--dry-run')
    assert dry.returncode == 0 and dry.stdout.decode().count('would prune') == 3
    assert run('list', '--db', db, '--json').stdout == before
    result = run('prune', '--db', db, '--root', root, '--keep-per-signature', '1')
    assert result.returncode == 0 and result.stdout.decode().count('pruned ') == 3
    got = {r['stamp']: r for r in jrun('list', '--db', db, '--json')}
    assert [s for s, r in sorted(got.items()) if r['state'] == 'pruned'] == ['202611200800', '202611210800', '202611230800']
    entry = os.path.join(root, 'web1', 'web1-202611200800')
    assert sorted(os.listdir(entry)) == ['.pruned', 'dmesg.202611200800']
    assert got['202611200800']['reason'] == 'sysrq: Trigger a crash' and got['202611200800']['dump_bytes'] == len(flat(KDUMP, b'a' * 1000))
    # Re-indexing keeps the pruned state, and pruning again finds nothing.
    assert run('index', '--root', root, '--db', db).returncode == 0
    again = {r['stamp']: r['state'] for r in jrun('list', '--db', db, '--json')}
    assert again == {s: r['state'] for s, r in got.items()}
    assert b'nothing to prune' in run('prune', '--db', db, '--root', root, '--keep-per-signature', '1').stdout
    assert tmp.exists()


def test_prune_watermarks_keep_newest_per_signature(fleet):
    _tmp, root, db = fleet
    result = run('prune', '--db', db, '--root', root, '--max-total-bytes', '0')
    assert result.returncode == 0
    got = {r['stamp']: r['state'] for r in jrun('list', '--db', db, '--json')}
    assert got == {'202611200800': 'pruned', '202611210800': 'pruned', '202611220800': 'complete',
                   '202611230800': 'pruned', '202611240800': 'complete', '202611250800': 'empty',
                   '202611260800': 'incomplete'}


def test_prune_min_free_floor(fleet):
    _tmp, root, db = fleet
    result = run('prune', '--db', db, '--root', root, '--min-free-bytes', '1P', '--dry-run')
    assert result.returncode == 0 and result.stdout.decode().count('would prune') == 3
    loose = run('prune', '--db', db, '--root', root, '--min-free-bytes', '1', '--max-total-bytes', '1G')
    assert b'nothing to prune' in loose.stdout


def test_prune_skips_changed_files(fleet):
    _tmp, root, db = fleet
    with open(os.path.join(root, 'web1', 'web1-202611200800', 'dump.202611200800'), 'ab') as handle:
        handle.write(b'more')
    result = run('prune', '--db', db, '--root', root, '--keep-per-signature', '1')
    assert result.returncode == 1 and b'changed since it was indexed' in result.stderr
    assert os.path.exists(os.path.join(root, 'web1', 'web1-202611200800', 'dump.202611200800'))


def test_prune_outside_root_refused(fleet):
    tmp, _root, db = fleet
    other = tmp / 'elsewhere'
    other.mkdir()
    result = run('prune', '--db', db, '--root', str(other), '--keep-per-signature', '1')
    assert result.returncode == 1 and b'outside --root' in result.stderr


def test_record_and_list_tests(fleet):
    _tmp, _root, db = fleet
    first = run('record', '--db', db, '--host', 'web1', '--outcome', 'ok', '--kernel', '6.1.0-27-amd64', '--config-hash', 'abc123',
                '--dump-id', '3', '--detail', 'dump arrived in 97 s')
    assert first.returncode == 0 and first.stdout.strip() == b'1'
    assert run('record', '--db', db, '--host', 'web2', '--outcome', 'failed').stdout.strip() == b'2'
    assert run('record', '--db', db, '--host', 'web2', '--outcome', 'maybe').returncode != 0
    tests = jrun('list-tests', '--db', db, '--json')
    assert [(t['host'], t['outcome'], t['dump_id']) for t in tests] == [('web1', 'ok', 3), ('web2', 'failed', None)]
    assert tests[0]['config_hash'] == 'abc123' and tests[0]['time'].endswith('Z')
    assert jrun('show', '3', '--db', db, '--json')['crash_tests'][0]['detail'] == 'dump arrived in 97 s'
    assert jrun('stats', '--db', db, '--json')['crash_tests'] == {'ok': 1, 'failed': 1}
    assert 'web2' in run('list-tests', '--db', db).stdout.decode()


def test_record_creates_database(tmp_path):
    db = str(tmp_path / 'new.db')
    assert run('record', '--db', db, '--host', 'h', '--outcome', 'ok').returncode == 0
    assert jrun('list', '--db', db, '--json') == []


@pytest.fixture
def cut_fleet(tmp_path):
    """web1: a flattened dump cut short, a complete one, another cut short (one signature); db1: a dump still arriving."""
    root = str(tmp_path / 'root')
    sysrq = fixture_text('dmesg-sysrq-6.1.txt')
    cut = flat(KDUMP, b'p' * 8192)[:-1000]
    make_entry(os.path.join(root, 'web1'), 'web1', '202611190800', sysrq, cut)
    make_entry(os.path.join(root, 'web1'), 'web1', '202611200800', sysrq, flat(KDUMP, b'p' * 8192))
    make_entry(os.path.join(root, 'web1'), 'web1', '202611210800', sysrq, cut)
    make_entry(os.path.join(root, 'db1'), 'db1', '202611220800', sysrq, cut, dump_name='dump-incomplete')
    db = str(tmp_path / 'index.db')
    assert run('index', '--root', root, '--db', db).returncode == 0
    return tmp_path, root, db


def test_cut_short_dump_in_list_show_stats_report_metrics(cut_fleet):
    tmp, _root, db = cut_fleet
    # What crash_test asks after crashing web1: no complete dump since the test started, and why.
    since = jrun('list', '--db', db, '--json', '--host', 'web1', '--since', '2026-11-21T08:00:00Z')
    assert [(i['stamp'], i['state'], i['dump_name']) for i in since] == [('202611210800', 'incomplete', 'dump.202611210800')]
    assert "dump.202611210800 ends without makedumpfile's end marker" in since[0]['error']
    table = run('list', '--db', db).stdout.decode().splitlines()
    assert [line.split()[3] for line in table[1:]] == ['incomplete', 'complete', 'incomplete', 'incomplete']
    shown = run('show', str(since[0]['id']), '--db', db).stdout.decode()
    assert 'state:       incomplete' in shown and 'grow crashkernel=' in shown
    assert jrun('stats', '--db', db, '--json')['by_state'] == {'complete': 1, 'incomplete': 3}
    page = tmp / 'report.html'
    assert run('report', '--db', db, '--html', str(page)).returncode == 0
    damaged = page.read_text().split('Incomplete, empty or damaged dumps')[1].split('All dumps')[0]
    assert damaged.count('ends without makedumpfile') == 2 and 'grow crashkernel=' in damaged
    prom = tmp / 'kdump.prom'
    assert run('metrics', '--db', db, '--textfile', str(prom)).returncode == 0
    assert 'kdump_collector_dumps{state="incomplete"} 3' in prom.read_text()


def test_prune_cut_short_dumps_but_never_one_still_arriving(cut_fleet):
    _tmp, root, db = cut_fleet
    assert run('prune', '--db', db, '--root', root, '--keep-per-signature', '1').returncode == 0
    got = {r['stamp']: r['state'] for r in jrun('list', '--db', db, '--json')}
    # The newer cut dump fills the one place kept; the complete dump is kept anyway, as the newest complete one.
    assert got == {'202611190800': 'pruned', '202611200800': 'complete', '202611210800': 'incomplete',
                   '202611220800': 'incomplete'}
    assert run('prune', '--db', db, '--root', root, '--max-total-bytes', '0').returncode == 0
    got = {r['stamp']: r for r in jrun('list', '--db', db, '--json')}
    assert {s: r['state'] for s, r in got.items()} == {'202611190800': 'pruned', '202611200800': 'complete',
                                                       '202611210800': 'pruned', '202611220800': 'incomplete'}
    assert 'ends without makedumpfile' in got['202611210800']['error']
    assert os.path.exists(os.path.join(root, 'db1', 'db1-202611220800', 'dump-incomplete'))
    assert run('index', '--root', root, '--db', db).returncode == 0
    assert {r['stamp']: r['state'] for r in jrun('list', '--db', db, '--json')} == {s: r['state'] for s, r in got.items()}
