# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""prune: retention of dump files by signature, total size and free space; dmesg and index rows stay."""

from __future__ import annotations

import json
import os
import stat
import sys

from kdump_collector import PROG
from kdump_collector.fsutil import DONE_MODE, O_CLOEXEC, Refused, lstat_at
from kdump_collector.names import PRUNED_MARKER, is_final_name, now_text
from kdump_collector.store import open_db


def plan_prune(rows, args, free):
    """Choose dumps to prune (complete or cut short); the newest complete dump of every signature is never chosen."""
    by_sig = {}
    for row in sorted(rows, key=lambda r: (r['time'] or '', r['id']), reverse=True):
        by_sig.setdefault(row['signature'], []).append(row)
    protected = {next((r['id'] for r in group if r['state'] == 'complete'), None) for group in by_sig.values()}
    chosen = {}
    if args.keep_per_signature is not None:
        for group in by_sig.values():
            for row in group[args.keep_per_signature:]:
                if row['id'] not in protected:
                    chosen[row['id']] = 'beyond %d per signature' % args.keep_per_signature
    oldest_first = sorted(rows, key=lambda r: (r['time'] or '', r['id']))
    total = sum(r['dump_bytes'] or 0 for r in rows if r['id'] not in chosen)
    freed = sum(r['dump_bytes'] or 0 for r in rows if r['id'] in chosen)
    for row in oldest_first:
        if row['id'] in chosen or row['id'] in protected:
            continue
        if args.max_total_bytes is not None and total > args.max_total_bytes:
            chosen[row['id']] = 'total %d over --max-total-bytes' % total
        elif args.min_free_bytes is not None and free + freed < args.min_free_bytes:
            chosen[row['id']] = 'free %d under --min-free-bytes' % (free + freed)
        else:
            continue
        total -= row['dump_bytes'] or 0
        freed += row['dump_bytes'] or 0
    return [(row, chosen[row['id']]) for row in oldest_first if row['id'] in chosen]


def prune_one(root, row):
    """Remove the dump file of one entry, leaving dmesg and a .pruned marker; never outside root, never a symlink."""
    path = row['path']
    if not path.startswith(root.rstrip('/') + '/') or '/../' in path + '/':
        raise Refused('%s is outside --root' % path)
    dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | O_CLOEXEC)
    try:
        st = lstat_at(dir_fd, row['dump_name'])
        if st is None or not stat.S_ISREG(st.st_mode) or st.st_size != row['dump_bytes']:
            raise Refused('%s changed since it was indexed, run index first' % row['dump_name'])
        marker = json.dumps({'dump_name': row['dump_name'], 'dump_bytes': row['dump_bytes'], 'dump_format': row['dump_format'],
                             'pruned': now_text()})
        tmp = PRUNED_MARKER + '.tmp'
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | O_CLOEXEC, DONE_MODE, dir_fd=dir_fd)
        try:
            os.write(fd, marker.encode('utf-8'))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, PRUNED_MARKER, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        os.unlink(row['dump_name'], dir_fd=dir_fd)
        return os.stat(dir_fd).st_mtime_ns
    finally:
        os.close(dir_fd)


def cmd_prune(args):
    if args.keep_per_signature is not None and args.keep_per_signature < 1:
        raise SystemExit('%s: --keep-per-signature must be at least 1' % PROG)
    root = os.path.abspath(args.root)
    conn = open_db(args.db, create=False)
    # Incomplete dumps under their final name were cut short and will never grow: they take space like complete ones.
    # A dump-incomplete may still be arriving and is never pruned.
    rows = [dict(r) for r in conn.execute("SELECT * FROM dumps WHERE state IN ('complete', 'incomplete')")
            if r['state'] == 'complete' or is_final_name(r['dump_name'])]
    vfs = os.statvfs(root)
    plan = plan_prune(rows, args, vfs.f_bavail * vfs.f_frsize)
    status = 0
    for row, why in plan:
        label = '%d %s %s %s (%d bytes): %s' % (row['id'], row['host'], row['time'], row['dump_name'], row['dump_bytes'] or 0, why)
        if args.dry_run:
            print('would prune ' + label)
            continue
        try:
            mtime = prune_one(root, row)
        except (OSError, Refused) as exc:
            sys.stderr.write('%s: not pruned %s: %s\n' % (PROG, label, exc))
            status = 1
            continue
        conn.execute("UPDATE dumps SET state = 'pruned', dir_mtime_ns = ?, fingerprint = NULL, indexed = ? WHERE id = ?",
                     (mtime, now_text(), row['id']))
        conn.commit()
        print('pruned ' + label)
    if not plan:
        print('nothing to prune')
    return status
