# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.collector_tag_map: which fleet host an NFS dump directory tag belongs to."""

from __future__ import annotations

DOCUMENTATION = r"""
name: collector_tag_map
version_added: 0.2.0
author: fleet.kdump contributors (@fleet-kdump)
short_description: Map the dump directory tags of NFS dumps to the fleet hosts they come from
description:
  - Over NFS, kdump-tools writes C(<export>/<tag>-<stamp>/), where the tag is the host name or an IPv4 address
    (C(HOSTTAG)). The P(fleet.kdump.collector#role) role writes this map to the collector, so that
    C(kdump-collector index --tag-map) files each dump under its inventory host.
  - A host's tags are its C(kdump_ssh_tags) (published by the P(fleet.kdump.kdump#role) role), else its gathered
    C(hostname), C(nodename) and IPv4 addresses; IPv6 addresses are never tags. A host with neither is not known
    to this run.
  - Hosts known to this run replace their old entries; entries of hosts absent from this run are kept from O(old);
    revoked hosts lose theirs.
  - A tag claimed by two hosts (for example a shared NAT address) is left out, so those dumps are filed under the tag
    itself rather than under the wrong host. Tags and names the collector would refuse
    (P(fleet.kdump.collector_name#test)) are left out too.
options:
  _input:
    description: The variables of each fleet host (for example C(hostvars) entries), each with C(inventory_hostname).
    type: list
    elements: dict
    required: true
  old:
    description: The previous map, tag to inventory name, as read back from the collector.
    type: dict
    default: {}
  revoked:
    description: Inventory names whose entries are removed.
    type: list
    elements: str
    default: []
seealso:
  - plugin: fleet.kdump.collector_name
    plugin_type: test
"""

EXAMPLES = r"""
- name: Compute the tag map of the fleet
  ansible.builtin.debug:
    msg: >-
      {{ groups['kdump_fleet'] | map('extract', hostvars)
         | fleet.kdump.collector_tag_map(old={'10.0.0.9': 'retired1'}, revoked=['web9']) }}
"""

RETURN = r"""
_value:
  description: Tag to inventory name, sorted by tag.
  type: dict
  sample: {"10.0.0.5": "web1", "web1": "web1", "web1.example.com": "web1"}
"""

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
