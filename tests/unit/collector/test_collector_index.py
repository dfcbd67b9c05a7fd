# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kdump-collector index and the dmesg analysis behind it."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import sqlite3

import pytest

from kdump_collector import cli, dumpfile, fsutil, names, store, triage
from kdump_collector import index as index_module
from collector_helpers import ELF, FLAT, FLAT_HEADER, KDUMP, fixture_text, flat, make_entry, run


def index(root, db, *extra):
    result = run('index', '--root', root, '--db', db, *extra)
    assert result.returncode == 0, result.stderr
    return result


def rows(db):
    conn = store.open_db(db)
    return {r['path']: dict(r) for r in conn.execute('SELECT * FROM dumps')}


def test_index_rows_carry_the_triage(tmp_path):
    """Each dump's row holds what triage says of its dmesg, by the pinned names."""
    root = str(tmp_path / 'root')
    db = str(tmp_path / 'index.db')
    paths = {}
    for num, name in enumerate(('dmesg-sysrq-6.1.txt', 'dmesg-null-module.txt', 'dmesg-hung-task.txt',
                                'dmesg-soft-lockup.txt')):
        paths[name] = make_entry(os.path.join(root, 'h%d' % num), 'h%d' % num, '20261126120%d' % num, fixture_text(name), FLAT)
    index(root, db)
    got = rows(db)
    for name, path in paths.items():
        facts = triage.analyse(fixture_text(name))
        row = got[path]
        for key in ('kernel', 'reason', 'rip', 'taint', 'title', 'kind', 'guilty_frame', 'signature', 'report'):
            assert row[key] == facts[key], (name, key)
        assert json.loads(row['frames']) == facts['frames'] and row['corrupted'] == 0
    assert got[paths['dmesg-sysrq-6.1.txt']]['title'] == 'kernel panic: sysrq triggered crash'


def test_index_of_a_version_1_index_adds_triage_once(tmp_path):
    """An index written before triage (no title columns, user_version 1) gets the columns and every dmesg read again."""
    root = str(tmp_path / 'root')
    db = str(tmp_path / 'index.db')
    entry = make_entry(os.path.join(root, 'h'), 'h', '202611261216', fixture_text('dmesg-null-module.txt'), FLAT)
    bare = make_entry(os.path.join(root, 'h'), 'h', '202611261217', None, FLAT)
    conn = sqlite3.connect(db)
    with conn:
        conn.executescript(OLD_SCHEMA)
        for path, stamp, dmesg_bytes in ((entry, '202611261216', 100), (bare, '202611261217', None)):
            conn.execute("INSERT INTO dumps (path, host, tag, stamp, state, dmesg_bytes, reason, signature, dir_mtime_ns, "
                         "fingerprint) VALUES (?, 'h', 'h', ?, 'complete', ?, 'old reason', 'abcdef012345', ?, 'x')",
                         (path, stamp, dmesg_bytes, os.stat(path).st_mtime_ns))
        conn.execute('PRAGMA user_version = 1')
    conn.close()
    assert b'0 new, 1 updated, 1 unchanged' in index(root, db).stdout
    row = rows(db)[entry]
    assert (row['title'], row['kind'], row['guilty_frame'], row['corrupted']) == (
        'BUG: unable to handle kernel NULL pointer dereference in fleetdrv_ioctl',
        'BUG: unable to handle kernel NULL pointer dereference', 'fleetdrv_ioctl', 0)
    assert row['signature'] == triage.signature(row['title']) and row['reason'].startswith('BUG: kernel NULL pointer')
    assert store.open_db(db).execute('PRAGMA user_version').fetchone()[0] == store.ANALYSIS_VERSION == 2
    assert b'0 new, 0 updated, 2 unchanged' in index(root, db).stdout


# The dumps table as the first release wrote it.
OLD_SCHEMA = """
CREATE TABLE dumps (
    id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE, host TEXT, tag TEXT, stamp TEXT, time TEXT,
    state TEXT NOT NULL, dump_name TEXT, dump_bytes INTEGER, dump_format TEXT, dmesg_bytes INTEGER, kernel TEXT,
    reason TEXT, rip TEXT, taint TEXT, frames TEXT, signature TEXT, truncated INTEGER NOT NULL DEFAULT 0, error TEXT,
    dir_mtime_ns INTEGER, fingerprint TEXT, first_seen TEXT, indexed TEXT);
"""


