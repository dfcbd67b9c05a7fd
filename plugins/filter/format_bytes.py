# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.format_bytes: a number of bytes as 128 MiB or 1.5 GiB."""

from __future__ import annotations

DOCUMENTATION = r"""
name: format_bytes
version_added: 0.2.0
author: fleet.kdump contributors (@fleet-kdump)
short_description: A number of bytes for people, such as 128 MiB or 1.5 GiB
description:
  - Formats a number of bytes with binary units (KiB, MiB, GiB, TiB, PiB, EiB) and at most one decimal, rounded half up
    (C(383.5 MiB), C(1 GiB), C(4 TiB)); below 1 KiB it prints C(<n> bytes).
  - The one format of sizes in the collection's messages and reports on the controller (the roles' messages, the
    readiness report, the crash test summary). The inverse of P(fleet.kdump.to_bytes#filter) up to that rounding.
options:
  _input:
    description: The number of bytes.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Show a reservation
  ansible.builtin.debug:
    msg: "{{ ansible_facts['crashkernel']['reserved_bytes'] | fleet.kdump.format_bytes }} reserved"  # 192 MiB reserved
"""

RETURN = r"""
_value:
  description: The size as text.
  type: string
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.fleet.kdump.plugins.module_utils._sizes import format_bytes as format_size


def format_bytes(value):
    """'128 MiB' for 134217728; AnsibleFilterError for anything that is not a whole number."""
    if isinstance(value, bool):
        raise AnsibleFilterError('format_bytes: expected a number of bytes, got %r' % (value,))
    try:
        return format_size(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError('format_bytes: expected a number of bytes, got %r' % (value,)) from None


class FilterModule:
    """Byte sizes."""

    def filters(self):
        return {'format_bytes': format_bytes}
