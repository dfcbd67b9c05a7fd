# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.kdump_readiness: the fleet readiness report as data, text table and HTML (docs in the .yml file)."""

from __future__ import annotations

import html
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# Report order: what needs the operator first.
STATES = ('unreachable', 'error', 'not ready', 'reboot pending', 'crash test failed', 'untested since change',
          'never crash-tested', 'disabled', 'ready')
COLOURS = {
    'unreachable': '#7f8c8d', 'error': '#8e44ad', 'not ready': '#c0392b', 'reboot pending': '#d35400',
    'crash test failed': '#e74c3c', 'untested since change': '#f39c12', 'never crash-tested': '#f1c40f',
    'disabled': '#95a5a6', 'ready': '#27ae60',
}
TABLE_COLUMNS = (('HOST', 'host'), ('STATE', 'state'), ('RESERVED', 'reserved'), ('EXPECTED', 'expected'),
                 ('RECOMMENDED', 'recommended'), ('KERNEL', 'kernel_release'), ('LAST TEST', 'last_test'), ('REASON', 'reason'))
HTML_COLUMNS = ('reserved', 'expected', 'recommended', 'kernel_release', 'last_test', 'reason')
MIB = 1 << 20
# Over-reserved: more than the recommendation plus 64 MiB or half of it, whichever is larger.
OVER_SLACK_MIB = 64
OVER_SLACK_SHARE = 0.5


def size_text(value):
    """Bytes as a short binary size (128M, 1.5G); '-' when unknown."""
    if value is None:
        return '-'
    value = int(value)
    for unit, factor in (('G', 1 << 30), ('M', 1 << 20), ('K', 1 << 10)):
        if value >= factor:
            text = ('%.1f' % (value / factor)).rstrip('0').rstrip('.')
            return text + unit
    return str(value)


def classify(entry):
    """Return (state, reason) for one host's raw readiness entry."""
    if not entry.get('reachable', True):
        return 'unreachable', entry.get('error') or 'the host did not answer'
    facts = entry.get('facts')
    if not isinstance(facts, Mapping):
        return 'error', entry.get('error') or 'no crashkernel facts'
    kdump_state = facts.get('kdump_state')
    reason = facts.get('kdump_state_reason') or ''
    if kdump_state == 'disabled':
        return 'disabled', reason or 'USE_KDUMP is not 1'
    if facts.get('reboot_required'):
        now = 'ready now' if kdump_state == 'ready' else 'not ready now'
        return 'reboot pending', 'the next boot reserves crashkernel=%s (%s)' % (facts.get('configured_spec') or 'nothing', now)
    if kdump_state != 'ready':
        return 'not ready', reason or str(kdump_state)
    test = entry.get('crash_test')
    failed = failed_dump(entry.get('last_dump'), test)
    if failed:
        return 'not ready', failed
    if not isinstance(test, Mapping) or not test.get('outcome'):
        return 'never crash-tested', 'no crash test recorded on this host'
    if test.get('outcome') != 'ok':
        return 'crash test failed', 'last crash test %s failed: %s' % (test.get('time', '?'), test.get('detail') or 'no detail')
    changed = []
    if test.get('kernel_release') != facts.get('kernel_release'):
        changed.append('kernel %s -> %s' % (test.get('kernel_release'), facts.get('kernel_release')))
    if entry.get('config_hash') and test.get('config_hash') != entry.get('config_hash'):
        changed.append('kdump configuration')
    if changed:
        return 'untested since change', 'changed since the crash test of %s: %s' % (test.get('time', '?'), ', '.join(changed))
    return 'ready', 'crash-tested %s' % test.get('time', '?')


def latest_dump(answer):
    """The newest dump in the collector's answer for a host (fleet.kdump.collector_query), or None."""
    dumps = answer.get('dumps') if isinstance(answer, Mapping) else None
    return dumps[-1] if isinstance(dumps, list) and dumps and isinstance(dumps[-1], Mapping) else None


def failed_dump(answer, test):
    """Why the host's latest dump on the collector shows kdump failing (settled, incomplete or empty, not older than
    the last crash test), or None."""
    latest = latest_dump(answer)
    if latest is None or answer.get('found') or not answer.get('settled') or latest.get('state') not in ('incomplete', 'empty'):
        return None
    tested = test.get('time') if isinstance(test, Mapping) else None
    if tested and str(latest.get('time') or '') < str(tested)[:16]:
        return None
    return 'its latest crash (%s) left no complete dump on the collector: %s' % (latest.get('time') or '?', answer.get('why'))


def sizing(reserved, recommended):
    """'under', 'over' or 'ok' for the reservation against crashkernel_facts' recommendation; None when unknown."""
    if not reserved or not recommended:
        return None
    if reserved < recommended:
        return 'under'
    if reserved > recommended + max(OVER_SLACK_MIB * MIB, OVER_SLACK_SHARE * recommended):
        return 'over'
    return 'ok'