def test_known_issues_kept_in_the_index(tmp_path):
    root = str(tmp_path / 'root')
    db = str(tmp_path / 'index.db')
    make_entry(os.path.join(root, 'h'), 'h', '202611261216', fixture_text('dmesg-sysrq-6.1.txt'), FLAT)
    issues = tmp_path / 'known.json'
    issues.write_text(json.dumps([{'title': 'kernel panic: sysrq triggered crash', 'url': 'https://bugs.example/1',
                                   'note': 'crash tests'}]))
    index(root, db, '--known-issues', str(issues))
    conn = store.open_db(db)
    assert [tuple(r) for r in conn.execute('SELECT title, pattern, url, note FROM known_issues')] == [
        ('kernel panic: sysrq triggered crash', None, 'https://bugs.example/1', 'crash tests')]
    for bad in ('[{"pattern": "(", "url": "https://x"}]', '[{"title": "t", "url": "javascript:alert(1)"}]',
                '[{"title": "t", "pattern": "t", "url": "https://x"}]', '{"title": "t"}', 'not json'):
        issues.write_text(bad)
        result = index(root, db, '--known-issues', str(issues))
        assert b'not applied, the known issues stay as they were' in result.stderr
        assert conn.execute('SELECT COUNT(*) FROM known_issues').fetchone()[0] == 1
    issues.write_text('[]')
    index(root, db, '--known-issues', str(issues))
    assert conn.execute('SELECT COUNT(*) FROM known_issues').fetchone()[0] == 0


@pytest.mark.parametrize('data,expected', [
    (FLAT, 'makedumpfile-flattened'),
    (KDUMP, 'kdump-compressed'),
    (ELF, 'elf'),
    (gzip.compress(FLAT), 'makedumpfile-flattened+gzip'),
    (bz2.compress(KDUMP), 'kdump-compressed+bzip2'),
    (lzma.compress(ELF), 'elf+xz'),
    (b'\x04\x22\x4d\x18' + b'\0' * 100, 'lz4'),
    (b'\x1f\x8b\x08garbage', 'gzip'),
    (b'makedumpfile', 'unknown'),
    (b'hello world', 'unknown'),
])
def test_dump_format_by_magic(tmp_path, data, expected):
    (tmp_path / 'dump').write_bytes(data)
    fd = os.open(str(tmp_path), os.O_RDONLY)
    try:
        assert dumpfile.dump_format(fd, 'dump') == expected
    finally:
        os.close(fd)


def test_index_layouts_states_and_incremental(tmp_path):
    root = str(tmp_path / 'root')
    db = str(tmp_path / 'index.db')
    sysrq, null = fixture_text('dmesg-sysrq-6.1.txt'), fixture_text('dmesg-null-module.txt')
    complete = make_entry(os.path.join(root, 'web1'), '10.0.2.15', '202611261216', sysrq, FLAT)
    gz = make_entry(os.path.join(root, 'web1'), '10.0.2.15', '202611270930', null, gzip.compress(FLAT),
                    dump_name='dump.202611270930.gz')
    empty = make_entry(os.path.join(root, 'db1'), 'db1', '202611250101', sysrq, b'')
    partial = make_entry(os.path.join(root, 'db1'), 'db1', '202611250202', sysrq, FLAT[:100], dump_name='dump-incomplete')
    vmcore = make_entry(os.path.join(root, 'db1'), 'db1', '202611250303', None, ELF, dump_name='vmcore.202611250303')
    nfs = make_entry(root, 'nfshost-tag', '202611240000', null, KDUMP)
    export = str(tmp_path / 'export')
    nfs2 = make_entry(export, 'other', '202611230000', None, KDUMP)
    tag_map = tmp_path / 'tags.json'
    tag_map.write_text(json.dumps({'nfshost-tag': 'nfshost', 'other': 'otherhost'}))
    extra = ('--tag-map', str(tag_map), '--nfs-dir', export)
    out = index(root, db, *extra)
    assert b'7 new' in out.stdout
    got = rows(db)
    assert store.open_db(db).execute('PRAGMA journal_mode').fetchone()[0] == 'wal'
    assert {p: (r['host'], r['state']) for p, r in got.items()} == {
        complete: ('web1', 'complete'), gz: ('web1', 'complete'), empty: ('db1', 'empty'), partial: ('db1', 'incomplete'),
        vmcore: ('db1', 'complete'), nfs: ('nfshost', 'complete'), nfs2: ('otherhost', 'complete')}
    row = got[complete]
    assert (row['tag'], row['stamp'], row['time'], row['dump_bytes'], row['dump_format']) == (
        '10.0.2.15', '202611261216', '2026-11-26T12:16:00Z', len(FLAT), 'makedumpfile-flattened')
    assert row['dmesg_bytes'] == len(sysrq) and row['kernel'] == '6.1.0-27-amd64' and row['reason'] == 'sysrq: Trigger a crash'
    assert json.loads(row['frames'])[0] == 'sysrq_handle_crash' and row['error'] is None
    assert got[gz]['dump_format'] == 'makedumpfile-flattened+gzip' and got[gz]['rip'] == 'fleetdrv_ioctl'
    assert got[vmcore]['dump_format'] == 'elf' and got[vmcore]['dmesg_bytes'] is None
    ids = {p: r['id'] for p, r in got.items()}

    out = index(root, db, *extra)
    assert b'0 new, 0 updated, 7 unchanged' in out.stdout
    # The incomplete upload finishes: only that entry is re-read.
    with open(os.path.join(partial, 'dump-incomplete'), 'ab') as handle:
        handle.write(FLAT[100:])
    os.rename(os.path.join(partial, 'dump-incomplete'), os.path.join(partial, 'dump.202611250202'))
    newer = make_entry(os.path.join(root, 'web1'), '10.0.2.15', '202611280000', sysrq, FLAT)
    out = index(root, db, *extra)
    assert b'1 new, 1 updated, 6 unchanged' in out.stdout
    got = rows(db)
    assert got[partial]['state'] == 'complete' and got[partial]['dump_name'] == 'dump.202611250202'
    assert got[newer]['signature'] == got[complete]['signature']
    assert all(got[p]['id'] == i for p, i in ids.items())


