# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""index: scan the collector root and bring the SQLite index up to date (incremental, idempotent)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import sys
import time

from kdump_collector import INT64_MAX, PROG, known
from kdump_collector.dmesg import DMESG_HEAD, DMESG_TAIL, decode_dmesg
from kdump_collector.dumpfile import dump_format, flat_end_present
from kdump_collector.fsutil import Refused, open_dir, open_regular, open_root, read_bounded
from kdump_collector.names import (ENTRY_RE, INDEX_PENDING, NAME_RE, PROBE_STAMP, PRUNED_MARKER, TRUNC_SUFFIX,
                                   final_names, is_final_name, now_text, partial_names, stamp_time)
from kdump_collector.store import ANALYSIS_VERSION, FINAL_STATES, ROW_FIELDS, check_storable, int64_or_none, open_db
from kdump_collector.textout import safe
from kdump_collector.triage import analyse

TAG_MAP_BYTES = 1024 * 1024
# prune writes a marker of about 150 bytes.
MARKER_BYTES = 4096
FORMAT_RE = re.compile(r'[a-z0-9+-]{1,64}\Z')
COMMIT_SECONDS = 10


def load_tag_map(path):
    if not path:
        return {}
    try:
        fd = open_regular(None, path, follow=True)
        with os.fdopen(fd, encoding='utf-8') as handle:
            data = json.loads(handle.read(TAG_MAP_BYTES))
    except OSError as exc:
        raise SystemExit('%s: --tag-map %s: %s' % (PROG, path, exc.strerror)) from None
    except Refused as exc:
        raise SystemExit('%s: --tag-map %s' % (PROG, exc)) from None
    except (ValueError, RecursionError) as exc:
        raise SystemExit('%s: --tag-map %s is not JSON: %s' % (PROG, path, exc)) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) and NAME_RE.match(k) and NAME_RE.match(v)
                                             for k, v in data.items()):
        raise SystemExit('%s: --tag-map must be a JSON object of tag -> host names' % PROG)
    return data


def discover(root, nfs_dirs, tag_map, warnings):
    """Yield (path, host, tag, stamp, dir_stat, parent_fd) for every dump directory, walking from directory
    descriptors and never through a symlink; parent_fd stays open until the next item."""
    def entries_in(dir_fd, directory, host):
        try:
            items = sorted(os.scandir(dir_fd), key=lambda e: e.name)
        except OSError as exc:
            warnings.append('%s: %s' % (directory, exc.strerror))
            return
        for item in items:
            if item.name.startswith('.'):
                continue
            path = os.path.join(directory, item.name)
            # From a descriptor's listing, DirEntry stats relative to it (fstatat), never through a link.
            if not item.is_dir(follow_symlinks=False):
                warnings.append('%s: not a plain directory, ignored' % path)
                continue
            match = ENTRY_RE.match(item.name)
            if match is None:
                if host is None and NAME_RE.match(item.name):
                    yield from host_entries(dir_fd, path, item.name)
                else:
                    warnings.append('%s: not a %s directory, ignored' % (path, 'host' if host is None else '<tag>-<stamp>'))
                continue
            if match.group('stamp') == PROBE_STAMP:
                continue
            try:
                st = item.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            tag = match.group('tag')
            yield path, host or tag_map.get(tag, tag), tag, match.group('stamp'), st, dir_fd

    def host_entries(parent_fd, path, host):
        try:
            host_fd = open_dir(parent_fd, host)
        except (OSError, Refused) as exc:
            warnings.append('%s: %s' % (path, exc))
            return
        try:
            yield from entries_in(host_fd, path, host)
        finally:
            os.close(host_fd)

    for top, host in [(root, None)] + [(nfs, '') for nfs in nfs_dirs]:
        try:
            top_fd = open_root(top)
        except OSError as exc:
            warnings.append('%s: %s' % (top, exc.strerror))
            continue
        try:
            yield from entries_in(top_fd, top, host)
        finally:
            os.close(top_fd)


def fingerprint(dir_fd):
    items = []
    for item in os.scandir(dir_fd):
        st = item.stat(follow_symlinks=False)
        items.append((item.name, st.st_mode, st.st_size, st.st_mtime_ns))
    items.sort()
    return json.dumps(items, separators=(',', ':')), {name: (mode, size) for name, mode, size, _m in items}