def build_row(entry):
    if not isinstance(entry, Mapping) or not entry.get('host'):
        raise AnsibleFilterError('kdump_readiness: every entry must be a dict with a host key, got %r' % (entry,))
    state, reason = classify(entry)
    latest = latest_dump(entry.get('last_dump'))
    facts = entry.get('facts') if isinstance(entry.get('facts'), Mapping) else {}
    test = entry.get('crash_test') if isinstance(entry.get('crash_test'), Mapping) else {}
    return {
        'host': str(entry['host']),
        'state': state,
        'reason': reason,
        'kdump_state': facts.get('kdump_state'),
        'reserved_bytes': facts.get('reserved_bytes'),
        'expected_bytes': facts.get('expected_bytes'),
        'recommended_bytes': facts.get('recommended_bytes'),
        'recommended_spec': facts.get('recommended_spec'),
        'sizing': sizing(facts.get('reserved_bytes'), facts.get('recommended_bytes')),
        'kernel_release': facts.get('kernel_release'),
        'config_hash': entry.get('config_hash'),
        'problems': list(facts.get('problems') or []),
        'last_test': {k: test.get(k) for k in ('time', 'outcome', 'kernel_release', 'config_hash', 'dump_bytes')} if test else None,
        'last_dump': {k: latest.get(k) for k in ('time', 'state', 'title', 'reason')} if latest else None,
    }


def table_cells(row):
    test = row['last_test']
    return {
        'host': row['host'], 'state': row['state'], 'reason': row['reason'],
        'reserved': size_text(row['reserved_bytes']), 'expected': size_text(row['expected_bytes']),
        'recommended': size_text(row['recommended_bytes']) + (' (%s)' % row['sizing'] if row['sizing'] in ('under', 'over') else ''),
        'kernel_release': row['kernel_release'] or '-',
        'last_test': '%s %s' % (test['outcome'], test['time']) if test else '-',
    }


def render_table(rows):
    cells = [table_cells(r) for r in rows]
    widths = [max([len(title)] + [len(c[key]) for c in cells]) for title, key in TABLE_COLUMNS]
    lines = []
    for line in [dict((key, title) for title, key in TABLE_COLUMNS)] + cells:
        lines.append('  '.join(line[key].ljust(width) for (_t, key), width in zip(TABLE_COLUMNS, widths)).rstrip())
    return '\n'.join(lines)


def render_chart(counts):
    """Inline SVG: one horizontal bar per state that has hosts."""
    present = [(s, counts[s]) for s in STATES if counts.get(s)]
    top = max([n for _s, n in present] or [1])
    row_height, label_width, scale = 22, 170, 400
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="hosts per readiness state">'
             % (label_width + scale + 60, row_height * max(len(present), 1) + 10)]
    for idx, (state, count) in enumerate(present):
        y = 5 + idx * row_height
        parts.append('<text x="0" y="%d" font-size="13">%s</text>' % (y + 15, html.escape(state)))
        parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s: %d</title></rect>'
                     % (label_width, y, max(2, count * scale // top), row_height - 6, COLOURS[state], html.escape(state), count))
        parts.append('<text x="%d" y="%d" font-size="13">%d</text>' % (label_width + max(2, count * scale // top) + 6, y + 15, count))
    parts.append('</svg>')
    return '\n'.join(parts)


def render_html(report):
    esc = html.escape
    rows = []
    for row in report['hosts']:
        cells = table_cells(row)
        rows.append('<tr class="%s"><td>%s</td><td><span class="badge" style="background:%s">%s</span></td>%s</tr>' % (
            esc(row['state'].replace(' ', '-')), esc(row['host']), COLOURS[row['state']], esc(row['state']),
            ''.join('<td>%s</td>' % esc(cells[k]) for k in HTML_COLUMNS)))
    summary = ', '.join('%s %d' % (s, report['counts'][s]) for s in STATES if report['counts'].get(s)) or 'no hosts'
    summary += ''.join('; %s-reserved %d' % (k, n) for k, n in sorted(report['sizing'].items()) if n)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>fleet.kdump readiness</title>\n'
        '<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}'
        'td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}th{background:#eee}'
        'td:not(:last-child){white-space:nowrap}.badge{color:#fff;padding:1px 6px;border-radius:3px}</style>\n</head><body>\n'
        '<h1>fleet.kdump readiness</h1>\n<p>Generated %s. %d hosts: %s.</p>\n%s\n'
        '<table><tr><th>host</th><th>state</th><th>reserved</th><th>expected</th><th>recommended</th><th>kernel</th>'
        '<th>last crash test</th><th>reason</th></tr>\n%s\n</table>\n</body></html>\n'
    ) % (esc(str(report['generated'] or '-')), len(report['hosts']), esc(summary), render_chart(report['counts']), '\n'.join(rows))


def kdump_readiness(entries, generated=None):
    """Classify every host and return the report: hosts, counts, table and html."""
    if not isinstance(entries, (list, tuple)):
        raise AnsibleFilterError('kdump_readiness: input must be a list of host entries, got %s' % type(entries).__name__)
    rows = sorted((build_row(e) for e in entries), key=lambda r: (STATES.index(r['state']), r['host']))
    report = {
        'generated': generated,
        'counts': dict((s, sum(1 for r in rows if r['state'] == s)) for s in STATES),
        'hosts': rows,
        'sizing': dict((v, sum(1 for r in rows if r['sizing'] == v)) for v in ('under', 'over')),
    }
    report['ready'] = report['counts']['ready']
    report['table'] = render_table(rows)
    report['html'] = render_html(report)
    return report


class FilterModule:
    """Fleet readiness report."""

    def filters(self):
        return {'kdump_readiness': kdump_readiness}
