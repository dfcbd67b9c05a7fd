# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.fleet.kdump.plugins.filter.collector_tag_map import FilterModule

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
