# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.kdump_readiness: the fleet readiness report as data, text table and HTML."""

from __future__ import annotations

DOCUMENTATION = r"""
name: kdump_readiness
version_added: 0.1.0
author: fleet.kdump contributors (@fleet-kdump)
short_description: Classify fleet hosts by kdump readiness and render the report as a table and an HTML page
description:
  - Takes one entry per host, as collected by the C(fleet.kdump.readiness) playbook, and returns the fleet readiness report.
  - "Each host gets one state, decided in this order: V(unreachable); V(error) (no crashkernel facts); V(disabled)
    (C(kdump_state) is V(disabled)); V(reboot pending) (the boot configuration reserves something else than the running
    kernel); V(not ready) (with the reason from M(fleet.kdump.crashkernel_facts)); V(policy drift) (a live or next-boot value
    of the panic policy differs from the one the P(fleet.kdump.kdump#role) role set, C(panic_policy.drift)); V(not ready)
    again when the host's latest dump on the collector, not older than its last crash test, is incomplete or empty;
    V(never crash-tested);
    V(crash test failed); V(untested since change) (the kernel release or the kdump configuration hash differs from
    those of the last crash test); V(ready)."
  - The text table and the HTML page (self-contained, inline CSS and SVG, no external assets) are rendered here and
    nowhere else.
positional: generated
options:
  _input:
    description:
      - "One dict per host with the keys C(host) (inventory name, required), C(reachable) (bool, default V(true)),
        C(facts) (the C(ansible_facts.crashkernel) dict of M(fleet.kdump.crashkernel_facts)), C(crash_test) (the content
        of the host's C(kdump_crash_test.fact) with C(time), C(outcome), C(kernel_release), C(config_hash), C(dump_bytes)
        and C(detail)), C(config_hash) (the current kdump configuration hash), C(last_dump) (the collector's answer for
        the host, RV(fleet.kdump.collector_query#module:hosts) with O(fleet.kdump.collector_query#module:last=1)) and
        C(error) (text shown when the host could not be read)."
    type: list
    elements: dict
    required: true
  generated:
    description: Time of the report, shown in the page and returned as is.
    type: string
seealso:
  - module: fleet.kdump.crashkernel_facts
"""

EXAMPLES = r"""
- name: Build the readiness report
  ansible.builtin.set_fact:
    kdump_report: "{{ entries | fleet.kdump.kdump_readiness(now(utc=true).isoformat()) }}"
  vars:
    entries:
      - host: web1
        facts: "{{ hostvars['web1'].ansible_facts.crashkernel }}"
        crash_test: "{{ hostvars['web1'].ansible_local.kdump_crash_test | default(none) }}"
        config_hash: "{{ hostvars['web1'].kdump_config_hash }}"
      - host: web2
        reachable: false

- name: Print the table
  ansible.builtin.debug:
    msg: "{{ kdump_report.table.splitlines() }}"
"""

RETURN = r"""
_value:
  description: The report.
  type: dict
  contains:
    generated:
      description: The O(generated) argument.
      type: str
    counts:
      description: Number of hosts per state (every state is present).
      type: dict
    ready:
      description: Number of hosts in state V(ready).
      type: int
    sizing:
      description: Number of under- and over-reserved hosts, keys C(under) and C(over).
      type: dict
    hosts:
      description:
        - One dict per host, sorted by state (worst first) then name, with the keys C(host), C(state), C(reason),
          C(kdump_state), C(reserved_bytes), C(expected_bytes), C(recommended_bytes), C(recommended_spec), C(sizing),
          C(kernel_release), C(config_hash), C(problems), C(panics_on), C(panic_timeout), C(policy_managed), C(policy_drift)
          C(last_test) (whose C(kind) is the crash kind of the test) and C(last_dump) (C(time), C(state), C(title),
          C(reason) of the latest dump on the collector, or V(null)).
        - C(panics_on) lists the failure classes the host's live panic policy turns into a panic (and so a dump),
          C(panic_timeout) is its C(kernel.panic), C(policy_managed) tells whether the role set the policy, C(policy_drift)
          names the sysctls that differ from it; V(null) (C(policy_drift) empty) for facts without C(panic_policy).
        - C(sizing) compares the reservation with the host's C(recommended_bytes) (M(fleet.kdump.crashkernel_facts)), giving
          V(under) below it, V(over) above it by more than 64 MiB or half of it (whichever is larger), V(ok) otherwise,
          V(null) when either is unknown or nothing is reserved.
      type: list
      elements: dict
    table:
      description: >-
        Fixed-width text table (host, state, reserved, expected and recommended bytes, kernel, what the host panics on and
        when it reboots after a panic, last test, reason).
      type: str
    html:
      description: Static HTML page with the table, the under- and over-reserved counts and an inline SVG chart of hosts per state.
      type: str
"""