def test_growing_incomplete_dump_is_rescanned(tmp_path):
    root = str(tmp_path / 'root')
    db = str(tmp_path / 'index.db')
    entry = make_entry(os.path.join(root, 'h'), 'h', '202611261216', None, b'x' * 10, dump_name='dump-incomplete')
    index(root, db)
    with open(os.path.join(entry, 'dump-incomplete'), 'ab') as handle:
        handle.write(b'y' * 10)
    index(root, db)
    assert rows(db)[entry]['dump_bytes'] == 20


def test_dump_still_being_received_is_incomplete_without_reading_it(tmp_path):
    root = str(tmp_path / 'root')
    db = str(tmp_path / 'index.db')
    entry = make_entry(os.path.join(root, 'h'), 'h', '202611261216', None, FLAT, dump_name='dump-incomplete')
    os.chmod(os.path.join(entry, 'dump-incomplete'), fsutil.BUSY_MODE)
    index(root, db)
    row = rows(db)[entry]
    assert (row['state'], row['dump_format']) == ('incomplete', None)
    assert 'dump-incomplete is still being received' in row['error']


def test_index_lowers_the_pending_flag_before_its_pass(tmp_path, monkeypatch):
    """A request landing during the run (after the flag is lowered) raises it again, so the path unit runs index once
    more: the flag must be gone before the scan starts, not after it."""
    root = str(tmp_path / 'root')
    db = str(tmp_path / 'index.db')
    make_entry(os.path.join(root, 'h'), 'h', '202611261216', None, FLAT)
    flag = os.path.join(root, '.log', names.INDEX_PENDING)
    os.makedirs(os.path.dirname(flag))
    open(flag, 'w').close()
    real_pass, seen = index_module.index_pass, []

    def watched_pass(*args):
        seen.append(os.path.exists(flag))
        return real_pass(*args)

    monkeypatch.setattr(index_module, 'index_pass', watched_pass)
    assert cli.main(['index', '--root', root, '--db', db]) == 0
    assert seen == [False]
    assert not os.path.exists(flag)
    assert [r['state'] for r in rows(db).values()] == ['complete']


