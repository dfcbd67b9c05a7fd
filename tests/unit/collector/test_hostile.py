# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile input against the collector program (issue 12, classes 1-7): what a fleet host (its dmesg, its dump
directory, its stamps), an NFS client (any file in the export) and an operator (any argument) can send. One section
per class; every example of the issue is here, and property tests (hypothesis) cover the class around it."""

from __future__ import annotations

import argparse
import ast
import datetime
import io
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback

import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

from kdump_collector import PROG as NAME
from kdump_collector import cli, fsutil, names, prune, store, textout
from kdump_collector import index as index_module
from ansible_collections.fleet.kdump.tests.unit.hypothesis_budget import examples
from collector_helpers import FLAT, KDUMP, fixture_text, flat, make_entry, receive, run, snapshot
from test_triage import ADVERSARIAL, SLACK, growth

PACKAGE = os.path.dirname(os.path.abspath(cli.__file__))
SYSRQ = fixture_text('dmesg-sysrq-6.1.txt')
TERMINAL_ATTACK = '\x1b]0;TITLE\x07\x1b[2J'


def index(root, db, *extra):
    result = run('index', '--root', root, '--db', db, *extra, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def rows(db):
    conn = store.open_db(db)
    try:
        return {r['path']: dict(r) for r in conn.execute('SELECT * FROM dumps')}
    finally:
        conn.close()


def stamp_from_now(**delta):
    return (names.utcnow() + datetime.timedelta(**delta)).strftime('%Y%m%d%H%M')


def one_line_error(result):
    """A refusal: non-zero exit, one line on stderr naming the program, never a traceback."""
    err = result.stderr.decode()
    assert result.returncode != 0, err
    assert b'Traceback' not in result.stderr and err.count('\n') == 1 and err.startswith(NAME), err
    return err


def printable(text):
    """Every line of text is shown literally by a terminal (no control, format or separator character)."""
    return all(line.isprintable() for line in text.split('\n'))


def call(argv, cwd, env=None, timeout=60):
    """cli.main(argv) in a forked child (own directory, environment, stdin /dev/null, stdout and stderr as in a real
    process): (exit status, stdout, stderr). An exception escaping main exits 98 with its traceback on stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:
            code = 97
            try:
                os.chdir(cwd)
                os.environ.pop('SSH_ORIGINAL_COMMAND', None)
                os.environ.update(env or {})
                os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdout = io.TextIOWrapper(io.FileIO(1, 'w', closefd=False), encoding='utf-8', write_through=True)
                sys.stderr = io.TextIOWrapper(io.FileIO(2, 'w', closefd=False), encoding='utf-8',
                                              errors='backslashreplace', write_through=True)
                try:
                    code = cli.main(argv)
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 96
                except BaseException:  # pylint: disable=broad-exception-caught
                    traceback.print_exc()
                    code = 98
            finally:
                os._exit(code if isinstance(code, int) else 95)  # pylint: disable=protected-access
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise AssertionError('%s %r hung' % (NAME, argv))
            time.sleep(0.002)
        out.seek(0)
        err.seek(0)
        return os.waitstatus_to_exitcode(status), out.read().decode('utf-8'), err.read().decode('utf-8')


# -- 1. Time: the analysis is linear in its input, one entry never stops the pass, the unit has a timeout ------------

PANIC = 'Kernel panic - not syncing: Fatal exception\n'
HUNG = '[  100.000000] Kernel panic - not syncing: hung_task: blocked tasks\n'
# Pieces of what the analysis looks for, to be repeated in every combination, in the context of a real report.
FRAGMENTS = (
    'CPU: 1 PID: 1 Comm: x Tainted: ', 'CPU: 1 UID: 0 PID: 1 Comm: ', 'Tainted: ', 'Not tainted ', ' ', '  ', '\t', '[',
    ']', '[<ffffffff81000000>] ', '? ', '<4>', '[    1.000000] ', '[  T1] ', 'INFO: task ', ' blocked for more than',
    'RIP: 0010:', 'pc : ', 'EIP: ', 'x+0x1/0x2', '+0x', '/0x', '.cold', '.isra.0', '.constprop', 'Call Trace:\n',
    ' <TASK>\n', ' </TASK>\n', '\n', '\x1e', '\r', 'Kernel panic - not syncing: ', 'hung_task', 'BUG: ', 'a-b: ',
    'Oops: ', 'WARNING: CPU: 1 PID: ', 'watchdog: ', 'Linux version 6.1.0 ', '6.1.0', ' #', 'G', 'W ', '[W]=WARN, ',
    'a' * 9, 'deadbeefdeadbeef ', '0x', '1', ': ', '#', '$', '.', 'sysrq: Trigger a crash\n', ', at: ',
)
HEADS = ('', PANIC, HUNG, '[    0.000000] Linux version 6.1.0-27-amd64 (x)\n', SYSRQ[-3000:])


@examples(0.2)
@given(unit=st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), min_size=1, max_size=5).map(''.join),
       head=st.sampled_from(HEADS), tail=st.sampled_from(HEADS))
