# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.to_bytes: a byte size written as 20G, 512M or a number, as an integer."""

from __future__ import annotations

DOCUMENTATION = r"""
name: to_bytes
version_added: 0.2.0
author: fleet.kdump contributors (@fleet-kdump)
short_description: Bytes from a size such as 20G, 512M or 1073741824
description:
  - Converts a byte size as people write it into an integer number of bytes. Every size variable of the collection
    (C(collector_min_free_bytes), C(collector_max_host_bytes), C(kdump_crash_test_min_free_bytes), ...) goes through it.
  - A size is a whole number of bytes, or a number (decimals allowed) followed by a unit C(K), C(M), C(G), C(T), C(P) or
    C(E), in either case and optionally followed by C(iB) or C(B). Every unit is a power of 1024, as in the kernel, ansible-core's
    P(ansible.builtin.human_to_bytes#filter) and kdump-tools. C(1.5G) is 1610612736.
  - "Refused, with an error that names the variable, the value and the fix: booleans, negative numbers, a fraction of a byte
    (C(0.3K)), anything else after the number (C(20X), C(5Gb)), and sizes above 2**63 - 1."
  - The arithmetic is exact (no floating point), so a size gives the same number of bytes whatever its magnitude.
positional: name
options:
  _input:
    description: The size, an integer or a string.
    type: raw
    required: true
  name:
    description: The name of the variable the size comes from, used in the error message.
    type: string
"""

EXAMPLES = r"""
- name: Read a size variable once, with a clear error for a bad value
  ansible.builtin.set_fact:
    __quota: "{{ collector_max_host_bytes | fleet.kdump.to_bytes('collector_max_host_bytes') }}"

- name: Sizes with units
  ansible.builtin.debug:
    msg: "{{ ['20G', '512 MiB', '1.5G', 4096] | map('fleet.kdump.to_bytes') }}"  # [21474836480, 536870912, 1610612736, 4096]
"""

RETURN = r"""
_value:
  description: The size in bytes.
  type: int
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.fleet.kdump.plugins.module_utils._sizes import SizeError, to_bytes as parse


def to_bytes(value, name=None):
    """Bytes from an int or a size string; AnsibleFilterError naming `name`, the value and the fix otherwise."""
    try:
        return parse(value, name)
    except SizeError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    """Byte sizes."""

    def filters(self):
        return {'to_bytes': to_bytes}
