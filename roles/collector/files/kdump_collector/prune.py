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
from kdump_collector.fsutil import DONE_MODE, Refused, lstat_at, open_below, open_root, write_atomic_at
from kdump_collector.names import MAX_STAMP_AHEAD, PRUNED_MARKER, is_final_name, later_text, now_text
from kdump_collector.store import int64_or_none, open_db
from kdump_collector.textout import safe


def arrival(row):
    """When a dump arrived as far as the collector can tell: its stamp, unless that lies more than a day after the index
    first saw the dump (no host's clock is that far ahead: a forged stamp, meant to look newer than other hosts'
    dumps), then the time the index first saw it. Ties by index order."""
    seen = row['first_seen']
    time = row['time'] or seen or ''
    if seen and time > later_text(seen, MAX_STAMP_AHEAD):
        time = seen
    return time, row['id']


def plan_prune(rows, args, free):
    """Choose dumps to prune (complete or cut short). One host's uploads never push out another host's dumps for a
    signature: signatures count per host, and the newest complete dump of every host and signature is never chosen.
    Over a size cap, the host holding the most bytes gives up its oldest dump first, so a host that floods the
    collector loses its own dumps before anyone else's."""
    by_sig = {}
    for row in sorted(rows, key=arrival, reverse=True):
        by_sig.setdefault((row['host'], row['signature']), []).append(row)
    protected = {next((r['id'] for r in group if r['state'] == 'complete'), None) for group in by_sig.values()}
    chosen = {}
    if args.keep_per_signature is not None:
        for group in by_sig.values():
            for row in group[args.keep_per_signature:]:
                if row['id'] not in protected:
                    chosen[row['id']] = 'beyond %d per signature of its host' % args.keep_per_signature
    held, queues = {}, {}
    for row in sorted(rows, key=arrival):
        if row['id'] not in chosen:
            held[row['host']] = held.get(row['host'], 0) + (row['dump_bytes'] or 0)
            if row['id'] not in protected:
                queues.setdefault(row['host'], []).append(row)
    total = sum(held.values())
    freed = sum(r['dump_bytes'] or 0 for r in rows if r['id'] in chosen)
    while queues:
        if args.max_total_bytes is not None and total > args.max_total_bytes:
            why = 'total %d over --max-total-bytes' % total
        elif args.min_free_bytes is not None and free + freed < args.min_free_bytes:
            why = 'free %d under --min-free-bytes' % (free + freed)
        else:
            break
        host = max(queues, key=lambda h: (held[h], str(h)))
        row = queues[host].pop(0)
        if not queues[host]:
            del queues[host]
        chosen[row['id']] = why + ', %s holds the most' % host
        size = row['dump_bytes'] or 0
        total, freed, held[host] = total - size, freed + size, held[host] - size
    return [(row, chosen[row['id']]) for row in sorted(rows, key=arrival) if row['id'] in chosen]


def prune_one(root, root_fd, row):
    """Remove the dump file of one entry, leaving dmesg and a .pruned marker. The entry is reached from the root's
    descriptor one plain directory at a time: nothing outside root is touched, whatever became a symlink."""
    path = row['path']
    if not path.startswith(root.rstrip('/') + '/'):
        raise Refused('%s is outside --root' % path)
    parts = path[len(root.rstrip('/')) + 1:].split('/')
    if len(parts) > 2:
        raise Refused('%s is not ROOT/<host>/<entry> or ROOT/<entry>' % path)
    dir_fd = open_below(root_fd, parts)
    try:
        st = lstat_at(dir_fd, row['dump_name'])
        if st is None or not stat.S_ISREG(st.st_mode) or st.st_size != row['dump_bytes']:
            raise Refused('%s changed since it was indexed, run index first' % row['dump_name'])
        marker = json.dumps({'dump_name': row['dump_name'], 'dump_bytes': row['dump_bytes'], 'dump_format': row['dump_format'],
                             'pruned': now_text()})
        write_atomic_at(dir_fd, PRUNED_MARKER, marker.encode('utf-8'), DONE_MODE)
        os.unlink(row['dump_name'], dir_fd=dir_fd)
        return int64_or_none(os.stat(dir_fd).st_mtime_ns)
    finally:
        os.close(dir_fd)


def cmd_prune(args):
    if args.keep_per_signature is not None and args.keep_per_signature < 1:
        raise SystemExit('%s: --keep-per-signature must be at least 1' % PROG)
    root = os.path.abspath(args.root)
    try:
        root_fd = open_root(root)
    except OSError as exc:
        raise SystemExit('%s: --root %s: %s' % (PROG, root, exc.strerror)) from None
    try:
        return prune(args, root, root_fd)
    finally:
        os.close(root_fd)


def prune(args, root, root_fd):
    conn = open_db(args.db, create=False)
    # Incomplete dumps under their final name were cut short and will never grow: they take space like complete ones.
    # A dump-incomplete may still be arriving and is never pruned.
    rows = [dict(r) for r in conn.execute("SELECT * FROM dumps WHERE state IN ('complete', 'incomplete')")
            if r['state'] == 'complete' or is_final_name(r['dump_name'])]
    vfs = os.fstatvfs(root_fd)
    plan = plan_prune(rows, args, vfs.f_bavail * vfs.f_frsize)
    status = 0
    for row, why in plan:
        label = '%d %s %s %s (%d bytes): %s' % (row['id'], row['host'], row['time'], row['dump_name'], row['dump_bytes'] or 0, why)
        if args.dry_run:
            print(safe('would prune ' + label))
            continue
        try:
            mtime = prune_one(root, root_fd, row)
        except (OSError, Refused) as exc:
            sys.stderr.write(safe('%s: not pruned %s: %s' % (PROG, label, exc)) + '\n')
            status = 1
            continue
        conn.execute("UPDATE dumps SET state = 'pruned', dir_mtime_ns = ?, fingerprint = NULL, indexed = ? WHERE id = ?",
                     (mtime, now_text(), row['id']))
        conn.commit()
        print(safe('pruned ' + label))
    if not plan:
        print('nothing to prune')
    return status
