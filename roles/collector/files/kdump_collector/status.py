# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crash-status and local-status: did a host's dump arrive, is it complete, does it hold the expected crash.

The answer fleet.kdump's playbooks and roles get (through its collector_query and local_dump_query modules): per
host the dumps since a time, and a verdict with a one-line why. crash-status reads the index; local-status reads a
host's own kdump-tools directory with the index's checks. Both print the same JSON."""

from __future__ import annotations

import json
import os

from kdump_collector import PROG
from kdump_collector.crashkinds import KINDS, crash_name
from kdump_collector.fsutil import open_root
from kdump_collector.index import index_entry, run_index
from kdump_collector.names import STAMP_RE, is_final_name, stamp_time
from kdump_collector.query import parse_since, select_dumps
from kdump_collector.store import open_db
from kdump_collector.textout import safe

FIELDS = ('id', 'host', 'stamp', 'time', 'state', 'dump_name', 'dump_bytes', 'dump_format', 'dmesg_bytes', 'kernel',
          'reason', 'signature', 'error', 'path')
# Written by the crash triage, when the index has them.
TRIAGE_FIELDS = ('title', 'kind', 'guilty_frame', 'corrupted')
# States a dump never leaves again (besides one cut short, incomplete under its final name).
SETTLED_STATES = ('complete', 'empty', 'pruned', 'missing')


def public(row):
    out = {k: row.get(k) for k in FIELDS}
    out.update((k, row[k]) for k in TRIAGE_FIELDS if k in row)
    return out


def label(row):
    return '%s of %s' % ('dump %d' % row['id'] if row.get('id') is not None else row['path'], row['time'] or row['stamp'])


def settled(row):
    return row['state'] in SETTLED_STATES or (row['state'] == 'incomplete' and is_final_name(row.get('dump_name')))


def verdict(host, rows, kind=None, since=None, where='indexed', final=False):
    """found, settled, why and the dump that answers, for one host's dumps since a time (oldest first).

    settled: waiting longer cannot change the answer (final: nothing will ever arrive, as on a host that rebooted).
    why is one line, its control characters escaped: it quotes names and errors a host's files gave."""
    result = judge(host, rows, kind, since, where, final)
    result['why'] = safe(result['why'])
    return result


def judge(host, rows, kind, since, where, final):
    expected = KINDS[kind] if kind else None
    good = [r for r in rows if r['state'] == 'complete' and (expected is None or expected.shown_by(r))]
    result = {'found': bool(good), 'settled': True, 'dump': public(good[-1]) if good else None,
              'dumps': [public(r) for r in rows]}
    if good:
        dump = good[-1]
        result['why'] = '%s is complete (%s, %s bytes, %s)%s' % (
            label(dump), dump['dump_name'], dump['dump_bytes'], dump['dump_format'] or 'unknown format',
            ' and shows %s: %s' % (expected.description, crash_name(dump)) if expected else '')
        return result
    if not rows:
        result['settled'] = final
        result['why'] = 'no dump of %s %s%s' % (host, where, ' since %s' % since if since else '')
        return result
    newest = rows[-1]
    result['settled'] = final or settled(newest)
    if newest['state'] == 'complete':
        shown = crash_name(newest)
        if shown is None:
            shown = 'no crash (%s)' % ('no dmesg was saved' if newest.get('dmesg_bytes') is None else 'its dmesg names none')
        result['why'] = '%s is complete but shows %s, not %s' % (label(newest), shown, expected.description)
    else:
        detail = newest.get('error') or incomplete_detail(newest)
        result['why'] = '%s is %s%s' % (label(newest), newest['state'], ': %s' % detail if detail else '')
    return result


def incomplete_detail(row):
    if row['state'] != 'incomplete':
        return None
    if row.get('dump_name'):
        return '%s is not renamed yet: kdump-tools is still saving it, or stopped' % row['dump_name']
    return 'no dump file yet'


def check_kind(kind):
    if kind and kind not in KINDS:
        raise SystemExit('%s: unknown crash kind %r (known: %s)' % (PROG, kind, ', '.join(sorted(KINDS))))


def report(args, since, hosts, indexed=None):
    print(json.dumps({'since': since, 'expect': args.expect, 'indexed': indexed, 'hosts': hosts}, indent=2, sort_keys=True))
    return 0


def cmd_crash_status(args):
    check_kind(args.expect)
    since = parse_since(args.since) if args.since else None
    indexed = None
    if args.index:
        if not args.root:
            raise SystemExit('%s: --index needs --root (or root in the configuration file)' % PROG)
        indexed = run_index(args)
    conn = open_db(args.db, create=False)
    hosts = {}
    for host in args.host:
        rows = select_dumps(conn, host=host, since=since)
        hosts[host] = verdict(host, rows[-args.last:] if args.last else rows, args.expect, since)
    return report(args, since, hosts, indexed)


def local_rows(coredir, host, since):
    """kdump-tools' local dumps, <coredir>/<YYYYMMDDHHMM>/, at or after since, analysed as the index does."""
    try:
        coredir_fd = open_root(coredir)
    except FileNotFoundError:
        return []
    try:
        names = sorted(e.name for e in os.scandir(coredir_fd) if STAMP_RE.match(e.name) and e.is_dir(follow_symlinks=False))
        rows = []
        for stamp in names:
            time = stamp_time(stamp)
            if time is None or (since and time < since):
                continue
            row = index_entry(coredir_fd, stamp, stamp)
            row.update(id=None, host=host, stamp=stamp, time=time, path=os.path.join(coredir, stamp))
            rows.append(row)
        return rows
    finally:
        os.close(coredir_fd)


def cmd_local_status(args):
    check_kind(args.expect)
    since = parse_since(args.since) if args.since else None
    coredir = os.path.abspath(args.coredir)
    rows = local_rows(coredir, args.host, since)
    hosts = {args.host: verdict(args.host, rows, args.expect, since, where='in %s' % coredir, final=True)}
    return report(args, since, hosts)