def test_garbage_never_stops_the_index(tmp_path):
    root = str(tmp_path / 'root')
    db = str(tmp_path / 'index.db')
    good = make_entry(os.path.join(root, 'h'), 'h', '202611261216', fixture_text('dmesg-sysrq-6.1.txt'), FLAT)
    binary = make_entry(os.path.join(root, 'h'), 'h', '202611261217', os.urandom(20000), FLAT)
    outside = tmp_path / 'secret.txt'
    outside.write_text(fixture_text('dmesg-null-module.txt'))
    linked = make_entry(os.path.join(root, 'h'), 'h', '202611261218', None, FLAT)
    os.symlink(str(outside), os.path.join(linked, 'dmesg.202611261218'))
    dumplink = make_entry(os.path.join(root, 'h'), 'h', '202611261219', fixture_text('dmesg-sysrq-6.1.txt'))
    os.symlink(str(outside), os.path.join(dumplink, 'dump.202611261219'))
    odd = make_entry(os.path.join(root, 'h'), 'h', '202611261220', None, FLAT, extra={'evil;rm -rf': b'', 'core': b'x'})
    badstamp = make_entry(os.path.join(root, 'h'), 'h', '202613999999', None, FLAT)
    huge_text = ('[    1.000000] filler line of a very chatty driver ' + 'z' * 60 + '\n') * 60000
    huge = make_entry(os.path.join(root, 'h'), 'h', '202611261221', huge_text + fixture_text('dmesg-soft-lockup.txt'), FLAT)
    cut = make_entry(os.path.join(root, 'h'), 'h', '202611261222', fixture_text('dmesg-null-module.txt')[:2500], FLAT[:10])
    os.symlink(str(tmp_path), os.path.join(root, 'h', 'h-202611261223'))
    os.makedirs(os.path.join(root, 'h', 'not-an-entry'))
    os.symlink(str(tmp_path), os.path.join(root, 'linkedhost'))
    result = index(root, db)
    assert b'warning' in result.stderr
    got = rows(db)
    assert set(got) == {good, binary, linked, dumplink, odd, badstamp, huge, cut}
    assert got[good]['error'] is None and got[good]['reason'] == 'sysrq: Trigger a crash'
    assert 'binary' in got[binary]['error'] and got[binary]['state'] == 'complete'
    assert 'not a regular file' in got[linked]['error'] and got[linked]['reason'] is None
    assert 'not a regular file' in got[dumplink]['error'] and got[dumplink]['state'] == 'incomplete'
    assert 'unexpected files' in got[odd]['error']
    assert 'invalid stamp' in got[badstamp]['error'] and got[badstamp]['time'] is None
    assert 'head and tail' in got[huge]['error'] and got[huge]['rip'] == 'native_queued_spin_lock_slowpath'
    assert got[huge]['dmesg_bytes'] > 5 * 1024 * 1024
    assert got[cut]['kernel'] == '6.1.0-18-amd64' and got[cut]['dump_format'] == 'unknown'


def test_truncated_marker_and_missing_entry(tmp_path):
    root = str(tmp_path / 'root')
    db = str(tmp_path / 'index.db')
    trunc = make_entry(os.path.join(root, 'h'), 'h', '202611261216', None, FLAT, dump_name='dump-incomplete',
                       extra={'dump-incomplete.truncated': b''})
    gone = make_entry(os.path.join(root, 'h'), 'h', '202611261217', None, FLAT)
    index(root, db)
    os.unlink(os.path.join(gone, 'dump.202611261217'))
    os.rmdir(gone)
    index(root, db)
    got = rows(db)
    assert got[trunc]['truncated'] == 1 and got[trunc]['state'] == 'incomplete' and 'quota' in got[trunc]['error']
    assert got[gone]['state'] == 'missing'


CUT = flat(KDUMP, b'p' * 8192)


@pytest.mark.parametrize('data', [CUT[:-16], CUT[:-1000], FLAT_HEADER], ids=['end-header-missing', 'last-block-cut', 'header-only'])
def test_flattened_dump_cut_short_is_incomplete(tmp_path, data):
    """kdump-tools renames the file even when makedumpfile was killed: only the end marker proves it whole."""
    root = str(tmp_path / 'root')
    db = str(tmp_path / 'index.db')
    whole = make_entry(os.path.join(root, 'h'), 'h', '202611261216', fixture_text('dmesg-sysrq-6.1.txt'), CUT)
    cut = make_entry(os.path.join(root, 'h'), 'h', '202611261217', fixture_text('dmesg-sysrq-6.1.txt'), data)
    index(root, db)
    got = rows(db)
    assert (got[whole]['state'], got[whole]['error']) == ('complete', None)
    row = got[cut]
    assert (row['state'], row['dump_name'], row['dump_bytes'], row['dump_format']) == (
        'incomplete', 'dump.202611261217', len(data), 'makedumpfile-flattened')
    assert row['error'].startswith("dump.202611261217 ends without makedumpfile's end marker: makedumpfile stopped before")
    assert 'grow crashkernel=' in row['error'] and row['reason'] == 'sysrq: Trigger a crash'
    # The renamed file never changes again: an incremental pass does not read it.
    assert b'0 new, 0 updated, 2 unchanged' in index(root, db).stdout