def test_analysis_linear_in_adversarial_repeats(unit, head, tail):
    """Repeats of what the analysis looks for, before, between or after real reports: ten times the input, at most
    about ten times the time (test_triage.py times the issue's own examples the same way)."""
    assume(unit)
    small = max(1, 20000 // len(unit))
    ratio = growth(head + unit * small + tail, head + unit * 10 * small + tail)
    note('growth %.1f' % ratio)
    assert ratio < SLACK


def test_issue_time_example_indexed_beside_other_hosts(tmp_path):
    """The 100 KB dmesg indexes like any other (the subprocess's timeout only guards against a hang)."""
    root, db = str(tmp_path / 'root'), str(tmp_path / 'index.db')
    slow = ADVERSARIAL['tainted then spaces'](100000)
    evil = make_entry(os.path.join(root, 'evil'), 'evil', '202611261216', slow, FLAT)
    good = make_entry(os.path.join(root, 'good'), 'good', '202611261217', SYSRQ, FLAT)
    index(root, db)
    got = rows(db)
    assert got[good]['reason'] == 'sysrq: Trigger a crash' and got[good]['error'] is None
    assert got[evil]['state'] == 'complete' and got[evil]['reason'].startswith('Kernel panic')


def test_one_failing_entry_never_stops_the_pass(tmp_path, monkeypatch):
    """Whatever fails in one entry's analysis becomes that entry's error; every other entry is indexed."""
    root, db = str(tmp_path / 'root'), str(tmp_path / 'index.db')
    bad = make_entry(os.path.join(root, 'h1'), 'h1', '202611261216', 'BOOM\n' + SYSRQ, FLAT)
    good = make_entry(os.path.join(root, 'h2'), 'h2', '202611261217', SYSRQ, FLAT)
    real = index_module.analyse

    def exploding(text):
        if text.startswith('BOOM'):
            raise RecursionError('planted failure')
        return real(text)

    monkeypatch.setattr(index_module, 'analyse', exploding)
    assert cli.main(['index', '--root', root, '--db', db]) == 0
    got = rows(db)
    assert 'planted failure' in got[bad]['error'] and got[bad]['host'] == 'h1'
    assert got[good]['reason'] == 'sysrq: Trigger a crash'


def test_unchanged_entries_are_not_analysed_again(tmp_path, monkeypatch):
    """A dump directory whose listing did not change costs a listing per pass, not an analysis: hostile entries that
    never complete cannot make every pass as slow as the first."""
    root, db = str(tmp_path / 'root'), str(tmp_path / 'index.db')
    make_entry(os.path.join(root, 'h1'), 'h1', '202611261216', ADVERSARIAL['tainted then spaces'](100000))
    assert cli.main(['index', '--root', root, '--db', db]) == 0
    analysed = []
    real = index_module.analyse_entry
    monkeypatch.setattr(index_module, 'analyse_entry', lambda *a: analysed.append(a) or real(*a))
    assert cli.main(['index', '--root', root, '--db', db]) == 0
    assert analysed == []


def test_a_pass_ended_by_the_timeout_keeps_what_it_indexed(tmp_path, monkeypatch):
    """The unit's timeout may end a long pass: what it indexed until then is committed, the next pass goes on."""
    root, db = str(tmp_path / 'root'), str(tmp_path / 'index.db')
    entries = [make_entry(os.path.join(root, 'h%d' % n), 'h%d' % n, '202611261216', SYSRQ, FLAT) for n in range(4)]
    real = index_module.analyse_entry

    def ended_at_the_third(*args):
        if len(rows(db)) == 2:
            raise KeyboardInterrupt('SIGTERM')
        return real(*args)

    monkeypatch.setattr(index_module, 'COMMIT_SECONDS', 0)
    monkeypatch.setattr(index_module, 'analyse_entry', ended_at_the_third)
    status, _out, err = call(['index', '--root', root, '--db', db], str(tmp_path))
    assert status == 98 and 'KeyboardInterrupt: SIGTERM' in err
    assert sorted(rows(db)) == entries[:2]
    monkeypatch.setattr(index_module, 'analyse_entry', real)
    assert cli.main(['index', '--root', root, '--db', db]) == 0
    assert sorted(rows(db)) == entries and {r['state'] for r in rows(db).values()} == {'complete'}


def test_index_unit_has_a_start_timeout():
    unit = os.path.join(PACKAGE, '..', '..', 'templates', 'kdump-collector-index.service.j2')
    with open(unit, encoding='utf-8') as handle:
        values = re.findall(r'^TimeoutStartSec=(\S+)$', handle.read(), re.M)
    assert len(values) == 1 and re.fullmatch(r'[1-9][0-9]*(?:s|min|h)', values[0]), values


# -- 2. Terminal: control characters escaped in every human-readable output, JSON stays valid --------------------

@given(st.text())
def test_safe_text_is_printable_and_keeps_printable_text(text):
    shown = textout.safe(text)
    assert shown.isprintable()
    assert (shown == text) == text.isprintable()


def test_issue_escape_sequence_in_list_stats_show(tmp_path):
    root, db = str(tmp_path / 'root'), str(tmp_path / 'index.db')
    hostile = SYSRQ.replace('sysrq: Trigger a crash', 'sysrq: Trigger a crash ' + TERMINAL_ATTACK)
    make_entry(os.path.join(root, 'web1'), 'web1', '202611200800', hostile, FLAT)
    make_entry(os.path.join(root, 'web1'), 'web1', '202611210800', hostile, FLAT)
    index(root, db)
    assert run('record', '--db', db, '--host', 'web1', '--outcome', 'ok', '--dump-id', '1',
               '--detail', TERMINAL_ATTACK).returncode == 0
    for args in (['list'], ['stats'], ['show', '1'], ['list-tests'],
                 ['prune', '--root', root, '--keep-per-signature', '1', '--dry-run']):
        result = run(*(args + ['--db', db]))
        assert result.returncode == 0 and printable(result.stdout.decode()), args
        assert b'\x1b' not in result.stdout and b'\x07' not in result.stdout
    shown = run('show', '1', '--db', db).stdout.decode()
    assert '\\x1b]0;TITLE\\x07\\x1b[2J' in shown
    for args in (['list', '--json'], ['stats', '--json'], ['show', '1', '--json'], ['list-tests', '--json']):
        out = run(*(args + ['--db', db])).stdout
        assert b'\x1b' not in out and TERMINAL_ATTACK in out.decode('ascii').encode().decode('unicode_escape')
        json.loads(out)
    assert json.loads(run('show', '1', '--db', db, '--json').stdout)['reason'].endswith(TERMINAL_ATTACK)


HOSTILE_TEXT = st.one_of(st.text(min_size=1), st.sampled_from([TERMINAL_ATTACK, '\u202etxt.exe', 'a\rb', '\x9b2J', '\u2028', 'a\0b']))
TEXT_COLUMNS = ('host', 'tag', 'time', 'dump_format', 'kernel', 'reason', 'rip', 'taint', 'signature', 'error')


@pytest.fixture(scope='module')
def scratch(tmp_path_factory):
    return str(tmp_path_factory.mktemp('scratch'))


@examples(0.15)
@given(values=st.fixed_dictionaries({k: HOSTILE_TEXT for k in TEXT_COLUMNS}),
       frames=st.lists(HOSTILE_TEXT, max_size=3), detail=HOSTILE_TEXT)
def test_every_text_output_is_terminal_safe(scratch, values, frames, detail):
    """Whatever text the index holds, every table, line and message shows it escaped, and JSON gives it back whole."""
    work = tempfile.mkdtemp(dir=scratch)
    try:
        db, root = os.path.join(work, 'index.db'), os.path.join(work, 'root')
        os.mkdir(root)
        conn = store.open_db(db)
        with conn:
            for stamp in ('202611200800', '202611210800'):
                row = dict(values, path=os.path.join(root, values['host'][:20].replace('/', '_') + stamp), stamp=stamp,
                           state='incomplete', dump_name='dump.' + values['reason'], dump_bytes=1,
                           frames=json.dumps(frames), first_seen=names.now_text())
                conn.execute('INSERT INTO dumps (%s) VALUES (%s)' % (', '.join(row), ', '.join('?' * len(row))),
                             list(row.values()))
            test = (values['time'], values['host'], values['kernel'], values['signature'], detail)
            conn.execute("INSERT INTO crash_tests (time, host, outcome, kernel, config_hash, dump_id, detail) "
                         "VALUES (?, ?, 'ok', ?, ?, 1, ?)", test)
        conn.close()
        prune_args = ['prune', '--root', root, '--max-total-bytes', '0']
        for args in (['list'], ['stats'], ['show', '1'], ['list-tests'], prune_args + ['--dry-run'], prune_args):
            status, out, err = call(args + ['--db', db], work)
            assert status in (0, 1) and printable(out) and printable(err), (args, out, err)
        status, out, _err = call(['show', '1', '--db', db, '--json'], work)
        shown = json.loads(out)
        assert status == 0 and {k: shown[k] for k in TEXT_COLUMNS} == values and shown['frames'] == frames
        assert shown['crash_tests'][0]['detail'] == detail
        assert [r['reason'] for r in json.loads(call(['list', '--db', db, '--json'], work)[1])] == [values['reason']] * 2
    finally:
        shutil.rmtree(work)


def test_receive_messages_and_log_are_terminal_safe(tmp_path):
    root = str(tmp_path)
    for command in ('mkdir -p /var/crash/t1-202611261216' + TERMINAL_ATTACK, TERMINAL_ATTACK, 'dd of=\u202e/x'):
        result = receive(root, command)
        assert result.returncode == 1 and printable(result.stderr.decode()) and b'\x1b' not in result.stderr
    with open(os.path.join(root, '.log', 'receive.log'), encoding='utf-8') as handle:
        log = handle.read()
    assert log.count('REFUSE') == 3 and printable(log)


def test_index_warnings_and_errors_are_terminal_safe(tmp_path):
    root, export, db = str(tmp_path / 'root'), str(tmp_path / 'export'), str(tmp_path / 'index.db')
    entry = make_entry(export, 'n1', '202611261216', SYSRQ, FLAT, extra={TERMINAL_ATTACK: b''})
    os.makedirs(os.path.join(root, 'h1'))
    open(os.path.join(export, TERMINAL_ATTACK), 'w').close()
    os.makedirs(os.path.join(root, 'h1', 'not-an-entry' + TERMINAL_ATTACK))
    result = index(root, db, '--nfs-dir', export)
    assert result.stderr.count(b'kdump-collector: warning: ') == 2 and printable(result.stderr.decode()) and b'\x1b' not in result.stderr
    assert rows(db)[entry]['error'] == 'unexpected files: \\x1b]0;TITLE\\x07\\x1b[2J'


# -- 3. Planted files: a bad marker or name is an error on that entry, the rest is indexed and committed -----------

ISSUE_MARKERS = {
    'name is a list': {'dump_name': [1]},
    '2**80 bytes': {'dump_name': 'dump.{stamp}', 'dump_bytes': 2 ** 80},
}
MORE_MARKERS = {
    'name of another file': {'dump_name': '../../etc/passwd', 'dump_bytes': 1},
    'negative bytes': {'dump_name': 'dump.{stamp}', 'dump_bytes': -1},
    'bytes is true': {'dump_name': 'dump.{stamp}', 'dump_bytes': True},
    'bytes is a float': {'dump_name': 'dump.{stamp}', 'dump_bytes': 1e300},
    'format is an object': {'dump_name': 'dump.{stamp}', 'dump_bytes': 1, 'dump_format': {'a': 1}},
    'format with escapes': {'dump_name': 'dump.{stamp}', 'dump_bytes': 1, 'dump_format': TERMINAL_ATTACK},
    'not an object': [1, 2],
}


def planted_tree(base, markers, raw=None):
    """One good entry per host and one entry per planted marker; returns (good entries, planted entries)."""
    good = [make_entry(os.path.join(base, h), h, '202611261216', SYSRQ, FLAT) for h in ('a1', 'z9')]
    planted = []
    for number, marker in enumerate(markers):
        stamp = '2026112613%02d' % number
        text = json.dumps(marker).replace('{stamp}', stamp).encode() if not isinstance(marker, bytes) else marker
        planted.append(make_entry(os.path.join(base, 'm1'), 'm1', stamp, SYSRQ, extra={'.pruned': text}))
    return good, planted


@pytest.mark.parametrize('markers', [ISSUE_MARKERS, MORE_MARKERS], ids=['issue', 'more'])
def test_planted_pruned_markers_are_errors_of_their_entry(tmp_path, markers):
    root, db = str(tmp_path / 'root'), str(tmp_path / 'index.db')
    raw = [b'[' * 4096, b'{"dump_name": "dump.1", "dump_bytes": NaN}', b'\xff\xfe', b'{' + b' ' * 8000 + b'}']
    good, planted = planted_tree(root, list(markers.values()) + raw)
    result = index(root, db)
    assert b'%d new' % (len(good) + len(planted)) in result.stdout
    got = rows(db)
    assert all(got[entry]['reason'] == 'sysrq: Trigger a crash' and got[entry]['error'] is None for entry in good)
    for entry in planted:
        row = got[entry]
        assert row['state'] == 'pruned' and 'unreadable .pruned' in row['error'], row
        assert row['reason'] == 'sysrq: Trigger a crash' and row['dump_bytes'] is None and row['dump_name'] is None


JSON = st.recursive(st.none() | st.booleans() | st.integers(min_value=-2 ** 90, max_value=2 ** 90) | st.floats()
                    | st.text(max_size=8), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
MARKER = st.one_of(JSON, st.fixed_dictionaries({}, optional={
    'dump_name': st.sampled_from(['dump.202611261216', 'vmcore.202611261216', 'dump.202611261216.gz']) | JSON,
    'dump_bytes': st.integers(min_value=-2 ** 70, max_value=2 ** 70) | JSON, 'dump_format': st.sampled_from(['elf']) | JSON}))


@examples(1)
@given(marker=MARKER)
def test_any_pruned_marker_gives_a_storable_row(scratch, marker):
    work = tempfile.mkdtemp(dir=scratch)
    try:
        entry = make_entry(work, 'h', '202611261216', None, extra={'.pruned': json.dumps(marker).encode()})
        parent = fsutil.open_root(work)
        try:
            row = index_module.index_entry(parent, os.path.basename(entry), '202611261216')
        finally:
            os.close(parent)
        store.check_storable(row)
        assert row['state'] == 'pruned'
        if row['error'] is None:
            assert row['dump_name'] in names.final_names('202611261216') and 0 <= row['dump_bytes'] < 2 ** 63
        else:
            assert row['error'].startswith('unreadable .pruned') and row['dump_name'] is None
    finally:
        shutil.rmtree(work)


def test_issue_invalid_utf8_names(tmp_path):
    """Undecodable names inside an entry, as a host directory and as an NFS entry: errors or warnings, the rest indexed."""
    root, export, db = str(tmp_path / 'root'), str(tmp_path / 'export'), str(tmp_path / 'index.db')
    good, _planted = planted_tree(root, [])
    odd = make_entry(os.path.join(root, 'h1'), 'h1', '202611261216', SYSRQ, FLAT)
    open(os.path.join(odd, 'dmesg.202611261216').encode() + b'\xff', 'w').close()
    os.makedirs(os.path.join(root.encode(), b'host\xff', b'host-202611261216'))
    os.makedirs(os.path.join(export.encode(), b't\xff-202611261216'))
    nfs = make_entry(export, 'n1', '202611261216', SYSRQ, FLAT)
    result = index(root, db, '--nfs-dir', export)
    assert b'\\udcff' in result.stderr and printable(result.stderr.decode())
    got = rows(db)
    assert set(got) == set(good + [odd, nfs])
    assert got[odd]['error'] == 'unexpected files: dmesg.202611261216\\udcff' and got[odd]['reason'] == 'sysrq: Trigger a crash'


def test_directory_times_past_what_sqlite_holds(tmp_path):
    """An NFS client may set its directory's time to the year 2400 (nanoseconds past 2**63): indexed all the same."""
    root, db = str(tmp_path / 'root'), str(tmp_path / 'index.db')
    far = make_entry(os.path.join(root, 'h1'), 'h1', '202611261216', SYSRQ, FLAT)
    good = make_entry(os.path.join(root, 'h2'), 'h2', '202611261216', SYSRQ, FLAT)
    when = 2 ** 63 + 10 ** 18
    os.utime(far, ns=(when, when))
    assume_fs = os.stat(far).st_mtime_ns
    if assume_fs < 2 ** 63:
        pytest.skip('this file system cannot hold a time past 2262')
    index(root, db)
    index(root, db)
    got = rows(db)
    assert got[far]['state'] == got[good]['state'] == 'complete' and got[far]['dir_mtime_ns'] is None


# -- 4. FIFOs: nothing ever blocks on a file that is not a regular file -------------------------------------------

def test_open_regular_never_waits_on_a_fifo(tmp_path):
    os.mkfifo(str(tmp_path / 'fifo'))
    fd = fsutil.open_root(str(tmp_path))
    try:
        for flags in (os.O_RDONLY, os.O_WRONLY, os.O_WRONLY | os.O_APPEND | os.O_CREAT, os.O_RDWR):
            with pytest.raises((OSError, fsutil.Refused)):
                fsutil.open_regular(fd, 'fifo', flags)
    finally:
        os.close(fd)


@pytest.fixture
def fleet(tmp_path):
    root, db = str(tmp_path / 'root'), str(tmp_path / 'index.db')
    old = make_entry(os.path.join(root, 'web1'), 'web1', '202611200800', SYSRQ, flat(KDUMP, b'a' * 1000))
    new = make_entry(os.path.join(root, 'web1'), 'web1', '202611210800', SYSRQ, flat(KDUMP, b'b' * 1000))
    index(root, db)
    return tmp_path, root, db, old, new


def test_issue_fifo_pruned_tmp_never_hangs_prune(fleet):
    _tmp, root, db, old, _new = fleet
    os.mkfifo(os.path.join(old, '.pruned.tmp'))
    result = run('prune', '--db', db, '--root', root, '--keep-per-signature', '1', timeout=60)
    assert result.returncode == 0 and b'pruned 1 web1' in result.stdout
    assert sorted(os.listdir(old)) == ['.pruned', '.pruned.tmp', 'dmesg.202611200800']


def test_fifo_as_pruned_marker_is_replaced_not_opened(fleet):
    _tmp, root, db, old, _new = fleet
    os.mkfifo(os.path.join(old, '.pruned'))
    assert run('prune', '--db', db, '--root', root, '--keep-per-signature', '1', timeout=60).returncode == 0
    with open(os.path.join(old, '.pruned'), encoding='utf-8') as handle:
        assert json.load(handle)['dump_name'] == 'dump.202611200800'


@pytest.mark.parametrize('name', ['receive.log', names.INDEX_PENDING])
def test_issue_fifo_in_log_never_hangs_receive(tmp_path, name):
    root = str(tmp_path)
    os.makedirs(os.path.join(root, '.log'))
    os.mkfifo(os.path.join(root, '.log', name))
    result = receive(root, 'mkdir -p /var/crash/t1-202611261216', timeout=60)
    assert result.returncode == 0 and os.path.isdir(os.path.join(root, 'h1', 't1-202611261216'))
    assert b'kdump-collector: log: ' in result.stderr and b'ACCEPT mkdir' in result.stderr


def test_fifos_everywhere_never_hang_index(tmp_path):
    root, db = str(tmp_path / 'root'), str(tmp_path / 'index.db')
    good = make_entry(os.path.join(root, 'h1'), 'h1', '202611261216', SYSRQ, FLAT)
    fifos = make_entry(os.path.join(root, 'h2'), 'h2', '202611261216')
    for name in ('dmesg.202611261216', 'dump.202611261216', '.pruned', 'dump-incomplete.truncated'):
        os.mkfifo(os.path.join(fifos, name))
    pruned = make_entry(os.path.join(root, 'h3'), 'h3', '202611261216')
    os.mkfifo(os.path.join(pruned, '.pruned'))
    os.makedirs(os.path.join(root, '.log'))
    os.mkfifo(os.path.join(root, '.log', names.INDEX_PENDING))
    index(root, db)
    got = rows(db)
    assert got[good]['error'] is None and 'not a regular file' in got[fifos]['error']
    assert 'not a regular file' in got[pruned]['error']
    os.mkfifo(str(tmp_path / 'tagmap'))
    one_line_error(run('index', '--root', root, '--db', db, '--tag-map', str(tmp_path / 'tagmap'), timeout=60))
    os.mkfifo(str(tmp_path / 'fifo.db'))
    for args in (['index', '--root', root], ['list'], ['record', '--host', 'h', '--outcome', 'ok']):
        assert 'not a regular file' in one_line_error(run(*(args + ['--db', str(tmp_path / 'fifo.db')]), timeout=60))


def test_fifo_at_report_and_metrics_outputs_is_replaced(fleet):
    tmp, _root, db, _old, _new = fleet
    for sub, option, name in (('report', '--html', 'report.html'), ('metrics', '--textfile', 'kdump.prom')):
        os.mkfifo(str(tmp / name))
        assert run(sub, '--db', db, option, str(tmp / name), timeout=60).returncode == 0
        assert os.path.isfile(str(tmp / name))


# -- 5. Symlinks: every walk and every write from a directory descriptor, never through a link -------------------

def swap_for_link(path, outside):
    """Move the directory path to outside and leave a symlink to it in its place."""
    shutil.move(path, outside)
    os.symlink(outside, path)


def test_issue_host_dir_swapped_for_symlink_after_index(fleet):
    tmp, root, db, _old, _new = fleet
    outside = str(tmp / 'outside')
    swap_for_link(os.path.join(root, 'web1'), outside)
    before = snapshot(outside)
    result = run('prune', '--db', db, '--root', root, '--max-total-bytes', '0', timeout=60)
    assert result.returncode == 1 and b'not a plain directory' in result.stderr
    assert snapshot(outside) == before
    assert {r['state'] for r in rows(db).values()} == {'complete'}


def test_entry_swapped_for_symlink_after_index(fleet):
    tmp, root, db, old, _new = fleet
    swap_for_link(old, str(tmp / 'outside'))
    before = snapshot(str(tmp / 'outside'))
    result = run('prune', '--db', db, '--root', root, '--keep-per-signature', '1', timeout=60)
    assert result.returncode == 1 and b'not a plain directory' in result.stderr
    assert snapshot(str(tmp / 'outside')) == before


def test_issue_log_dir_symlink(tmp_path):
    """A symlinked ROOT/.log: index never unlinks and receive never writes outside the root."""
    root, db, outside = str(tmp_path / 'root'), str(tmp_path / 'index.db'), str(tmp_path / 'outside')
    make_entry(os.path.join(root, 'h1'), 'h1', '202611261216', SYSRQ, FLAT)
    os.makedirs(outside)
    open(os.path.join(outside, names.INDEX_PENDING), 'w').close()
    os.symlink(outside, os.path.join(root, '.log'))
    before = snapshot(outside)
    result = index(root, db)
    assert b'cannot lower the index flag' in result.stderr
    assert receive(root, 'mkdir -p /var/crash/t1-202611261216').returncode == 0
    assert snapshot(outside) == before


def test_links_at_every_level_of_the_tree_are_never_followed(tmp_path):
    root, db, outside = str(tmp_path / 'root'), str(tmp_path / 'index.db'), str(tmp_path / 'outside')
    make_entry(os.path.join(outside, 'h9'), 'h9', '202611261216', SYSRQ, FLAT)
    good = make_entry(os.path.join(root, 'h1'), 'h1', '202611261216', SYSRQ, FLAT)
    os.symlink(os.path.join(outside, 'h9'), os.path.join(root, 'h9'))
    os.symlink(os.path.join(outside, 'h9', 'h9-202611261216'), os.path.join(root, 'h1', 'h1-202611261217'))
    os.symlink(os.path.join(outside, 'h9', 'h9-202611261216'), os.path.join(root, 'h2-202611261216'))
    result = index(root, db)
    assert result.stderr.count(b'not a plain directory') == 3 and set(rows(db)) == {good}


# -- 6. One host against another ---------------------------------------------------------------------------------

@pytest.mark.parametrize('stamp', ['209912312359', stamp_from_now(days=2)], ids=['2099', 'two-days-ahead'])
def test_issue_far_future_stamps_refused(tmp_path, stamp):
    root = str(tmp_path)
    for command in ('mkdir -p /var/crash/t1-%s' % stamp, 'dd of=/var/crash/t1-%s/dump-incomplete' % stamp,
                    'mv /var/crash/t1-{0}/dump-incomplete /var/crash/t1-{0}/dump.{0}'.format(stamp)):
        result = receive(root, command, input_bytes=b'')
        assert result.returncode == 1 and b'ahead of the collector clock' in result.stderr, command
    assert not os.path.exists(os.path.join(root, 'h1'))


def test_stamps_of_hosts_east_of_utc_accepted(tmp_path):
    """kdump-tools stamps in the host's local time: UTC+14 is up to 14 hours ahead of the collector."""
    assert receive(str(tmp_path), 'mkdir -p /var/crash/t1-' + stamp_from_now(hours=20)).returncode == 0


def upload(root, host, stamp, dmesg_text):
    """What kdump-tools sends for one crash, through receive, as host."""
    entry = '/var/crash/%s-%s' % (host, stamp)
    assert receive(root, 'mkdir -p ' + entry, host=host, tags=(host,)).returncode == 0
    if dmesg_text is not None:
        path = os.path.join(root, host, '%s-%s' % (host, stamp), 'dmesg.' + stamp)
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(dmesg_text)
    assert receive(root, 'dd of=%s/dump-incomplete' % entry, host=host, tags=(host,), input_bytes=FLAT).returncode == 0
    assert receive(root, 'mv {0}/dump-incomplete {0}/dump.{1}'.format(entry, stamp), host=host, tags=(host,)).returncode == 0


@pytest.mark.parametrize('dmesg_text', [SYSRQ, None], ids=['copied-dmesg', 'no-dmesg'])
def test_issue_copies_of_another_hosts_dmesg_never_prune_its_dumps(tmp_path, dmesg_text):
    """web1 crashed twice; evil uploads copies of web1's dmesg (or dumps without dmesg) under newer stamps: retention
    treats web1's dumps exactly as it would without evil."""
    def web1_after_prune(base, with_evil):
        root, db = str(base / 'root'), str(base / 'index.db')
        os.makedirs(root)
        for stamp in ('202611200800', '202611210800'):
            upload(root, 'web1', stamp, dmesg_text)
        if with_evil:
            for number in range(4):
                upload(root, 'evil', stamp_from_now(hours=number + 1), dmesg_text)
        index(root, db)
        assert run('prune', '--db', db, '--root', root, '--keep-per-signature', '1').returncode == 0
        return {r['stamp']: r['state'] for r in rows(db).values() if r['host'] == 'web1'}

    alone = web1_after_prune(tmp_path / 'alone', False)
    assert alone == {'202611200800': 'pruned', '202611210800': 'complete'}
    assert web1_after_prune(tmp_path / 'attacked', True) == alone


ISO = st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31)).map(
    lambda d: d.strftime(names.TIME_FORMAT))