def read_marker(dir_fd, stamp, size):
    """dump_name, dump_bytes and dump_format of the .pruned marker prune left, checked: any NFS client can write one."""
    data, _skipped = read_bounded(dir_fd, PRUNED_MARKER, min(size, MARKER_BYTES), MARKER_BYTES, 0)
    try:
        marker = json.loads(data.decode('utf-8'))
    except RecursionError:
        raise ValueError('nested too deeply') from None
    if not isinstance(marker, dict):
        raise ValueError('not a JSON object')
    name, size, fmt = marker.get('dump_name'), marker.get('dump_bytes'), marker.get('dump_format')
    if name not in final_names(stamp):
        raise ValueError('dump_name is not a dump file name of this directory')
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= INT64_MAX:
        raise ValueError('dump_bytes is not a byte count')
    if fmt is not None and not (isinstance(fmt, str) and FORMAT_RE.match(fmt)):
        raise ValueError('dump_format is not a dump format name')
    return {'dump_name': name, 'dump_bytes': size, 'dump_format': fmt}


def empty_row():
    """The row of a dump directory nothing is known about yet (every column, NOT NULL ones filled)."""
    row = dict.fromkeys(ROW_FIELDS)
    row.update({'state': 'incomplete', 'corrupted': 0, 'truncated': 0})
    return row


def analyse_entry(dir_fd, stamp, files):
    """State, dump and dmesg facts of one dump directory from its listing {name: (mode, size)}."""
    row = empty_row()
    errors = []
    if stamp_time(stamp) is None:
        errors.append('invalid stamp %s' % stamp)
    done = final_names(stamp)
    partial = partial_names()
    known = set(done + partial + ['dmesg.' + stamp, PRUNED_MARKER] + [n + TRUNC_SUFFIX for n in partial])
    odd = sorted(n for n in files if n not in known)
    if odd:
        errors.append('unexpected files: %s' % ', '.join(safe(n) for n in odd[:5]))
    for name in done + partial:
        if name not in files:
            continue
        mode, size = files[name]
        if not stat.S_ISREG(mode):
            errors.append('%s is not a regular file, ignored' % name)
            continue
        row['dump_name'], row['dump_bytes'] = name, size
        if name in done:
            row['state'] = 'complete' if size else 'empty'
        if name + TRUNC_SUFFIX in files:
            row['truncated'] = 1
            errors.append('%s was cut at the upload quota' % name)
        if not mode & stat.S_IRUSR:
            # receive keeps a file unreadable until its writer finished cleanly (BUSY_MODE)
            errors.append('%s is still being received, or its upload stopped' % name)
        elif size:
            try:
                row['dump_format'] = dump_format(dir_fd, name)
                # kdump-tools renames the file even when makedumpfile died mid-stream (a pipe's status is its last
                # command's), so only the end marker proves a flattened dump whole. Compressed wrappers and the
                # kdump-compressed and ELF formats have no such cheap check and keep the state their name gives.
                if (row['state'] == 'complete' and row['dump_format'] == 'makedumpfile-flattened'
                        and not flat_end_present(dir_fd, name)):
                    row['state'] = 'incomplete'
                    errors.append("%s ends without makedumpfile's end marker: makedumpfile stopped before the end "
                                  '(often the capture kernel ran out of memory: grow crashkernel=)' % name)
            except (OSError, Refused) as exc:
                errors.append('%s: %s' % (name, exc.strerror) if isinstance(exc, OSError) else str(exc))
        break
    if row['dump_name'] is None and PRUNED_MARKER in files:
        row['state'] = 'pruned'
        try:
            row.update(read_marker(dir_fd, stamp, files[PRUNED_MARKER][1]))
        except (OSError, Refused, ValueError) as exc:
            errors.append('unreadable %s: %s' % (PRUNED_MARKER, exc))
    dmesg = 'dmesg.' + stamp
    if dmesg in files:
        mode, size = files[dmesg]
        row['dmesg_bytes'] = size
        try:
            if not stat.S_ISREG(mode):
                raise ValueError('%s is not a regular file, not read' % dmesg)
            data, skipped = read_bounded(dir_fd, dmesg, size, DMESG_HEAD, DMESG_TAIL)
            facts = analyse(decode_dmesg(data))
            facts['frames'] = json.dumps(facts['frames']) if facts['frames'] else None
            facts['corrupted'] = int(facts['corrupted'])
            row.update(facts)
            if skipped:
                errors.append('dmesg larger than %d bytes: only head and tail read' % (DMESG_HEAD + DMESG_TAIL))
        except (OSError, Refused, ValueError) as exc:
            errors.append('%s: %s' % (dmesg, exc.strerror) if isinstance(exc, OSError) else str(exc))
    row['error'] = '; '.join(errors) or None
    return row


