# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.fleet.kdump.plugins.filter.collector_nfs_clients import FilterModule

nfs_clients = FilterModule().filters()['collector_nfs_clients']

HOSTS = [
    {'inventory_hostname': 'a', 'kdump_ssh_from': ['10.0.0.1/32'], 'kdump_ssh_from_override': ['192.0.2.1']},
    {'inventory_hostname': 'b', 'kdump_ssh_from': [], 'kdump_ssh_from_override': ['192.0.2.2']},
    {'inventory_hostname': 'c', 'ansible_facts': {'all_ipv4_addresses': ['10.0.0.3', '10.0.0.1/32'],
                                                  'all_ipv6_addresses': ['2001:db8::3']}},
    {'inventory_hostname': 'd'},
]


def test_each_host_by_precedence_unique_in_first_order():
    assert nfs_clients(HOSTS) == ['10.0.0.1/32', '192.0.2.2', '10.0.0.3', '2001:db8::3']


def test_configured_clients_replace_the_hosts():
    assert nfs_clients(HOSTS, ['nfs.example.com', 'nfs.example.com']) == ['nfs.example.com']


def test_no_hosts_no_clients():
    assert nfs_clients([]) == []


@pytest.mark.parametrize('hosts, clients', [
    ('a', None), ([None], None), ([{'inventory_hostname': 'a', 'kdump_ssh_from': '10.0.0.1'}], None), ([], '10.0.0.1'),
])
def test_bad_input(hosts, clients):
    # A string where a list belongs would otherwise become one client per character.
    with pytest.raises(AnsibleFilterError, match='collector_nfs_clients'):
        nfs_clients(hosts, clients)
