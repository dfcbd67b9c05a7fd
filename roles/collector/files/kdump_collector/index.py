# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""index: scan the collector root and bring the SQLite index up to date (incremental, idempotent)."""

from __future__ import annotations

import json
import os
import stat
import sys

from kdump_collector import PROG, known
from kdump_collector.dmesg import DMESG_HEAD, DMESG_TAIL, decode_dmesg
from kdump_collector.dumpfile import dump_format, flat_end_present
from kdump_collector.fsutil import O_CLOEXEC, read_bounded
from kdump_collector.names import (ENTRY_RE, INDEX_PENDING, PROBE_STAMP, PRUNED_MARKER, TRUNC_SUFFIX, final_names,
                                   is_final_name, now_text, partial_names, stamp_time)
from kdump_collector.store import ANALYSIS_VERSION, FINAL_STATES, ROW_FIELDS, open_db
from kdump_collector.triage import analyse


def load_tag_map(path):
    if not path:
        return {}
    with open(path, encoding='utf-8') as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise SystemExit('%s: --tag-map must be a JSON object of tag -> host strings' % PROG)
    return data


def discover(root, nfs_dirs, tag_map, warnings):
    """Yield (path, host, tag, stamp, dir_stat) for every dump directory, never following symlinks."""
    def entries_in(directory, host):
        try:
            items = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            warnings.append('%s: %s' % (directory, exc.strerror))
            return
        for item in items:
            match = ENTRY_RE.match(item.name)
            if item.name.startswith('.'):
                continue
            if not item.is_dir(follow_symlinks=False):
                warnings.append('%s: not a plain directory, ignored' % item.path)
                continue
            if match is None:
                if host is None:
                    yield from entries_in(item.path, item.name)
                else:
                    warnings.append('%s: not a <tag>-<stamp> directory, ignored' % item.path)
                continue
            if match.group('stamp') == PROBE_STAMP:
                continue
            tag = match.group('tag')
            yield item.path, host or tag_map.get(tag, tag), tag, match.group('stamp'), item.stat(follow_symlinks=False)

    yield from entries_in(root, None)
    for nfs in nfs_dirs:
        yield from entries_in(nfs, '')


def fingerprint(dir_fd):
    items = []
    for item in os.scandir(dir_fd):
        st = item.stat(follow_symlinks=False)
        items.append((item.name, st.st_mode, st.st_size, st.st_mtime_ns))
    items.sort()
    return json.dumps(items, separators=(',', ':')), {name: (mode, size) for name, mode, size, _m in items}


def analyse_entry(dir_fd, stamp, files):
    """State, dump and dmesg facts of one dump directory from its listing {name: (mode, size)}."""
    row = {'state': 'incomplete', 'dump_name': None, 'dump_bytes': None, 'dump_format': None, 'dmesg_bytes': None,
           'kernel': None, 'reason': None, 'rip': None, 'taint': None, 'frames': None, 'title': None, 'kind': None,
           'guilty_frame': None, 'corrupted': 0, 'signature': None, 'report': None, 'truncated': 0, 'error': None}
    errors = []
    if stamp_time(stamp) is None:
        errors.append('invalid stamp %s' % stamp)
    done = final_names(stamp)
    partial = partial_names()
    known = set(done + partial + ['dmesg.' + stamp, PRUNED_MARKER] + [n + TRUNC_SUFFIX for n in partial])
    odd = sorted(n for n in files if n not in known)
    if odd:
        errors.append('unexpected files: %s' % ', '.join(odd[:5]))
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
            except OSError as exc:
                errors.append('%s: %s' % (name, exc.strerror))
        break
    if row['dump_name'] is None and PRUNED_MARKER in files:
        row['state'] = 'pruned'
        try:
            data, _skipped = read_bounded(dir_fd, PRUNED_MARKER, min(files[PRUNED_MARKER][1], 4096), 4096, 0)
            marker = json.loads(data.decode('utf-8'))
            if not isinstance(marker, dict):
                raise ValueError('not a JSON object')
            row.update({k: marker.get(k) for k in ('dump_name', 'dump_bytes', 'dump_format')})
        except (OSError, ValueError) as exc:
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
        except (OSError, ValueError) as exc:
            errors.append(str(exc) if isinstance(exc, ValueError) else '%s: %s' % (dmesg, exc.strerror))
    row['error'] = '; '.join(errors) or None
    return row


def index_entry(path, stamp):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | O_CLOEXEC)
    try:
        print_, files = fingerprint(fd)
        row = analyse_entry(fd, stamp, files)
    finally:
        os.close(fd)
    row['fingerprint'] = print_
    return row