def index_entry(parent_fd, name, stamp, old_print=None):
    """The row of one dump directory, None when its listing still is old_print (nothing to analyse again); an error
    row when anything about it fails, so it never stops the pass."""
    try:
        fd = open_dir(parent_fd, name)
        try:
            print_, files = fingerprint(fd)
            if print_ == old_print:
                return None
            row = analyse_entry(fd, stamp, files)
        finally:
            os.close(fd)
        row['fingerprint'] = print_
        check_storable(row)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # One hostile entry must never stop the index of the others.
        row = empty_row()
        row['error'] = safe('unreadable: %s' % exc)
    return row


def lower_pending_flag(root):
    """Remove ROOT/.log/index-pending, never through a symlink."""
    root_fd = open_root(root)
    try:
        log_fd = open_dir(root_fd, '.log')
        try:
            os.unlink(INDEX_PENDING, dir_fd=log_fd)
        finally:
            os.close(log_fd)
    finally:
        os.close(root_fd)


def run_index(args):
    """One index pass over args.root (and args.nfs_dir, with args.tag_map); returns its counts."""
    tag_map = load_tag_map(args.tag_map)
    if not os.path.isdir(args.root):
        raise SystemExit('%s: --root %s is not a directory' % (PROG, args.root))
    # An export that is not mounted right now must not turn all its dumps into "missing".
    nfs_dirs = [d for d in args.nfs_dir or () if os.path.isdir(d)]
    for directory in set(args.nfs_dir or ()) - set(nfs_dirs):
        sys.stderr.write(safe('%s: warning: --nfs-dir %s is not a directory, skipped' % (PROG, directory)) + '\n')
    # receive raises the flag after each request; the systemd path unit starts the index service while it exists
    # (PathExists=, checked again when the service ends, unlike a change made while it runs). Lowered before the
    # scan, so a request that lands during this run, the final rename of a dump typically, starts one more.
    try:
        lower_pending_flag(args.root)
    except FileNotFoundError:
        pass
    except (OSError, Refused) as exc:
        sys.stderr.write(safe('%s: warning: cannot lower the index flag (%s); run index as the dump account' % (
            PROG, exc)) + '\n')
    return index_pass(args, tag_map, nfs_dirs)


def cmd_index(args):
    counts = run_index(args)
    print(safe('indexed %s: %d new, %d updated, %d unchanged, %d missing, %d with errors' % (
        args.root, counts['new'], counts['updated'], counts['unchanged'], counts['missing'], counts['errors'])))
    return 0


def update_known_issues(conn, path):
    """Keep the known issues of path in the index; a bad file changes nothing and stops no indexing."""
    try:
        with os.fdopen(open_regular(None, path, follow=True), encoding='utf-8') as handle:
            issues = known.parse(handle.read(known.MAX_ISSUES * known.MAX_TEXT * 4))
    except (OSError, Refused, ValueError, RecursionError) as exc:
        sys.stderr.write(safe('%s: warning: --known-issues %s not applied, the known issues stay as they were: %s'
                              % (PROG, path, exc)) + '\n')
        return
    known.replace(conn, issues)


def write_row(conn, old, path, row, now):
    """Insert or update the row of path; 'new' or 'updated'."""
    values = [row[k] for k in ROW_FIELDS]
    if old is None:
        try:
            conn.execute('INSERT INTO dumps (path, %s, first_seen, indexed) VALUES (?, %s, ?, ?)' % (
                ', '.join(ROW_FIELDS), ', '.join('?' * len(ROW_FIELDS))), [path] + values + [now, now])
            return 'new'
        except sqlite3.IntegrityError:
            # Another index may have inserted it while this one had committed part of its pass.
            if conn.execute('SELECT 1 FROM dumps WHERE path = ?', (path,)).fetchone() is None:
                raise
    conn.execute('UPDATE dumps SET %s, indexed = ? WHERE path = ?' % ', '.join('%s = ?' % k for k in ROW_FIELDS),
                 values + [now, path])
    return 'updated'


