# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.crashkernel_reservation: bytes a crashkernel= value reserves for a RAM size (docs in the .yml file)."""

from __future__ import annotations

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