ROW = st.fixed_dictionaries({
    'host': st.sampled_from(['web1', 'web2', 'evil']), 'signature': st.sampled_from([None, 'aaa', 'bbb']),
    'state': st.sampled_from(['complete', 'incomplete']), 'time': st.none() | ISO, 'first_seen': ISO,
    'dump_bytes': st.integers(min_value=0, max_value=2 ** 40)})


@examples(3)
@given(fleet_rows=st.lists(ROW, max_size=30), keep=st.integers(min_value=1, max_value=4))
def test_keep_per_signature_never_depends_on_another_host(fleet_rows, keep):
    """The dumps keep-per-signature prunes of one host are the same whatever the other hosts uploaded."""
    for number, row in enumerate(fleet_rows):
        row['id'] = number + 1
    args = argparse.Namespace(keep_per_signature=keep, max_total_bytes=None, min_free_bytes=None)
    chosen = {row['id'] for row, _why in prune.plan_prune(fleet_rows, args, 0)}
    for host in ('web1', 'web2', 'evil'):
        own = [r for r in fleet_rows if r['host'] == host]
        assert {r['id'] for r in own} & chosen == {row['id'] for row, _why in prune.plan_prune(own, args, 0)}


def test_far_future_stamp_ordered_by_arrival(tmp_path):
    """A dump stamped 2099 (an NFS client, a broken clock) and seen first is the older one: it is not kept as the
    newest of its signature while the dumps that really came later are pruned."""
    root, db = str(tmp_path / 'root'), str(tmp_path / 'index.db')
    future = make_entry(root, 'n1', '209912312359', SYSRQ, FLAT)
    index(root, db)
    later = [make_entry(root, 'n1', stamp_from_now(hours=h), SYSRQ, FLAT) for h in (1, 2)]
    index(root, db)
    assert run('prune', '--db', db, '--root', root, '--keep-per-signature', '1').returncode == 0
    got = rows(db)
    assert [got[e]['state'] for e in [future] + later] == ['pruned', 'pruned', 'complete']


