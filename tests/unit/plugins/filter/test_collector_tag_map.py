# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible.errors import AnsibleFilterError

from ansible_collections.fleet.kdump.plugins.filter.collector_tag_map import FilterModule, host_tags
from ansible_collections.fleet.kdump.plugins.module_utils._collector_names import is_name

tag_map = FilterModule().filters()['collector_tag_map']


def host(name, tags=None, **facts):
    entry = {'inventory_hostname': name}
    if tags is not None:
        entry['kdump_ssh_tags'] = tags
    if facts:
        entry['ansible_facts'] = facts
    return entry


def test_published_tags_without_ipv6():
    assert tag_map([host('web1', ['web1', 'web1.example.com', '10.0.0.5', 'fe80::1'])]) == {
        '10.0.0.5': 'web1', 'web1': 'web1', 'web1.example.com': 'web1'}


def test_gathered_facts_when_nothing_was_published():
    hosts = [host('web1', hostname='web1', nodename='web1.lan', all_ipv4_addresses=['10.0.0.5']),
             host('web2', hostname='web2', all_ipv4_addresses=[])]
    assert tag_map(hosts) == {'10.0.0.5': 'web1', 'web1': 'web1', 'web1.lan': 'web1', 'web2': 'web2'}


def test_hosts_absent_from_the_run_keep_their_old_entries():
    old = {'10.0.0.9': 'retired', 'web1-old': 'web1', 'db1': 'db1'}
    hosts = [host('web1', ['web1']), host('db1')]  # db1: known by name only, nothing gathered
    assert tag_map(hosts, old=old) == {'10.0.0.9': 'retired', 'db1': 'db1', 'web1': 'web1'}


def test_revoked_hosts_lose_every_entry():
    old = {'10.0.0.9': 'gone'}
    assert tag_map([host('gone', ['gone']), host('web1', ['web1'])], old=old, revoked=['gone']) == {'web1': 'web1'}


def test_a_tag_two_hosts_claim_is_left_out():
    hosts = [host('web1', ['web1', '10.0.2.2']), host('web2', ['web2', '10.0.2.2'])]
    assert tag_map(hosts) == {'web1': 'web1', 'web2': 'web2'}
    # Also against an old entry of a host absent from this run.
    assert tag_map([host('web1', ['web1', 'nat'])], old={'nat': 'web9'}) == {'web1': 'web1'}


def test_names_the_collector_refuses_are_left_out():
    hosts = [host('web1', ['web1', 'bad tag', '-x', 'a' * 254, 7])]
    assert tag_map(hosts, old={'ok': 'bad name', 'bad key': 'web2', 'fine': 'web2'}) == {
        '7': 'web1', 'fine': 'web2', 'web1': 'web1'}


def test_generator_input():
    assert tag_map(h for h in [host('web1', ['web1'])]) == {'web1': 'web1'}


@pytest.mark.parametrize('hosts', ['web1', {'web1': {}}, [None], [{'kdump_ssh_tags': ['a']}], [host('web1', 'web1')]])
def test_bad_input(hosts):
    with pytest.raises(AnsibleFilterError, match='collector_tag_map'):
        tag_map(hosts)


NAMES = st.sampled_from(['web1', 'web2', 'db1', 'db2'])
TAGS = st.sampled_from(['web1', 'web2', 'db1', 'h1', '10.0.0.1', '10.0.0.2', 'fe80::1', 'bad tag', '-x', '', 'a' * 254])
HOSTS = st.dictionaries(NAMES, st.one_of(
    st.none(),
    st.lists(TAGS, max_size=4),
    st.fixed_dictionaries({'hostname': TAGS}, optional={'nodename': TAGS, 'all_ipv4_addresses': st.lists(TAGS, max_size=3)})))


def _fleet(spec):
    hosts = []
    for name, data in sorted(spec.items()):
        if data is None:
            hosts.append(host(name))
        elif isinstance(data, list):
            hosts.append(host(name, data))
        else:
            hosts.append(host(name, **data))
    return hosts


@settings(max_examples=500, deadline=None)
@given(HOSTS, st.dictionaries(TAGS, st.one_of(NAMES, TAGS), max_size=4), st.lists(NAMES, max_size=2))
def test_invariants(spec, old, revoked):
    hosts = _fleet(spec)
    result = tag_map(hosts, old=old, revoked=revoked)
    claims = {}
    seen = set()
    for entry in hosts:
        tags = host_tags(entry)
        if tags is not None and entry['inventory_hostname'] not in revoked:
            seen.add(entry['inventory_hostname'])
            for tag in tags:
                claims.setdefault(tag, set()).add(entry['inventory_hostname'])
    for tag, name in old.items():
        if name not in seen and name not in revoked:
            claims.setdefault(tag, set()).add(name)
    for tag, name in result.items():
        # Only names the collector accepts, never a revoked host, and only the one host that claims the tag.
        assert is_name(tag) and is_name(name) and name not in revoked
        assert claims[tag] - {n for n in claims[tag] if not is_name(n)} == {name}
    # Every tag exactly one valid host claims is kept.
    for tag, names in claims.items():
        valid = {n for n in names if is_name(n)}
        if is_name(tag) and len(valid) == 1:
            assert result[tag] == valid.pop()
