# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
from html.parser import HTMLParser

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.fleet.kdump.plugins.filter.kdump_readiness import FilterModule, size_text

FIXTURE = os.path.join(os.path.dirname(__file__), '..', '..', 'playbooks', 'fixtures', 'readiness-entries.json')
kdump_readiness = FilterModule().filters()['kdump_readiness']


@pytest.fixture
def entries():
    with open(FIXTURE, encoding='utf-8') as handle:
        return json.load(handle)


def states(report):
    return dict((row['host'], row['state']) for row in report['hosts'])


def test_every_state(entries):
    report = kdump_readiness(entries, '2026-11-26T14:00:00Z')
    assert states(report) == {
        'web1': 'ready', 'web2': 'untested since change', 'web3': 'policy drift', 'db1': 'not ready', 'db2': 'reboot pending',
        'app1': 'disabled', 'app2': 'never crash-tested', 'app3': 'crash test failed', 'gone1': 'unreachable',
    }
    assert report['ready'] == 1
    assert sum(report['counts'].values()) == len(entries)
    assert report['generated'] == '2026-11-26T14:00:00Z'


def test_rows_sorted_worst_first(entries):
    hosts = [row['host'] for row in kdump_readiness(entries)['hosts']]
    assert hosts[0] == 'gone1'
    assert hosts[-1] == 'web1'


def test_reasons(entries):
    rows = dict((row['host'], row) for row in kdump_readiness(entries)['hosts'])
    assert rows['db1']['reason'] == 'no crashkernel= on the kernel command line'
    assert 'kernel 6.1.0-28-amd64 -> 6.1.0-29-amd64' in rows['web2']['reason']
    assert 'kdump configuration' in rows['web2']['reason']
    assert 'crashkernel=384M-:128M' in rows['db2']['reason']
    assert 'No route to host' in rows['gone1']['reason']
    assert rows['app3']['reason'].endswith('no dump arrived')
    assert rows['web3']['reason'] == 'kernel.panic is 10 now (0 at boot), the policy sets 10'


def test_panic_policy_shown(entries):
    report = kdump_readiness(entries)
    rows = dict((row['host'], row) for row in report['hosts'])
    assert rows['web1']['panics_on'] == ['oops', 'unknown_nmi', 'unrecovered_nmi'] and rows['web1']['panic_timeout'] == 10
    assert rows['web1']['policy_managed'] is True and rows['web1']['policy_drift'] == []
    assert rows['web3']['policy_drift'] == ['kernel.panic']
    # Facts from before the panic policy existed show nothing rather than a wrong policy.
    assert rows['db2']['panics_on'] is None and rows['db2']['policy_managed'] is None
    lines = dict((line.split()[0], line) for line in report['table'].splitlines())
    assert 'oops,unknown_nmi,unrecovered_nmi; reboot after 10s' in lines['web1']
    assert 'oops,hung_task; reboot after 10s' in lines['web3'] and 'ok 2026-11-26T12:10:00Z (hung_task)' in lines['web3']
    assert '<td>oops,unknown_nmi,unrecovered_nmi; reboot after 10s</td>' in report['html']


@pytest.mark.parametrize('timeout, text', [(0, 'never'), (-1, 'at once'), (None, 'never'), (30, 'after 30s')])
def test_panic_timeout_text(entries, timeout, text):
    entries[0]['facts']['panic_policy']['live']['kernel.panic'] = timeout
    row = kdump_readiness([entries[0]])['hosts'][0]
    assert row['state'] == 'ready'
    assert kdump_readiness([entries[0]])['table'].splitlines()[1].count('reboot %s' % text) == 1


def test_config_change_alone(entries):
    web1 = dict(entries[0], config_hash='other')
    row = kdump_readiness([web1])['hosts'][0]
    assert row['state'] == 'untested since change'
    assert row['reason'].endswith('kdump configuration')


def test_missing_facts_is_error():
    row = kdump_readiness([{'host': 'x', 'error': 'module failed'}])['hosts'][0]
    assert (row['state'], row['reason']) == ('error', 'module failed')


def test_table_fixed_width(entries):
    lines = kdump_readiness(entries)['table'].splitlines()
    assert lines[0].split() == ['HOST', 'STATE', 'RESERVED', 'EXPECTED', 'RECOMMENDED', 'KERNEL', 'PANICS', 'ON', 'LAST', 'TEST',
                                'REASON']
    assert len(lines) == len(entries) + 1
    column = lines[0].index('STATE')
    assert all(line[column - 2:column] == '  ' for line in lines)
    web1 = [line for line in lines if line.startswith('web1 ')][0]
    assert '128 MiB' in web1 and 'ok 2026-11-26T12:00:00Z' in web1