def test_size_caps_take_from_the_host_holding_the_most(tmp_path):
    """A host flooding the collector with dumps newer than everyone else's loses its own dumps to the size cap."""
    root, db = str(tmp_path / 'root'), str(tmp_path / 'index.db')
    dump = flat(KDUMP, b'x' * 1000)
    web1 = [make_entry(os.path.join(root, 'web1'), 'web1', stamp, SYSRQ.replace('sysrq', s), dump)
            for stamp, s in (('202611010800', 'a'), ('202611020800', 'b'))]
    for hours in range(1, 7):
        upload(root, 'evil', stamp_from_now(hours=hours), SYSRQ)
    index(root, db)
    result = run('prune', '--db', db, '--root', root, '--max-total-bytes', str(3 * len(dump)))
    assert result.returncode == 0 and result.stdout.count(b'evil holds the most') == 5
    got = rows(db)
    assert [got[e]['state'] for e in web1] == ['complete', 'complete']
    assert sorted(r['state'] for r in got.values() if r['host'] == 'evil') == ['complete'] + ['pruned'] * 5


# -- 7. Operator input: one-line errors, never a traceback -------------------------------------------------------

@pytest.mark.parametrize('args', [
    ['show', '18446744073709551616'],
    ['record', '--host', 'h', '--outcome', 'ok', '--dump-id', '18446744073709551616'],
    ['list', '--since', '0001-01-01T00:00:00+01:00'],
    ['list', '--since', '9999-12-31T23:59:59-01:00'],
    ['show', '-1'],
    ['prune', '--root', '.', '--keep-per-signature', '18446744073709551616'],
    ['prune', '--root', '.', '--max-total-bytes', '99999999999P'],
    ['prune', '--root', 'missing'],
    ['report', '--html', 'missing/report.html'],
    ['metrics', '--textfile', 'plain.txt/kdump.prom'],
    ['index', '--root', '.', '--tag-map', 'plain.txt'],
    ['index', '--root', '.', '--tag-map', 'missing'],
    ['list', '--host', '\udcff'],
], ids=lambda args: ' '.join(args).encode('ascii', 'backslashreplace').decode())
def test_issue_operator_input_gives_one_line_errors(fleet, args):
    tmp, _root, db, _old, _new = fleet
    (tmp / 'plain.txt').write_text('{"not": "closed"')
    argv = [os.fsencode(a) for a in args + ['--db', db]]
    one_line_error(run(*argv, cwd=str(tmp)))