import os
from collections.abc import Mapping

import jinja2
from ansible.errors import AnsibleFilterError

from ansible_collections.fleet.kdump.plugins.module_utils._sizes import format_bytes

# Report order: what needs the operator first.
STATES = ('unreachable', 'error', 'not ready', 'reboot pending', 'policy drift', 'crash test failed', 'untested since change',
          'never crash-tested', 'disabled', 'ready')
COLOURS = {
    'unreachable': '#7f8c8d', 'error': '#8e44ad', 'not ready': '#c0392b', 'reboot pending': '#d35400', 'policy drift': '#e67e22',
    'crash test failed': '#e74c3c', 'untested since change': '#f39c12', 'never crash-tested': '#f1c40f',
    'disabled': '#95a5a6', 'ready': '#27ae60',
}
TABLE_COLUMNS = (('HOST', 'host'), ('STATE', 'state'), ('RESERVED', 'reserved'), ('EXPECTED', 'expected'),
                 ('RECOMMENDED', 'recommended'), ('KERNEL', 'kernel_release'), ('PANICS ON', 'panics_on'),
                 ('LAST TEST', 'last_test'), ('REASON', 'reason'))
HTML_COLUMNS = ('reserved', 'expected', 'recommended', 'kernel_release', 'panics_on', 'last_test', 'reason')
HTML_HEADERS = ('host', 'state', 'reserved', 'expected', 'recommended', 'kernel', 'panics on', 'last crash test', 'reason')
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
    """Bytes in the report ('128 MiB', '1.5 GiB'); '-' when unknown."""
    return '-' if value is None else format_bytes(value)


def panic_policy(facts):
    """The panic_policy dict of crashkernel_facts, {} when the facts predate it."""
    policy = facts.get('panic_policy')
    return policy if isinstance(policy, Mapping) else {}


def drift_reason(policy):
    """'kernel.panic is 0 now (10 at boot), the policy sets 10; ...' for every sysctl that drifted."""
    parts = []
    for key in policy.get('drift') or []:
        live = (policy.get('live') or {}).get(key)
        boot = (policy.get('boot') or {}).get(key)
        parts.append('%s is %s now (%s at boot), the policy sets %s' % (
            key, '-' if live is None else live, 'unset' if boot is None else boot, (policy.get('managed') or {}).get(key)))
    return '; '.join(parts)


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
    policy = panic_policy(facts)
    if policy.get('drift'):
        return 'policy drift', drift_reason(policy)
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
    policy = panic_policy(facts)
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
        'panics_on': list(policy['panics_on']) if 'panics_on' in policy else None,
        'panic_timeout': (policy.get('live') or {}).get('kernel.panic'),
        'policy_managed': policy.get('managed') is not None if policy else None,
        'policy_drift': list(policy.get('drift') or []),
        'last_test': {k: test.get(k) for k in ('time', 'outcome', 'kind', 'kernel_release', 'config_hash', 'dump_bytes')} if test else None,
        'last_dump': {k: latest.get(k) for k in ('time', 'state', 'title', 'reason')} if latest else None,
    }


def policy_text(row):
    """'oops,unrecovered_nmi; reboot after 10s' (the classes the live policy panics on, and kernel.panic); '-' when unknown."""
    if row['panics_on'] is None:
        return '-'
    timeout = row['panic_timeout']
    return '%s; reboot %s' % (','.join(row['panics_on']) or 'nothing',
                              'never' if timeout in (0, None) else 'at once' if timeout < 0 else 'after %ss' % timeout)


def table_cells(row):
    test = row['last_test']
    return {
        'host': row['host'], 'state': row['state'], 'reason': row['reason'],
        'reserved': size_text(row['reserved_bytes']), 'expected': size_text(row['expected_bytes']),
        'recommended': size_text(row['recommended_bytes']) + (' (%s)' % row['sizing'] if row['sizing'] in ('under', 'over') else ''),
        'kernel_release': row['kernel_release'] or '-',
        'panics_on': policy_text(row),
        'last_test': '%s %s%s' % (test['outcome'], test['time'], _kind_text(test)) if test else '-',
    }


def _kind_text(test):
    # Crash tests of other kinds than sysrq prove a part of the panic policy: say which.
    return ' (%s)' % test['kind'] if test.get('kind') not in (None, 'sysrq') else ''


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
