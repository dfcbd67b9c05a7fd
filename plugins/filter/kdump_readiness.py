# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.kdump_readiness: the fleet readiness report as data, text table and HTML (docs in the .yml file)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import jinja2
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
HTML_HEADERS = ('host', 'state', 'reserved', 'expected', 'recommended', 'kernel', 'last crash test', 'reason')
HTML_TEMPLATE = 'kdump_readiness.html.j2'
MIB = 1 << 20
# Over-reserved: more than the recommendation plus 64 MiB or half of it, whichever is larger.
OVER_SLACK_MIB = 64
OVER_SLACK_SHARE = 0.5
# Plain Jinja2 (no Ansible templating): the page's markup lives in plugins/plugin_utils/, the logic here.
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'plugin_utils')),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


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


def chart(counts):
    """Geometry of the SVG chart: one horizontal bar per state that has hosts."""
    present = [(s, counts[s]) for s in STATES if counts.get(s)]
    top = max([n for _s, n in present] or [1])
    row_height, label_width, scale = 22, 170, 400
    bars = [{'state': state, 'count': count, 'colour': COLOURS[state], 'y': 5 + idx * row_height,
             'text_y': 20 + idx * row_height, 'width': max(2, count * scale // top)}
            for idx, (state, count) in enumerate(present)]
    return {'width': label_width + scale + 60, 'height': row_height * max(len(present), 1) + 10,
            'bar_x': label_width, 'bar_height': row_height - 6, 'bars': bars}


def render_html(report):
    """The page, from the Jinja2 template shipped beside this collection's plugin utilities (autoescaped)."""
    rows = []
    for row in report['hosts']:
        cells = table_cells(row)
        rows.append({'host': row['host'], 'state': row['state'], 'css_class': row['state'].replace(' ', '-'),
                     'colour': COLOURS[row['state']], 'cells': [cells[k] for k in HTML_COLUMNS]})
    summary = ', '.join('%s %d' % (s, report['counts'][s]) for s in STATES if report['counts'].get(s)) or 'no hosts'
    summary += ''.join('; %s-reserved %d' % (k, n) for k, n in sorted(report['sizing'].items()) if n)
    return _TEMPLATES.get_template(HTML_TEMPLATE).render(
        generated=str(report['generated'] or '-'), hosts=report['hosts'], summary=summary, chart=chart(report['counts']),
        headers=HTML_HEADERS, rows=rows)


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