# Relative to a fresh copy of a small collector tree (the forked child's directory), so nothing outside it is touched.
PATHS = ('root', 'index.db', 'new.db', 'plain.txt', 'tagmap.json', 'emptydir', 'fifo', 'link', 'missing', 'missing/x/y',
         'root/web1', '.', 'out.html', 'root/.log/receive.log')
ODD_VALUES = (
    '18446744073709551616', '9223372036854775807', '9223372036854775808', '-1', '0', '1_000', '\u0661\u0662', '1K',
    '1KiB', ' 1 G ', '8E', '7P', '1' * 5000, '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-01:00', '2026-02-30',
    '2026-11-26T12:00:00Z', TERMINAL_ATTACK, '\udcff', 'a\nb', '\u202e', '', ' ', '-', 'ok', 'failed', 'h1', 't1',
)
COMMANDS = st.one_of(st.text(max_size=40).filter(lambda t: '\0' not in t), st.sampled_from([
    'mkdir -p /var/crash/t1-{0}', 'dd of=/var/crash/t1-{0}/dump-incomplete', 'mv /var/crash/t1-{0}/dump-incomplete '
    '/var/crash/t1-{0}/dump.{0}', 'scp -t /var/crash/t1-{0}/dmesg.{0}', 'internal-sftp', 'mkdir -p /var/crash/t1-{1}',
]).map(lambda c: c.format('202611261216', '209912312359')))
ZONES = st.none() | st.sampled_from([datetime.timezone.utc, datetime.timezone(datetime.timedelta(hours=1)),
                                     datetime.timezone(datetime.timedelta(hours=-14))])
