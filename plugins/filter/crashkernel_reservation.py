# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.crashkernel_reservation: bytes a crashkernel= value reserves for a RAM size (docs in the .yml file)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.fleet.kdump.plugins.module_utils._crashkernel import CrashkernelError, reservation


def crashkernel_reservation(spec, ram, round_ram=True):
    """Return the bytes the kernel reserves for `spec` on a machine with `ram` (int bytes or a size string)."""
    try:
        return reservation(spec, ram, boolean(round_ram, strict=True))
    except (CrashkernelError, TypeError) as exc:
        raise AnsibleFilterError('crashkernel_reservation: %s' % exc) from exc


class FilterModule:
    """crashkernel= arithmetic."""

    def filters(self):
        return {'crashkernel_reservation': crashkernel_reservation}