def index_pass(args, tag_map, nfs_dirs):
    conn = open_db(args.db)
    # Write lock first, so no other index inserts a path between this read and the first commit (after one, write_row
    # copes with a path inserted meanwhile).
    conn.execute('BEGIN IMMEDIATE')
    version = conn.execute('PRAGMA user_version').fetchone()[0]
    # Forgetting a row's directory time and fingerprint makes this pass analyse it again, once.
    if version < 1:
        # Written before the end-marker check: a flattened dump called complete may be cut short.
        conn.execute("UPDATE dumps SET dir_mtime_ns = NULL, fingerprint = NULL "
                     "WHERE state = 'complete' AND dump_format = 'makedumpfile-flattened'")
    if version < 2:
        # Written before crash triage: every dmesg is read again for its title and new signature.
        conn.execute('UPDATE dumps SET dir_mtime_ns = NULL, fingerprint = NULL WHERE dmesg_bytes IS NOT NULL')
    if version < ANALYSIS_VERSION:
        conn.execute('PRAGMA user_version = %d' % ANALYSIS_VERSION)
    if args.known_issues:
        update_known_issues(conn, args.known_issues)
    # Plain tuples, no fingerprints: this load is most of an incremental pass over a big tree.
    known = {r[0]: r[1:] for r in conn.execute('SELECT path, id, state, dir_mtime_ns, dump_name FROM dumps').fetchall()}
    warnings = []
    counts = {'new': 0, 'updated': 0, 'unchanged': 0, 'errors': 0, 'missing': 0}
    now = now_text()
    seen = set()
    roots = [os.path.abspath(args.root)] + [os.path.abspath(d) for d in nfs_dirs]
    commit_at = time.monotonic() + COMMIT_SECONDS
    for path, host, tag, stamp, dst, parent_fd in discover(roots[0], roots[1:], tag_map, warnings):
        seen.add(path)
        old = known.get(path)
        # Any NFS client can set its directory's time far outside what SQLite stores: then it is simply not kept.
        mtime = int64_or_none(dst.st_mtime_ns)
        # A renamed dump file is never written again, so a dump cut short (incomplete under its final name) only
        # changes with its directory, like a complete one.
        settled = old is not None and (old[1] in FINAL_STATES or (old[1] == 'incomplete' and is_final_name(old[3])))
        if settled and mtime is not None and old[2] == mtime:
            counts['unchanged'] += 1
            continue
        old_print = conn.execute('SELECT fingerprint FROM dumps WHERE id = ?', (old[0],)).fetchone()[0] if old else None
        row = index_entry(parent_fd, os.path.basename(path), stamp, old_print)
        if row is None:
            conn.execute('UPDATE dumps SET dir_mtime_ns = ? WHERE id = ?', (mtime, old[0]))
            counts['unchanged'] += 1
            continue
        row.update({'host': host, 'tag': tag, 'stamp': stamp, 'time': stamp_time(stamp), 'dir_mtime_ns': mtime})
        counts['errors'] += bool(row['error'])
        counts[write_row(conn, old, path, row, now)] += 1
        if time.monotonic() > commit_at:
            # A long pass (thousands of new dumps) keeps what it did if it is ended by the unit's timeout, and lets
            # receive's readers and other writers in between.
            conn.commit()
            conn.execute('BEGIN IMMEDIATE')
            commit_at = time.monotonic() + COMMIT_SECONDS
    for path in known.keys() - seen:
        old = known[path]
        inside = any(path.startswith(r.rstrip('/') + '/') for r in roots)
        if inside and old[1] != 'missing':
            conn.execute("UPDATE dumps SET state = 'missing', error = 'directory removed', indexed = ? WHERE id = ?",
                         (now, old[0]))
            counts['missing'] += 1
    conn.commit()
    conn.close()
    for warning in warnings[:50]:
        sys.stderr.write(safe('%s: warning: %s' % (PROG, warning)) + '\n')
    return counts