VALUES = st.one_of(
    st.sampled_from(PATHS), st.sampled_from(ODD_VALUES),
    st.text(max_size=24).filter(lambda t: not t.startswith('/') and '..' not in t and '\0' not in t),
    st.integers(min_value=-2 ** 80, max_value=2 ** 80).map(str),
    st.datetimes(timezones=ZONES).map(lambda d: d.isoformat()),
)
SUBPARSERS = next(a for a in cli.build_parser()._actions  # pylint: disable=protected-access
                  if isinstance(a, argparse._SubParsersAction)).choices  # pylint: disable=protected-access


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    """A collector tree to copy for every example: two hosts, a hostile reason, an index with a crash test."""
    base = str(tmp_path_factory.mktemp('world'))
    root = os.path.join(base, 'root')
    hostile = SYSRQ.replace('sysrq: Trigger a crash', 'sysrq: Trigger a crash ' + TERMINAL_ATTACK)
    make_entry(os.path.join(root, 'web1'), 'web1', '202611200800', hostile, flat(KDUMP, b'a' * 100))
    make_entry(os.path.join(root, 'web1'), 'web1', '202611210800', hostile, flat(KDUMP, b'b' * 100))
    make_entry(os.path.join(root, 'h1'), 't1', '202611220800', None, FLAT)
    os.makedirs(os.path.join(base, 'emptydir'))
    with open(os.path.join(base, 'plain.txt'), 'w', encoding='utf-8') as handle:
        handle.write('{"unclosed": ')
    with open(os.path.join(base, 'tagmap.json'), 'w', encoding='utf-8') as handle:
        json.dump({'t1': 'h1'}, handle)
    index(root, os.path.join(base, 'index.db'))
    assert run('record', '--db', os.path.join(base, 'index.db'), '--host', 'web1', '--outcome', 'ok', '--dump-id', '1',
               '--detail', TERMINAL_ATTACK).returncode == 0
    return base


