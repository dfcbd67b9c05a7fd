# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The queries: list, show and stats (text tables, or JSON with --json)."""

from __future__ import annotations

import datetime
import json
import sys

from kdump_collector import PROG, known
from kdump_collector.store import open_db, row_dict
from kdump_collector.textout import cell, print_table, safe


def parse_since(value, option='--since'):
    text = value.strip().replace('Z', '+00:00').replace('z', '+00:00')
    try:
        when = datetime.datetime.fromisoformat(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        when = when.astimezone(datetime.timezone.utc)
    except (ValueError, OverflowError):
        # OverflowError: a time in zone UTC+1 on 0001-01-01 lies before the first time datetime holds in UTC.
        raise SystemExit('%s: %s %r is not an ISO 8601 time between the years 1 and 9999 '
                         '(e.g. 2026-11-26 or 2026-11-26T12:00:00Z)' % (PROG, option, value)) from None
    # Four-digit years, so the text compares like the times in the index.
    return '%04d-%02d-%02dT%02d:%02d:%02dZ' % (when.year, when.month, when.day, when.hour, when.minute, when.second)


def select_dumps(conn, host=None, since=None, signature=None):
    """Indexed dumps, oldest first, of one host, at or after since (ISO 8601 UTC as parse_since gives), of one signature."""
    query, params = 'SELECT * FROM dumps WHERE 1=1', []
    for column, op, value in (('host', '=', host), ('time', '>=', since), ('signature', '=', signature)):
        if value:
            query += ' AND %s %s ?' % (column, op)
            params.append(value)
    return [row_dict(r) for r in conn.execute(query + ' ORDER BY time, id', params)]


def first_crashes(rows):
    """signature -> its first crash (rows ordered by time): when and on which kernel a bug was first seen."""
    first = {}
    for row in rows:
        if row['signature'] and row['time']:
            first.setdefault(row['signature'], row)
    return first


def issue_text(issue):
    return issue['url'] if issue else 'new'


def cmd_list(args):
    conn = open_db(args.db, create=False)
    rows = select_dumps(conn, args.host, parse_since(args.since) if args.since else None, args.signature)
    if args.new_since or args.new_on_kernel:
        # First seen is fleet-wide, whatever the other filters keep.
        first = first_crashes(row_dict(r) for r in conn.execute('SELECT * FROM dumps ORDER BY time, id'))
        since = parse_since(args.new_since, '--new-since') if args.new_since else None
        rows = [r for r in rows if r['signature'] in first
                and (since is None or first[r['signature']]['time'] >= since)
                and (args.new_on_kernel is None or first[r['signature']]['kernel'] == args.new_on_kernel)]
    issues = known.load(conn)
    for row in rows:
        row['known_issue'] = known.issue_for(row['title'], issues)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table(['ID', 'TIME', 'HOST', 'STATE', 'BYTES', 'KERNEL', 'TITLE', 'ISSUE'],
                [[r['id'], cell(r['time']), r['host'], r['state'], cell(r['dump_bytes']), cell(r['kernel']),
                  cell(r['title']), issue_text(r['known_issue']) if r['title'] else '-'] for r in rows])
    return 0


def cmd_show(args):
    conn = open_db(args.db, create=False)
    row = conn.execute('SELECT * FROM dumps WHERE id = ?', (args.id,)).fetchone()
    if row is None:
        sys.stderr.write('%s: no dump with id %d\n' % (PROG, args.id))
        return 1
    data = row_dict(row)
    data['known_issue'] = known.issue_for(data['title'], known.load(conn))
    data['first_seen'], data['indexed'], data['report'] = row['first_seen'], row['indexed'], row['report']
    tests = conn.execute('SELECT * FROM crash_tests WHERE dump_id = ? ORDER BY id', (args.id,))
    data['crash_tests'] = [dict(r) for r in tests]
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for key, value in data.items():
        if key == 'frames':
            print('%-12s %s' % ('frames:', cell(' <- '.join(value))))
        elif key == 'known_issue':
            print('%-12s %s' % ('known issue:', '%s %s' % (cell(value['url']), cell(value['note'])) if value
                                else ('new' if data['title'] else '-')))
        elif key not in ('crash_tests', 'report'):
            print('%-12s %s' % (key + ':', cell(value)))
    for test in data['crash_tests']:
        print('crash test:  #%d %s %s %s' % (test['id'], cell(test['time']), cell(test['outcome']), cell(test['detail'])))
    if data['report']:
        print('report:')
        for line in data['report'].splitlines():
            print('    ' + safe(line.expandtabs()))
    return 0


def gather_stats(conn):
    rows = [row_dict(r) for r in conn.execute('SELECT * FROM dumps ORDER BY time, id')]
    issues = known.load(conn)

    def group(key, first_fields=()):
        groups = {}
        for row in rows:
            item = groups.get(row[key])
            if item is None:
                item = groups[row[key]] = {key: row[key], 'count': 0, 'hosts': set(), 'kernels': set(),
                                           'first_seen': row['time'], 'last_seen': row['time']}
                item.update((field, row[field]) for field in first_fields)
            item['count'] += 1
            item['hosts'].add(row['host'])
            if row['kernel']:
                item['kernels'].add(row['kernel'])
            item['last_seen'] = row['time'] or item['last_seen']
            item['first_seen'] = item['first_seen'] or row['time']
        result = sorted(groups.values(), key=lambda g: (-g['count'], str(g[key])))
        for item in result:
            item['hosts'], item['kernels'] = sorted(item['hosts']), sorted(item['kernels'])
        return result

    states = {}
    for row in rows:
        states[row['state']] = states.get(row['state'], 0) + 1
    tests = {r['outcome']: r['n'] for r in conn.execute('SELECT outcome, COUNT(*) AS n FROM crash_tests GROUP BY outcome')}
    times = [r['time'] for r in rows if r['time']]
    by_signature = group('signature', ('title', 'kind', 'reason', 'rip'))
    for item in by_signature:
        item['known_issue'] = known.issue_for(item['title'], issues)
    return {
        'total': len(rows), 'by_state': states, 'first_seen': min(times) if times else None,
        'last_seen': max(times) if times else None,
        'by_signature': [{k: g[k] for k in ('signature', 'title', 'kind', 'count', 'hosts', 'kernels', 'first_seen',
                                            'last_seen', 'known_issue', 'reason', 'rip')} for g in by_signature],
        'by_host': [{k: g[k] for k in ('host', 'count', 'kernels', 'first_seen', 'last_seen')} for g in group('host')],
        'by_kernel': [{k: g[k] for k in ('kernel', 'count', 'hosts', 'first_seen', 'last_seen')} for g in group('kernel')],
        'crash_tests': tests, 'rows': rows,
    }


def cmd_stats(args):
    conn = open_db(args.db, create=False)
    stats = gather_stats(conn)
    del stats['rows']
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    states = safe(', '.join('%s %d' % kv for kv in sorted(stats['by_state'].items())))
    print('dumps: %d (%s); first %s, last %s' % (stats['total'], states, cell(stats['first_seen']), cell(stats['last_seen'])))
    print()
    print_table(['SIGNATURE', 'COUNT', 'HOSTS', 'KERNELS', 'FIRST', 'LAST', 'TITLE', 'ISSUE'],
                [[cell(g['signature']), g['count'], len(g['hosts']), len(g['kernels']), cell(g['first_seen']),
                  cell(g['last_seen']), cell(g['title']), issue_text(g['known_issue']) if g['title'] else '-']
                 for g in stats['by_signature']])
    for title, key, extra in (('host', 'host', 'kernels'), ('kernel', 'kernel', 'hosts')):
        print()
        print_table([title.upper(), 'COUNT', 'FIRST', 'LAST', extra.upper()],
                    [[cell(g[key]), g['count'], cell(g['first_seen']), cell(g['last_seen']), cell(', '.join(g[extra]), 60)]
                     for g in stats['by_' + key]])
    if stats['crash_tests']:
        print()
        print('crash tests: %s' % safe(', '.join('%s %d' % kv for kv in sorted(stats['crash_tests'].items()))))
    return 0