@pytest.mark.parametrize('name, data, fmt', [
    ('dump.202611261216.gz', gzip.compress(CUT[:-1000]), 'makedumpfile-flattened+gzip'),
    ('dump.202611261216.bz2', bz2.compress(CUT[:-1000]), 'makedumpfile-flattened+bzip2'),
    ('dump.202611261216.xz', lzma.compress(CUT[:-1000]), 'makedumpfile-flattened+xz'),
    ('dump.202611261216.lz4', b'\x04\x22\x4d\x18' + b'\0' * 100, 'lz4'),
    ('dump.202611261216', KDUMP[:100], 'kdump-compressed'),
    ('vmcore.202611261216', ELF[:100], 'elf'),
])
def test_unchecked_formats_stay_complete(tmp_path, name, data, fmt):
    """No cheap end check for compressed wrappers, kdump-compressed or ELF: the final name still means complete."""
    root = str(tmp_path / 'root')
    db = str(tmp_path / 'index.db')
    entry = make_entry(os.path.join(root, 'h'), 'h', '202611261216', None, data, dump_name=name)
    index(root, db)
    row = rows(db)[entry]
    assert (row['state'], row['dump_format'], row['error']) == ('complete', fmt, None)


def test_end_marker_read_from_the_tail_only(tmp_path, monkeypatch):
    (tmp_path / 'dump').write_bytes(CUT)
    reads, real_pread = [], os.pread
    monkeypatch.setattr(os, 'pread', lambda fd, size, offset: reads.append((size, offset)) or real_pread(fd, size, offset))
    fd = os.open(str(tmp_path), os.O_RDONLY)
    try:
        assert dumpfile.flat_end_present(fd, 'dump') is True
    finally:
        os.close(fd)
    assert reads == [(16, len(CUT) - 16)]


def test_index_of_an_older_version_checks_its_complete_flattened_dumps_again(tmp_path):
    """Rows written before the end-marker check are analysed again once; other complete rows are left alone."""
    root = str(tmp_path / 'root')
    db = str(tmp_path / 'index.db')
    cut = make_entry(os.path.join(root, 'h'), 'h', '202611261216', None, CUT[:-1000])
    whole = make_entry(os.path.join(root, 'h'), 'h', '202611261217', None, CUT)
    gz = make_entry(os.path.join(root, 'h'), 'h', '202611261218', None, gzip.compress(CUT), dump_name='dump.202611261218.gz')
    index(root, db)
    conn = store.open_db(db)
    with conn:
        conn.execute("UPDATE dumps SET state = 'complete', error = NULL")
        conn.execute('PRAGMA user_version = 0')
    conn.close()
    assert b'0 new, 2 updated, 1 unchanged' in index(root, db).stdout
    assert {p: r['state'] for p, r in rows(db).items()} == {cut: 'incomplete', whole: 'complete', gz: 'complete'}
    assert store.open_db(db).execute('PRAGMA user_version').fetchone()[0] == store.ANALYSIS_VERSION
    assert b'0 new, 0 updated, 3 unchanged' in index(root, db).stdout


def test_unmounted_export_and_missing_root(tmp_path):
    root = str(tmp_path / 'root')
    db = str(tmp_path / 'index.db')
    export = tmp_path / 'export'
    entry = make_entry(str(export), 'n1', '202611261216', None, FLAT)
    os.makedirs(root)
    index(root, db, '--nfs-dir', str(export))
    os.rename(str(export), str(tmp_path / 'unmounted'))
    result = index(root, db, '--nfs-dir', str(export))
    assert b'not a directory, skipped' in result.stderr
    assert rows(db)[entry]['state'] == 'complete'
    missing = run('index', '--root', str(tmp_path / 'nope'), '--db', db)
    assert missing.returncode != 0 and b'is not a directory' in missing.stderr


def test_index_help():
    result = run('index', '--help')
    assert result.returncode == 0 and b'--tag-map' in result.stdout
