# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""What an x86_64 kernel release reserves at boot for a whole command line, and what kexec_crash_size then reads.

The values are parsed by _crashkernel.py; this file holds what changed between releases around them
(read in the Debian 12 6.1 and Debian 13 6.12 sources, measured in the lab, docs/crashkernel.md):

- 6.0: RAM rounded up to 128 MiB before a range list is matched.
- 6.5: /sys/kernel/kexec_crash_size counts the low region too (crashk_res + crashk_low_res).
- 6.7: the generic reservation (kernel/crash_reserve.c in 6.12). crashkernel=X,high is used only when there is
  no plain crashkernel= at all; a plain value that is invalid or yields 0 means no reservation; a size not
  below RAM is invalid; an invalid crashkernel=Y,low cancels the ,high reservation. Before, x86 fell back to
  ,high whenever the plain value was absent, invalid or 0, and used its default low size for an invalid ,low.
- 6.16: crashkernel=size,cma, which the plain lookup skips (older kernels read it as an invalid plain value);
  CMA is not counted in kexec_crash_size.

Placement (below 4 GiB first for a plain value, above 4 GiB first for ,high; a region above 4 GiB takes a
low region too) is predicted from the top-level System RAM ranges of /proc/iomem when they are known.
"""

from __future__ import annotations

import collections
import re

from ansible_collections.fleet.kdump.plugins.module_utils._crashkernel import (
    SUFFIXES,
    SUFFIXES_CMA,
    CrashkernelError,
    effective_spec,
    format_size,
    memparse,
    parse_value,
)
from ansible_collections.fleet.kdump.plugins.module_utils._sizes import format_bytes

SZ_16M = 16 << 20
SZ_4G = 4 << 30
SZ_64T = 64 << 40
CRASH_ALIGN = SZ_16M
# The low region's default: max(swiotlb size + 8 MiB, 256 MiB); swiotlb defaults to 64 MiB (2 KiB slabs).
_LOW_FLOOR = 256 << 20
_SWIOTLB_DEFAULT = 64 << 20
_SWIOTLB_SLAB_SHIFT = 11
_SWIOTLB_SEGMENT = 128
# A release that cannot be read counts as the newest one modelled here.
NEWEST = (6, 16)

KernelRules = collections.namedtuple('KernelRules', ['version', 'rounds_ram', 'counts_low', 'generic', 'cma'])
KernelRules.__doc__ = """crashkernel= semantics of one kernel release (see the module docstring for each field)."""

Prediction = collections.namedtuple('Prediction', ['sysfs_bytes', 'crash_bytes', 'low_bytes', 'used', 'problem'])
Prediction.__doc__ = """What a boot reserves: sysfs_bytes is what kexec_crash_size reads; crash_bytes and low_bytes the two regions;
used is the crashkernel= value the kernel took ('plain', 'high') or None; problem says why nothing was reserved."""


def release_version(release):
    """(major, minor) of a kernel release such as '6.12.48+deb13-amd64', or None."""
    match = re.match(r'\s*(\d+)\.(\d+)', release or '')
    return (int(match.group(1)), int(match.group(2))) if match else None


def kernel_rules(release):
    """The KernelRules of a release (uname -r); an unreadable release gets the newest rules."""
    version = release_version(release) or NEWEST
    return KernelRules(version, version >= (6, 0), version >= (6, 5), version >= (6, 7), version >= (6, 16))


def suffixes_of(rules):
    return SUFFIXES_CMA if rules.cma else SUFFIXES


def _nothing(problem):
    return Prediction(0, 0, 0, None, problem)


def _fits(size, low, high, ram_ranges):
    """Whether a CRASH_ALIGN-aligned block of `size` bytes lies in one RAM range within [low, high)."""
    for start, end in ram_ranges:
        base = -(-max(start, low, CRASH_ALIGN) // CRASH_ALIGN) * CRASH_ALIGN
        if base + size <= min(end + 1, high):
            return True
    return False


def _swiotlb_low_default(cmdline):
    """DEFAULT_CRASH_KERNEL_LOW_SIZE: max(swiotlb size + 8 MiB, 256 MiB), swiotlb= counted in 2 KiB slabs."""
    swiotlb = _SWIOTLB_DEFAULT
    for token in (cmdline or '').split(' '):
        if token.startswith('swiotlb='):
            slabs, end = memparse(token, len('swiotlb='))
            if end > len('swiotlb=') and slabs:
                swiotlb = (-(-slabs // _SWIOTLB_SEGMENT) * _SWIOTLB_SEGMENT) << _SWIOTLB_SLAB_SHIFT
    return max(swiotlb + (8 << 20), _LOW_FLOOR)


def _parse(spec, ram, rules):
    """parse_value() of a crashkernel= value; (Reservation, None) or (None, problem)."""
    try:
        return parse_value(spec, ram, rules.rounds_ram, suffixes_of(rules)), None
    except CrashkernelError as exc:
        return None, str(exc)


def _choose(cmdline, ram, rules):
    """The region the kernel asks for: (size, offset, from ,high, problem); size 0 when it asks for none."""
    suffixes = suffixes_of(rules)
    plain_spec = effective_spec(cmdline, None, suffixes)
    high_spec = effective_spec(cmdline, 'high', suffixes)
    plain, problem = (None, None) if plain_spec is None else _parse(plain_spec, ram, rules)
    if plain is not None and plain.size:
        return plain.size, plain.offset, False, None
    if plain is not None:
        problem = 'crashkernel=%s reserves nothing on %s of RAM' % (plain_spec, format_bytes(ram))
    # 6.7+: crashkernel=,high only when there is no plain crashkernel= at all; x86 before: also when invalid or 0.
    if high_spec is None or (plain_spec is not None and rules.generic):
        if problem is None:
            low_spec = effective_spec(cmdline, 'low', suffixes)
            problem = 'crashkernel=%s alone reserves nothing: it goes with crashkernel=,high' % low_spec if low_spec else (
                'no crashkernel= value this kernel reserves memory for')
        return 0, 0, False, problem
    high, high_problem = _parse(high_spec, ram, rules)
    if high is None or not high.size:
        return 0, 0, True, high_problem or 'crashkernel=%s asks for nothing' % high_spec
    if rules.generic:
        low_problem = _low(cmdline, ram, rules)[1]
        if low_problem:
            # 6.7+ refuses an invalid ,low; older kernels used the default low size instead.
            return 0, 0, True, low_problem
    return high.size, 0, True, None


def _low(cmdline, ram, rules):
    """(size of the crashkernel=,low value, or None when absent or invalid; the problem when invalid)."""
    low_spec = effective_spec(cmdline, 'low', suffixes_of(rules))
    if low_spec is None:
        return None, None
    low, problem = _parse(low_spec, ram, rules)
    return (low.size if low is not None else None), problem


def predict(cmdline, ram, rules, ram_ranges=None):
    """What a kernel with `rules` reserves for `cmdline` on `ram` bytes (memblock_phys_mem_size), as a Prediction.

    ram_ranges: the top-level System RAM ranges [(start, end inclusive), ...] of /proc/iomem, for placement
    (below or above 4 GiB, so whether a low region is reserved too). Without them a value that is below RAM
    counts as placed below 4 GiB. Returns None when the command line has no crashkernel= at all.
    """
    cmdline = cmdline or ''
    if 'crashkernel=' not in cmdline:
        return None
    size, offset, high, problem = _choose(cmdline, ram, rules)
    if not size:
        return _nothing(problem)
    if size >= ram:
        return _nothing('invalid size: %s is not below the %s of RAM' % (format_size(size), format_bytes(ram)))
    if offset:
        fits = ram_ranges is None or _fits(size, offset, offset + size, ram_ranges)
        above = offset >= SZ_4G
    elif ram_ranges is None:
        fits, above = True, False
    else:
        fits_low, fits_high = _fits(size, 0, SZ_4G, ram_ranges), _fits(size, SZ_4G, SZ_64T, ram_ranges)
        fits, above = fits_low or fits_high, fits_high if high else not fits_low
    if not fits:
        return _nothing('no free block of %s in RAM for the crash kernel' % format_size(size))
    low = 0
    if above:
        # Above 4 GiB a low region goes with it. 6.7+: the ,low value (checked above, default when absent) for ,high,
        # the default for a plain value that fell back above 4 GiB, none for a plain value placed there by @offset.
        # Before: a valid ,low value, else the default, whatever placed the region there.
        given = _low(cmdline, ram, rules)[0]
        if rules.generic and not high:
            low = 0 if offset else _swiotlb_low_default(cmdline)
        else:
            low = _swiotlb_low_default(cmdline) if given is None else given
        if low and ram_ranges is not None and not _fits(low, 0, SZ_4G, ram_ranges):
            return _nothing('no free block of %s below 4 GiB for the low crash kernel region' % format_size(low))
    return Prediction(size + (low if rules.counts_low else 0), size, low, 'high' if high else 'plain', None)
