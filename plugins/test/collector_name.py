# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.collector_name: whether the collector accepts a value as a host name or tag."""

from __future__ import annotations

DOCUMENTATION = r"""
name: collector_name
version_added: 0.2.0
author: fleet.kdump contributors (@fleet-kdump)
short_description: Whether the collector accepts a value as a host name, dump directory tag or account name
description:
  - True for a string that C(kdump-collector receive) accepts as a host name or tag, and that the
    P(fleet.kdump.collector#role) role accepts as the dump account's name.
  - A letter or digit, then letters, digits, C(.), C(_) or C(-), at most 253 characters in all. Anything else
    (an empty string, an IPv6 address, a name with a space, quote, comma or newline, a non-string) is false.
  - The pattern is the collector program's own, so a name that passes here is never refused there.
options:
  _input:
    description: The value to test.
    type: raw
    required: true
seealso:
  - plugin: fleet.kdump.collector_tag_map
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Check the inventory name of a fleet host
  ansible.builtin.assert:
    that: inventory_hostname is fleet.kdump.collector_name

- name: Keep the tags the collector accepts
  ansible.builtin.debug:
    msg: "{{ ['web1', 'web1.example.com', 'fe80::1', 'bad name'] | select('fleet.kdump.collector_name') }}"  # web1, web1.example.com
"""

RETURN = r"""
_value:
  description: Whether the collector accepts the value.
  type: boolean
"""

from ansible_collections.fleet.kdump.plugins.module_utils._collector_names import is_name


class TestModule:
    """Names kdump-collector receive accepts."""

    def tests(self):
        return {'collector_name': is_name}
