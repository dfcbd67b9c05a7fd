# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.collector_nfs_clients: the clients the collector exports its NFS dump directory to."""

from __future__ import annotations

DOCUMENTATION = r"""
name: collector_nfs_clients
version_added: 0.2.0
author: fleet.kdump contributors (@fleet-kdump)
short_description: The clients the collector exports its NFS dump directory to
description:
  - Returns O(clients) when it is not empty. Otherwise, for each fleet host that dumps over NFS, its C(kdump_ssh_from)
    (published by the P(fleet.kdump.kdump#role) role), else its C(kdump_ssh_from_override), else its gathered IPv4 and
    IPv6 addresses.
  - Every client is returned as a string, once, in the order first seen. The P(fleet.kdump.collector#role) role checks
    them before they reach C(/etc/exports.d).
options:
  _input:
    description: The variables of each fleet host that dumps over NFS (for example C(hostvars) entries).
    type: list
    elements: dict
    required: true
  clients:
    description: Clients given explicitly (the role's C(collector_nfs_clients)); they replace the hosts' addresses.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: The NFS clients of the hosts that dump over NFS
  ansible.builtin.debug:
    msg: "{{ groups['kdump_fleet'] | map('extract', hostvars) | selectattr('kdump_target', 'eq', 'nfs')
             | fleet.kdump.collector_nfs_clients }}"
"""

RETURN = r"""
_value:
  description: Addresses, networks or host names, unique, in the order first seen.
  type: list
  elements: str
  sample: ["192.0.2.10", "192.0.2.11", "2001:db8::11"]
"""

from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleFilterError


def _list(what, value):
    if isinstance(value, (list, tuple)):
        return list(value)
    raise AnsibleFilterError('collector_nfs_clients: %s must be a list, got %r' % (what, value))


def _addresses(host):
    """A host's NFS client addresses: kdump_ssh_from, else kdump_ssh_from_override, else its gathered addresses."""
    for key in ('kdump_ssh_from', 'kdump_ssh_from_override'):
        if host.get(key):
            return _list('%s of %s' % (key, host.get('inventory_hostname')), host[key])
    facts = host.get('ansible_facts') if isinstance(host.get('ansible_facts'), Mapping) else {}
    return [address for key in ('all_ipv4_addresses', 'all_ipv6_addresses')
            for address in _list('%s of %s' % (key, host.get('inventory_hostname')), facts.get(key) or [])]


def collector_nfs_clients(hosts, clients=None):
    """`clients` when given, else the addresses of every host, as unique strings in their first order."""
    if not isinstance(hosts, Iterable) or isinstance(hosts, (str, bytes, Mapping)):
        raise AnsibleFilterError('collector_nfs_clients: input must be a list of host variables, got %s' % type(hosts).__name__)
    found = _list('clients', clients or [])
    if not found:
        for host in hosts:
            if not isinstance(host, Mapping):
                raise AnsibleFilterError('collector_nfs_clients: every host must be a mapping, got %r' % (host,))
            found.extend(_addresses(host))
    return list(dict.fromkeys(str(client) for client in found))


class FilterModule:
    """The collector's NFS clients."""

    def filters(self):
        return {'collector_nfs_clients': collector_nfs_clients}
