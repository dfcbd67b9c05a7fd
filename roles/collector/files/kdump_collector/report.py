# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""report: the static HTML crash report."""

from __future__ import annotations

import datetime
import html
import os
import string

from kdump_collector.fsutil import atomic_write
from kdump_collector.names import utcnow
from kdump_collector.query import gather_stats, parse_since
from kdump_collector.store import open_db
from kdump_collector.textout import cell

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'report.html')


def day_chart(rows):
    """Inline SVG bar chart of dumps per day, from the first to the last day seen (at most 120 days)."""
    days = {}
    for row in rows:
        if row['time']:
            days[row['time'][:10]] = days.get(row['time'][:10], 0) + 1
    if not days:
        return '<p>No dated dumps.</p>'
    last = datetime.date.fromisoformat(max(days))
    first = max(datetime.date.fromisoformat(min(days)), last - datetime.timedelta(days=119))
    series = []
    while first <= last:
        series.append((first.isoformat(), days.get(first.isoformat(), 0)))
        first += datetime.timedelta(days=1)
    top = max(n for _d, n in series)
    bar_width, height = 14, 120
    width = len(series) * bar_width + 40
    parts = ['<svg width="%d" height="%d" role="img" aria-label="crashes per day">' % (
        width, height + 40), '<line x1="30" y1="%d" x2="%d" y2="%d" stroke="#888"/>' % (height, width, height),
        '<text x="0" y="12" font-size="10">%d</text>' % top]
    for idx, (day, count) in enumerate(series):
        size = int(round(count * (height - 10) / top)) if top else 0
        parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="#c0392b"><title>%s: %d</title></rect>' % (
            32 + idx * bar_width, height - size, bar_width - 2, size, day, count))
    parts.append('<text x="32" y="%d" font-size="10">%s</text>' % (height + 14, series[0][0]))
    parts.append('<text x="%d" y="%d" font-size="10" text-anchor="end">%s</text>' % (width, height + 28, series[-1][0]))
    parts.append('</svg>')
    return '\n'.join(parts)


def esc(value):
    return html.escape(value)


def html_table(headers, rows):
    out = ['<table><tr>%s</tr>' % ''.join('<th>%s</th>' % esc(h) for h in headers)]
    for row in rows:
        out.append('<tr>%s</tr>' % ''.join('<td>%s</td>' % esc(cell(v)) for v in row))
    out.append('</table>')
    return '\n'.join(out)


def title_table(groups, since):
    """Titles (signatures) with their hosts and kernels; a known issue links to its record, a title first seen at
    or after since is marked new."""
    out = ['<table><tr>%s</tr>' % ''.join('<th>%s</th>' % h for h in (
        'title', 'dumps', 'hosts', 'kernels', 'first seen', 'last seen', 'issue'))]
    for group in groups:
        issue = group['known_issue']
        status = ('<a href="%s">known</a>%s' % (esc(issue['url']), ' ' + esc(issue['note']) if issue['note'] else '')
                  if issue else 'new')
        recent = ' <strong class="new">new since %s</strong>' % esc(since) if (group['first_seen'] or '') >= since else ''
        out.append('<tr><td>%s%s</td><td>%d</td><td title="%s">%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
            esc(group['title']), recent, group['count'], esc(', '.join(group['hosts'])), len(group['hosts']),
            esc(', '.join(group['kernels'])), esc(cell(group['first_seen'])), esc(cell(group['last_seen'])), status))
    out.append('</table>')
    return '\n'.join(out)


def cmd_report(args):
    conn = open_db(args.db, create=False)
    stats = gather_stats(conn)
    rows = stats['rows']
    now = utcnow()
    since = (parse_since(args.new_since, '--new-since') if args.new_since
             else (now - datetime.timedelta(hours=24)).strftime('%Y-%m-%dT%H:%M:%SZ'))
    bad = [r for r in rows if r['state'] in ('incomplete', 'empty', 'missing') or r['error']]
    titled = [g for g in stats['by_signature'] if g['title']]
    with open(TEMPLATE, encoding='utf-8') as handle:
        page = string.Template(handle.read())
    atomic_write(args.html, page.substitute(
        generated=now.strftime('%Y-%m-%d %H:%M UTC'), total=stats['total'],
        states=esc(', '.join('%s %d' % kv for kv in sorted(stats['by_state'].items())) or 'none'),
        hosts=len(stats['by_host']), chart=day_chart(rows),
        titles=title_table(titled[:50], since) if titled else '<p>No crash report found in any dmesg.</p>',
        host_table=html_table(
            ['host', 'dumps', 'kernels', 'first seen', 'last seen'],
            [[g['host'], g['count'], ', '.join(g['kernels']), g['first_seen'], g['last_seen']] for g in stats['by_host']]),
        damaged=html_table(
            ['id', 'host', 'time', 'state', 'bytes', 'problem'],
            [[r['id'], r['host'], r['time'], r['state'], r['dump_bytes'], r['error']] for r in bad]) if bad else '<p>None.</p>',
        dumps=html_table(
            ['id', 'time', 'host', 'state', 'bytes', 'format', 'kernel', 'title', 'reason'],
            [[r['id'], r['time'], r['host'], r['state'], r['dump_bytes'], r['dump_format'], r['kernel'], r['title'],
              r['reason']] for r in reversed(rows)])))
    return 0
