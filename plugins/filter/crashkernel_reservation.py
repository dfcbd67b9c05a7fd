# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.crashkernel_reservation: bytes a crashkernel= value reserves for a RAM size."""

from __future__ import annotations

DOCUMENTATION = r"""
name: crashkernel_reservation
version_added: 0.1.0
author: fleet.kdump contributors (@fleet-kdump)
short_description: Bytes a crashkernel= value reserves for a given amount of RAM
description:
  - Computes what the Linux kernel reserves for the capture kernel from one C(crashkernel=) value, with the
    semantics of the kernel release given in O(kernel) (the parser shared with M(fleet.kdump.crashkernel_facts)).
  - What a whole command line reserves (several C(crashkernel=) values, C(,high) with or without a plain value, the
    low region) depends on the release and on where the memory is; M(fleet.kdump.crashkernel_facts) predicts it in
    RV(fleet.kdump.crashkernel_facts#module:ansible_facts.crashkernel.expected_bytes).
  - Sizes are numbers (C(0x) hexadecimal, leading-zero octal or decimal) with an optional C(K), C(M), C(G), C(T), C(P)
    or C(E) suffix in either case; no suffix means bytes.
  - "The simple form C(size[@offset]) reserves C(size). The range form C(start-[end]:size[,...][@offset]) reserves the size
    of the first range whose start is less than or equal to the RAM and whose end is greater than it (the end is
    exclusive, an empty end is unbounded); V(0) when no range matches."
  - A range entry reached before the match (or the match itself) whose size is not below the RAM makes the whole value
    invalid, as does an end that is not above its start. A resulting size that is not below the RAM is invalid too
    (the kernel reserves nothing).
  - C(size,high) and C(size,low) values return their size; the RAM is not compared. C(size,cma) returns its size for
    kernels 6.16 and later, and is invalid for older ones (they read it as a plain value with a stray C(,)).
  - Invalid values fail with an error message that names the problem.
positional: ram
options:
  _input:
    description: The C(crashkernel=) value, with or without the C(crashkernel=) prefix.
    type: string
    required: true
  ram:
    description:
      - The RAM the kernel compares, in bytes, or as a size string such as V(2G).
      - The kernel compares C(memblock_phys_mem_size()), the sum of the top-level C(System RAM) ranges of C(/proc/iomem);
        C(ansible_memtotal_mb) is lower, which matters only close to a range boundary.
    type: raw
    required: true
  round_ram:
    description:
      - Round the RAM up to a multiple of 128 MiB before matching ranges, as kernels 6.0 and later do.
      - Defaults to what the O(kernel) release does; set it to override.
    type: bool
  kernel:
    description:
      - The release of the kernel that reads the value (C(uname -r)), for example
        RV(fleet.kdump.crashkernel_facts#module:ansible_facts.crashkernel.next_boot_release).
      - When omitted (or unreadable), the newest semantics known to the collection apply (Linux 6.16).
    type: string
"""

EXAMPLES = r"""
- name: Show what the Debian 12 default reserves on 2 GiB
  ansible.builtin.debug:
    msg: "{{ 'crashkernel=384M-:128M' | fleet.kdump.crashkernel_reservation('2G') }}"  # 134217728

- name: Range ends are exclusive, so 4 GiB falls in the 4G-32G range
  ansible.builtin.debug:
    msg: "{{ '2G-4G:320M,4G-32G:512M,32G-:1024M' | fleet.kdump.crashkernel_reservation(4294967296) }}"  # 536870912

- name: Compare with the reservation of a pre-6.0 kernel, which does not round the RAM
  ansible.builtin.debug:
    msg: "{{ '384M-2G:64M,2G-:128M' | fleet.kdump.crashkernel_reservation(2130771968, kernel='5.10.0-32-amd64') }}"  # 67108864

- name: Check the value reserves memory with the kernel this host boots next
  ansible.builtin.assert:
    that:
      - >-
        ('256M' | fleet.kdump.crashkernel_reservation(ansible_facts.crashkernel.ram_bytes,
                                                      kernel=ansible_facts.crashkernel.next_boot_release)) > 0
"""

RETURN = r"""
_value:
  description: Bytes reserved for the capture kernel; V(0) when no range matches the RAM.
  type: int
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.fleet.kdump.plugins.module_utils._crashkernel import CrashkernelError, reservation
from ansible_collections.fleet.kdump.plugins.module_utils._crashkernel_rules import kernel_rules, suffixes_of


def crashkernel_reservation(spec, ram, round_ram=None, kernel=None):
    """Return the bytes the kernel reserves for `spec` on a machine with `ram` (int bytes or a size string).

    kernel: the release that reads the value (uname -r); None means the newest semantics known.
    round_ram: overrides that release's rounding of the RAM to 128 MiB.
    """
    try:
        if kernel is not None and not isinstance(kernel, str):
            raise TypeError('kernel must be a kernel release string such as 6.1.0-50-amd64, not %r' % (kernel,))
        rules = kernel_rules(kernel)
        rounds = rules.rounds_ram if round_ram is None else boolean(round_ram, strict=True)
        return reservation(spec, ram, rounds, suffixes_of(rules))
    except (CrashkernelError, TypeError) as exc:
        raise AnsibleFilterError('crashkernel_reservation: %s' % exc) from exc


class FilterModule:
    """crashkernel= arithmetic."""

    def filters(self):
        return {'crashkernel_reservation': crashkernel_reservation}
