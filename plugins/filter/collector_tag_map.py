# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.collector_tag_map: which fleet host an NFS dump directory tag belongs to (docs in the .yml file)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.fleet.kdump.plugins.module_utils._collector_names import is_name


def host_tags(host):
    """Every tag HOSTTAG can give this host, or None when this run knows nothing about it.

    kdump_ssh_tags when the kdump role published them, else the gathered host name, nodename and IPv4
    addresses. IPv6 addresses are left out: HOSTTAG=ip only ever writes IPv4.
    """
    if host.get('kdump_ssh_tags') is not None:
        tags = host['kdump_ssh_tags']
        if isinstance(tags, (str, bytes)) or not isinstance(tags, (list, tuple)):
            raise AnsibleFilterError('collector_tag_map: kdump_ssh_tags of %s must be a list, got %r'
                                     % (host.get('inventory_hostname'), tags))
    else:
        facts = host.get('ansible_facts')
        if not isinstance(facts, Mapping) or facts.get('hostname') is None:
            return None
        tags = [facts['hostname'], facts.get('nodename') or facts['hostname']] + list(facts.get('all_ipv4_addresses') or [])
    return [str(tag) for tag in tags if ':' not in str(tag)]


def collector_tag_map(hosts, old=None, revoked=()):
    """tag -> inventory name from this run's fleet hosts and the previous map, ambiguous tags left out."""
    if not isinstance(hosts, Iterable) or isinstance(hosts, (str, bytes, Mapping)):
        raise AnsibleFilterError('collector_tag_map: input must be a list of host variables, got %s' % type(hosts).__name__)
    revoked = set(revoked or ())
    pairs = set()
    seen = set()
    for host in hosts:
        if not isinstance(host, Mapping) or not host.get('inventory_hostname'):
            raise AnsibleFilterError('collector_tag_map: every host must be a mapping with inventory_hostname, got %r' % (host,))
        name = str(host['inventory_hostname'])
        tags = host_tags(host)
        if name in revoked or tags is None:
            continue
        seen.add(name)
        pairs.update((tag, name) for tag in tags)
    # Hosts absent from this run keep their old entries (only well-formed ones: the file is read back from the collector).
    for tag, name in (old or {}).items():
        if is_name(name) and name not in seen and name not in revoked:
            pairs.add((tag, name))
    owners = {}
    for tag, name in pairs:
        if is_name(tag):
            owners.setdefault(tag, set()).add(name)
    # A tag two hosts claim (a shared NAT address) is left out: index files those dumps under the tag itself.
    return dict(sorted((tag, names.pop()) for tag, names in owners.items() if len(names) == 1))


class FilterModule:
    """The collector's NFS tag map."""

    def filters(self):
        return {'collector_tag_map': collector_tag_map}