def draw_argv(data, name):
    """argv for subcommand name: each of its options (from the parser, so new ones are audited too) left out, or
    given once or twice with a value of any kind."""
    argv = [name]
    for action in SUBPARSERS[name]._actions:  # pylint: disable=protected-access
        if isinstance(action, argparse._HelpAction):  # pylint: disable=protected-access
            continue
        if not action.option_strings:
            argv.append(data.draw(VALUES))
        elif action.nargs == 0:
            if data.draw(st.booleans()):
                argv.append(action.option_strings[0])
        else:
            for _time in range(data.draw(st.sampled_from([0, 1, 1, 1, 2] if action.required else [0, 0, 1, 2]))):
                choice = action.choices and data.draw(st.booleans())
                argv += [action.option_strings[-1], data.draw(st.sampled_from(action.choices) if choice else VALUES)]
    return argv


@examples(0.25)
@pytest.mark.parametrize('name', sorted(SUBPARSERS))
@given(data=st.data())
def test_every_option_of_every_subcommand(world, scratch, name, data):
    """Whatever the values, each subcommand ends with its result or one-line errors: no traceback, no hang, no control
    character on the terminal, valid JSON when asked for JSON."""
    argv = draw_argv(data, name)
    env = {'SSH_ORIGINAL_COMMAND': data.draw(COMMANDS)} if name == 'receive' else {}
    work = tempfile.mkdtemp(dir=scratch)
    try:
        shutil.copytree(world, work, symlinks=True, dirs_exist_ok=True)
        os.mkfifo(os.path.join(work, 'fifo'))
        os.symlink('fifo', os.path.join(work, 'link'))
        status, out, err = call(argv, work, env)
        note('argv %r: %d\n%s%s' % (argv, status, out, err))
        assert status in (0, 1, 2) and 'Traceback' not in err
        assert printable(out) and printable(err)
        assert status == 0 or err, 'a failure says why'
        assert all(line.startswith(NAME) for line in err.splitlines()), 'one-line errors, each naming the program'
        if status == 0 and '--json' in argv:
            json.loads(out)
    finally:
        shutil.rmtree(work)