@pytest.mark.parametrize('reserved, recommended, verdict', [
    (128, 128, 'ok'), (112, 128, 'under'), (192, 128, 'ok'), (193, 128, 'over'), (512, 384, 'ok'), (577, 384, 'over'),
    (0, 128, None), (128, None, None), (None, 128, None),
])
def test_sizing_verdict(entries, reserved, recommended, verdict):
    mib = 1 << 20
    facts = dict(entries[0]['facts'], reserved_bytes=reserved and reserved * mib,
                 recommended_bytes=recommended and recommended * mib)
    report = kdump_readiness([dict(entries[0], facts=facts)])
    assert report['hosts'][0]['sizing'] == verdict
    assert report['sizing'] == {'under': int(verdict == 'under'), 'over': int(verdict == 'over')}
    if verdict in ('under', 'over'):
        assert '(%s)' % verdict in report['table'] and '%s-reserved 1' % verdict in report['html']


class Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.title, self._in_title = [], '', False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == 'title' and not self.title  # the page title, not the SVG tooltips

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def test_html_self_contained_and_escaped(entries):
    entries[0]['host'] = 'web1<script>'
    page = kdump_readiness(entries, '2026-11-26T14:00:00Z')['html']
    parser = Collect()
    parser.feed(page)
    names = [tag for tag, _a in parser.tags]
    assert parser.title == 'fleet.kdump readiness'
    assert names.count('tr') == len(entries) + 1
    assert 'svg' in names and names.count('rect') == 9  # one bar per state that has hosts
    assert 'script' not in names and 'web1&lt;script&gt;' in page
    assert not any(a.get('src') or a.get('href') for _t, a in parser.tags)


def test_empty_fleet():
    report = kdump_readiness([])
    assert report['hosts'] == [] and report['ready'] == 0
    assert '<svg' in report['html']


@pytest.mark.parametrize('value, text', [(None, '-'), (0, '0 bytes'), (1023, '1023 bytes'), (134217728, '128 MiB'), (1610612736, '1.5 GiB')])
def test_size_text(value, text):
    assert size_text(value) == text


@pytest.mark.parametrize('bad', ['web1', {'host': 'x'}, [{'facts': {}}], [None]])
def test_bad_input(bad):
    with pytest.raises(AnsibleFilterError, match='kdump_readiness'):
        kdump_readiness(bad)


def answer(*dumps, found=False, settled=True, why='dump 9 of 2026-11-27T08:00:00Z is incomplete: cut short'):
    """The collector's answer for a host (fleet.kdump.collector_query with last: 1)."""
    return {'found': found, 'settled': settled, 'why': why, 'dumps': list(dumps)}


@pytest.mark.parametrize('last_dump, state', [
    (None, 'ready'),
    (answer(), 'ready'),                                                                     # no dump on the collector
    (answer({'time': '2026-11-26T12:00:00Z', 'state': 'complete'}, found=True), 'ready'),    # the crash test's own dump
    (answer({'time': '2026-11-27T08:00:00Z', 'state': 'incomplete'}), 'not ready'),         # a real crash since, cut short
    (answer({'time': '2026-11-27T08:00:00Z', 'state': 'empty'}), 'not ready'),
    (answer({'time': '2026-11-27T08:00:00Z', 'state': 'incomplete'}, settled=False), 'ready'),  # still arriving
    (answer({'time': '2026-11-27T08:00:00Z', 'state': 'pruned'}), 'ready'),                  # was complete
    (answer({'time': '2026-11-25T08:00:00Z', 'state': 'incomplete'}), 'ready'),              # older than the passed test
    ('garbage', 'ready'),
    (answer('garbage'), 'ready'),
])
def test_latest_dump_on_the_collector(entries, last_dump, state):
    entry = dict(entries[0], last_dump=last_dump)
    row = kdump_readiness([entry])['hosts'][0]
    assert row['state'] == state
    if state == 'not ready':
        assert row['reason'] == ('its latest crash (2026-11-27T08:00:00Z) left no complete dump on the collector: '
                                 'dump 9 of 2026-11-27T08:00:00Z is incomplete: cut short')
        assert row['last_dump']['state'] in ('incomplete', 'empty')
