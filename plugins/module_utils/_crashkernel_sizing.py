# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""crashkernel= right-sizing: the smallest reservation measured by real crashes, adjusted for this host.

MEASURED holds what bench/crashkernel_sizing.py found (bench/results/crashkernel-sizing.json; a unit test keeps the
two equal): per kernel series, for each guest RAM size, the smallest crashkernel= that still gave a complete dump.
Below it the capture kernel ran out of memory while unpacking its initrd ("System is deadlocked on memory").
"""

from __future__ import annotations

import math
import re

MIB = 1 << 20
ROUND_MIB = 16
MARGIN_MIB = 16           # at least this much above the measured minimum...
MARGIN_SHARE = 0.10       # ...or this share of it, whichever is larger
UNMEASURED_KERNEL_MIB = 32
# The capture kernel holds the compressed initrd and its unpacked files at once; unpacked is about 3x compressed.
INITRD_FACTOR = 4
PER_CPU_MIB = 1           # estimate, not measured: capture kernels here run with nr_cpus=1
ONE_CPU = ('nr_cpus=1', 'maxcpus=1')

MEASURED = {
    '6.1': {
        'source': 'Debian 12, kernel 6.1.0-50-amd64, kdump-tools 1:1.8.1, QEMU guests with 1 vCPU',
        'kdump_initrd_bytes': 7212486,
        'points': ((1024, 112), (2048, 112), (4096, 112)),
    },
}


def kernel_series(release):
    match = re.match(r'^(\d+)\.(\d+)', release or '')
    return '%s.%s' % match.groups() if match else None


def smallest_measured(points, ram_mib):
    """MiB by linear interpolation between (ram_mib, smallest_ok_mib) points; flat below the first point, the
    slope of the last two (never negative) above the last."""
    points = sorted(points)
    if ram_mib <= points[0][0] or len(points) == 1:
        return float(points[0][1] if ram_mib <= points[0][0] else points[-1][1])
    for (ram_a, ok_a), (ram_b, ok_b) in zip(points, points[1:]):
        if ram_mib <= ram_b:
            return ok_a + (ok_b - ok_a) * (ram_mib - ram_a) / (ram_b - ram_a)
    (ram_a, ok_a), (ram_b, ok_b) = points[-2:]
    return ok_b + max(0.0, (ok_b - ok_a) / (ram_b - ram_a)) * (ram_mib - ram_b)


def recommend(ram_bytes, cpu_count, kernel_release, kdump_initrd_bytes, cmdline_append, table=None):
    """{'spec': '128M' or None, 'bytes': int or None, 'reasoning': [str]} for a host; pure, no I/O."""
    table = MEASURED if table is None else table
    if not ram_bytes:
        return {'spec': None, 'bytes': None, 'reasoning': ['the RAM size is unknown: no recommendation']}
    ram_mib = ram_bytes / MIB
    series = kernel_series(kernel_release)
    extra = 0
    if series in table:
        data = table[series]
        reasoning = ['kernel %s: measured series %s (%s)' % (kernel_release, series, data['source'])]
    else:
        series = max(table, key=lambda name: max(ok for _ram, ok in table[name]['points']))
        data = table[series]
        extra = UNMEASURED_KERNEL_MIB
        reasoning = ['kernel %s was not measured: using series %s, the largest measured, plus %d MiB'
                     % (kernel_release, series, UNMEASURED_KERNEL_MIB)]
    base = smallest_measured(data['points'], ram_mib)
    reasoning.append('smallest reservation that gave a complete dump for %.0f MiB of RAM: %.0f MiB (measured at %s MiB)'
                     % (ram_mib, base, ', '.join(str(ram) for ram, _ok in data['points'])))
    measured_initrd = data['kdump_initrd_bytes']
    if kdump_initrd_bytes is None:
        reasoning.append('kdump initrd not built yet: assumed the measured size (%.1f MiB)' % (measured_initrd / MIB))
    elif kdump_initrd_bytes > measured_initrd:
        grow = math.ceil(INITRD_FACTOR * (kdump_initrd_bytes - measured_initrd) / MIB)
        extra += grow
        reasoning.append('kdump initrd %.1f MiB, %.1f MiB above the measured one: +%d MiB (%dx, an estimate: the compressed '
                         'image and its unpacked files are in memory together)'
                         % (kdump_initrd_bytes / MIB, (kdump_initrd_bytes - measured_initrd) / MIB, grow, INITRD_FACTOR))
    else:
        reasoning.append('kdump initrd %.1f MiB, no larger than the measured one: nothing added' % (kdump_initrd_bytes / MIB))
    tokens = (cmdline_append if cmdline_append is not None else 'nr_cpus=1').split()
    if any(token in ONE_CPU for token in tokens):
        reasoning.append('the capture kernel runs with one CPU (%s): the CPU count does not matter'
                         % ('nr_cpus=1, the package default' if cmdline_append is None else 'KDUMP_CMDLINE_APPEND'))
    elif cpu_count and cpu_count > 1:
        extra += PER_CPU_MIB * (cpu_count - 1)
        reasoning.append('KDUMP_CMDLINE_APPEND has no nr_cpus=1: +%d MiB per CPU beyond the first for %d CPUs (an estimate, '
                         'not measured)' % (PER_CPU_MIB, cpu_count))
    else:
        reasoning.append('KDUMP_CMDLINE_APPEND has no nr_cpus=1 but %s: nothing added'
                         % ('the host has one CPU' if cpu_count else 'the CPU count is unknown'))
    total = base + extra
    margin = max(MARGIN_MIB, MARGIN_SHARE * total)
    size = int(math.ceil((total + margin) / ROUND_MIB) * ROUND_MIB)
    reasoning.append('%.0f MiB + %.0f MiB safety margin (%d MiB or %d%%, the larger), rounded up to %d MiB: %dM'
                     % (total, margin, MARGIN_MIB, MARGIN_SHARE * 100, ROUND_MIB, size))
    return {'spec': '%dM' % size, 'bytes': size * MIB, 'reasoning': reasoning}