def analyse_path(path, stamp):
    """index_entry, or an incomplete row naming the error: one hostile entry never stops a pass over the others."""
    try:
        return index_entry(path, stamp)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        row = {k: None for k in ROW_FIELDS}
        row.update({'state': 'incomplete', 'truncated': 0, 'error': 'unreadable: %s' % exc, 'fingerprint': None})
        return row


def run_index(args):
    """One index pass over args.root (and args.nfs_dir, with args.tag_map); returns its counts."""
    tag_map = load_tag_map(args.tag_map)
    if not os.path.isdir(args.root):
        raise SystemExit('%s: --root %s is not a directory' % (PROG, args.root))
    # An export that is not mounted right now must not turn all its dumps into "missing".
    nfs_dirs = [d for d in args.nfs_dir or () if os.path.isdir(d)]
    for directory in set(args.nfs_dir or ()) - set(nfs_dirs):
        sys.stderr.write('%s: warning: --nfs-dir %s is not a directory, skipped\n' % (PROG, directory))
    # receive raises the flag after each request; the systemd path unit starts the index service while it exists
    # (PathExists=, checked again when the service ends, unlike a change made while it runs). Lowered before the
    # scan, so a request that lands during this run, the final rename of a dump typically, starts one more.
    try:
        os.unlink(os.path.join(args.root, '.log', INDEX_PENDING))
    except FileNotFoundError:
        pass
    except OSError as exc:
        sys.stderr.write('%s: warning: cannot lower the index flag (%s); run index as the dump account\n' % (PROG, exc))
    return index_pass(args, tag_map, nfs_dirs)


def cmd_index(args):
    counts = run_index(args)
    print('indexed %s: %d new, %d updated, %d unchanged, %d missing, %d with errors' % (
        args.root, counts['new'], counts['updated'], counts['unchanged'], counts['missing'], counts['errors']))
    return 0


def update_known_issues(conn, path):
    """Keep the known issues of path in the index; a bad file changes nothing and stops no indexing."""
    try:
        with open(path, encoding='utf-8') as handle:
            issues = known.parse(handle.read(known.MAX_ISSUES * known.MAX_TEXT * 4))
    except (OSError, ValueError) as exc:
        sys.stderr.write('%s: warning: --known-issues %s not applied, the known issues stay as they were: %s\n'
                         % (PROG, path, exc))
        return
    known.replace(conn, issues)


def index_pass(args, tag_map, nfs_dirs):
    conn = open_db(args.db)
    # Write lock first, so a concurrent index cannot insert a path between this read and our inserts.
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
    for path, host, tag, stamp, dst in discover(roots[0], roots[1:], tag_map, warnings):
        seen.add(path)
        old = known.get(path)
        # A renamed dump file is never written again, so a dump cut short (incomplete under its final name) only
        # changes with its directory, like a complete one.
        settled = old is not None and (old[1] in FINAL_STATES or (old[1] == 'incomplete' and is_final_name(old[3])))
        if settled and old[2] == dst.st_mtime_ns:
            counts['unchanged'] += 1
            continue
        row = analyse_path(path, stamp)
        row.update({'host': host, 'tag': tag, 'stamp': stamp, 'time': stamp_time(stamp), 'dir_mtime_ns': dst.st_mtime_ns})
        if row['error']:
            counts['errors'] += 1
        if old is not None and row['fingerprint'] and conn.execute(
                'SELECT fingerprint FROM dumps WHERE id = ?', (old[0],)).fetchone()[0] == row['fingerprint']:
            conn.execute('UPDATE dumps SET dir_mtime_ns = ? WHERE id = ?', (dst.st_mtime_ns, old[0]))
            counts['unchanged'] += 1
            continue
        values = [row[k] for k in ROW_FIELDS]
        if old is None:
            conn.execute('INSERT INTO dumps (path, %s, first_seen, indexed) VALUES (?, %s, ?, ?)' % (
                ', '.join(ROW_FIELDS), ', '.join('?' * len(ROW_FIELDS))), [path] + values + [now, now])
            counts['new'] += 1
        else:
            conn.execute('UPDATE dumps SET %s, indexed = ? WHERE id = ?' % ', '.join('%s = ?' % k for k in ROW_FIELDS),
                         values + [now, old[0]])
            counts['updated'] += 1
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
        sys.stderr.write('%s: warning: %s\n' % (PROG, warning))
    return counts