# -- Regular expressions: every pattern of the collector anchors at the very end with \Z, never with $ ------------

def package_patterns():
    """Every regular expression literal of the collector package: re.compile/match/... arguments and *_RE constants."""
    found = []
    for name in sorted(os.listdir(PACKAGE)):
        if not name.endswith('.py'):
            continue
        with open(os.path.join(PACKAGE, name), encoding='utf-8') as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == 're'):
                try:
                    found.append((name, node.lineno, ast.literal_eval(node.args[0])))
                except ValueError:
                    # Built from parts (TRIGGER_RE): checked as compiled below.
                    pass
    for module in sys.modules.values():
        if getattr(module, '__name__', '').startswith('kdump_collector.'):
            found += [(module.__name__, key, value.pattern) for key, value in vars(module).items()
                      if isinstance(value, re.Pattern)]
    return found


def end_anchors(pattern):
    """The AT codes of a parsed pattern ($ is AT_END, \\Z is AT_END_STRING)."""
    try:
        from re import _parser as parser  # pylint: disable=import-outside-toplevel
    except ImportError:  # Python < 3.11
        import sre_parse as parser  # pylint: disable=import-outside-toplevel,deprecated-module

    def walk(items):
        for opcode, arg in items:
            if str(opcode) == 'AT':
                yield str(arg)
            for sub in arg if isinstance(arg, (list, tuple)) else ():
                if isinstance(sub, parser.SubPattern):
                    yield from walk(sub)
                elif isinstance(sub, (list, tuple)):
                    for inner in sub:
                        if isinstance(inner, parser.SubPattern):
                            yield from walk(inner)
            if isinstance(arg, parser.SubPattern):
                yield from walk(arg)
    return set(walk(parser.parse(pattern)))


def test_no_collector_pattern_uses_dollar():
    patterns = package_patterns()
    assert len(patterns) > 20
    bad = [(where, line, pattern) for where, line, pattern in patterns if 'AT_END' in end_anchors(pattern)]
    assert not bad, bad
    assert 'AT_END' in end_anchors('a$') and 'AT_END_STRING' in end_anchors(r'(?:a|b\Z)')
