# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crashkernel= semantics by kernel release (issue 12, class 12), against the kernels measured in the lab."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.fleet.kdump.plugins.module_utils._crashkernel_rules import KernelRules, kernel_rules, predict
from ansible_collections.fleet.kdump.plugins.module_utils._host_state import parse_iomem

M = 1 << 20
G = 1 << 30
MEASURED = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'bench', 'results', 'crashkernel-semantics.json')
# A 4 GiB QEMU pc guest: 3 GiB below the PCI hole, 1 GiB above 4 GiB.
QEMU_4G = [(0x1000, 0x9fbff), (0x100000, 0xbffdffff), (0x100000000, 0x13fffffff)]
RAM_4G = sum(end - start + 1 for start, end in QEMU_4G)
# A 2 GiB guest: nothing above 4 GiB.
QEMU_2G = [(0x1000, 0x9fbff), (0x100000, 0x7ffdffff)]
RAM_2G = sum(end - start + 1 for start, end in QEMU_2G)
DEBIAN_12, DEBIAN_13, LINUX_6_16 = '6.1.0-50-amd64', '6.12.48+deb13-amd64', '6.16.3'


@pytest.mark.parametrize('release, rules', [
    ('5.10.0-33-amd64', KernelRules((5, 10), False, False, False, False)),
    ('6.0.0', KernelRules((6, 0), True, False, False, False)),
    (DEBIAN_12, KernelRules((6, 1), True, False, False, False)),
    ('6.5.0-1', KernelRules((6, 5), True, True, False, False)),
    ('6.6.60', KernelRules((6, 6), True, True, False, False)),
    ('6.7.0', KernelRules((6, 7), True, True, True, False)),
    ('6.8.0-51-generic', KernelRules((6, 8), True, True, True, False)),
    (DEBIAN_13, KernelRules((6, 12), True, True, True, False)),
    (LINUX_6_16, KernelRules((6, 16), True, True, True, True)),
    ('7.0', KernelRules((7, 0), True, True, True, True)),
    (None, KernelRules((6, 16), True, True, True, True)),
    ('garbage', KernelRules((6, 16), True, True, True, True)),
])
def test_kernel_rules(release, rules):
    assert kernel_rules(release) == rules


# (words, 6.1, 6.12, 6.16) on the 4 GiB layout: what kexec_crash_size reads, in MiB.
TABLE = [
    ('crashkernel=256M', 256, 256, 256),
    ('crashkernel=1G-4G:192M,4G-:320M', 320, 320, 320),
    ('crashkernel=512M-2G:64M,2G-3G:128M', 0, 0, 0),
    ('crashkernel=128M crashkernel=192M', 192, 192, 192),
    ('crashkernel=8G', 0, 0, 0),
    ('crashkernel=3G', 0, 0, 0),
    ('crashkernel=1G-:5G', 0, 0, 0),
    ('crashkernel=4G-1G:64M', 0, 0, 0),
    ('crashkernel=foo crashkernel=256M,high', 256, 0, 0),
    ('crashkernel=1G-2G:128M crashkernel=192M,high', 192, 0, 0),
    ('crashkernel=0 crashkernel=192M,high', 192, 0, 0),
    ('crashkernel=192M crashkernel=256M,high', 192, 192, 192),
    ('crashkernel=256M,high', 256, 512, 512),
    ('crashkernel=384M,high crashkernel=128M,low', 384, 512, 512),
    ('crashkernel=256M,high crashkernel=0,low', 256, 256, 256),
    ('crashkernel=256M,high crashkernel=junk,low', 256, 0, 0),
    ('crashkernel=256M,high swiotlb=262144', 256, 256 + 520, 256 + 520),
    ('crashkernel=128M,low', 0, 0, 0),
    ('crashkernel=160M crashkernel=64M,cma', 0, 0, 160),
    ('crashkernel=64M,cma', 0, 0, 0),
    ('crashkernel=256M@0', 256, 256, 256),
    ('crashkernel=256M@4G', 256, 256, 256),
    ('crashkernel=4G,high', 0, 0, 0),
    ('root=/dev/vda ro', None, None, None),
]


@pytest.mark.parametrize('words, linux_6_1, linux_6_12, linux_6_16', TABLE)
def test_a_4g_guest_by_release(words, linux_6_1, linux_6_12, linux_6_16):
    for release, expected in ((DEBIAN_12, linux_6_1), (DEBIAN_13, linux_6_12), (LINUX_6_16, linux_6_16)):
        result = predict('root=/dev/vda ro ' + words, RAM_4G, kernel_rules(release), QEMU_4G)
        assert (result.sysfs_bytes // M if result else None) == expected, release
        if result is not None:
            assert (result.problem is None) == bool(result.sysfs_bytes), result


def test_nothing_above_4g_means_no_low_region():
    for release in (DEBIAN_12, DEBIAN_13):
        result = predict('crashkernel=256M,high', RAM_2G, kernel_rules(release), QEMU_2G)
        assert (result.sysfs_bytes, result.crash_bytes, result.low_bytes, result.used) == (256 * M, 256 * M, 0, 'high')


def test_a_plain_value_that_only_fits_above_4g_takes_the_default_low_region():
    layout = [(0x100000, 0x7fffffff), (0x100000000, 0x2ffffffff)]  # 2 GiB low, 8 GiB high
    ram = sum(end - start + 1 for start, end in layout)
    for release, sysfs in ((DEBIAN_12, 3 * G), (DEBIAN_13, 3 * G + 256 * M)):
        result = predict('crashkernel=3G crashkernel=64M,low', ram, kernel_rules(release), layout)
        assert (result.sysfs_bytes, result.used) == (sysfs, 'plain')
        # 6.1 takes the ,low value, 6.7+ its default for a plain value.
        assert result.low_bytes == (64 * M if release == DEBIAN_12 else 256 * M)


def test_a_low_region_that_does_not_fit_cancels_the_reservation():
    layout = [(0x100000, 0x0fffffff), (0x100000000, 0x2ffffffff)]  # 255 MiB low
    ram = sum(end - start + 1 for start, end in layout)
    result = predict('crashkernel=1G,high', ram, kernel_rules(DEBIAN_13), layout)
    assert result.sysfs_bytes == 0 and 'below 4 GiB for the low crash kernel region' in result.problem


def test_without_a_layout_a_value_below_ram_counts_as_placed_low():
    result = predict('crashkernel=256M,high', 2 * G, kernel_rules(DEBIAN_13))
    assert (result.sysfs_bytes, result.low_bytes) == (256 * M, 0)
    assert predict('crashkernel=2G', 2 * G, kernel_rules(DEBIAN_13)).sysfs_bytes == 0


def test_rounding_by_release():
    spec = 'crashkernel=384M-2G:64M,2G-:128M'
    assert predict(spec, 0x7ef10000, kernel_rules('5.10.0-33-amd64')).sysfs_bytes == 64 * M
    assert predict(spec, 0x7ef10000, kernel_rules(DEBIAN_12)).sysfs_bytes == 128 * M


def _rows():
    if not os.path.exists(MEASURED):
        return []
    with open(MEASURED) as handle:
        data = json.load(handle)
    return [pytest.param(row, id='%s %s' % (dist, row['words'])) for dist, rows in sorted(data['runs'].items()) for row in rows]


@pytest.mark.parametrize('row', _rows())
def test_the_kernels_measured_in_the_lab(row):
    """Every row of `make bench-crashkernel-semantics`: the model, fed what the guest showed, gives what its kernel reserved."""
    iomem = parse_iomem(row['iomem'])
    result = predict(row['cmdline'], iomem['ram_bytes'], kernel_rules(row['kernel_release']), iomem['ram_ranges'])
    assert (result.sysfs_bytes if result else None) == row['kexec_crash_size']
    assert row['expected_bytes'] == row['configured_expected_bytes'] == row['kexec_crash_size']
    assert row['next_boot_release'] == row['kernel_release']


def test_both_kernels_were_measured():
    rows = _rows()
    if not rows:
        pytest.skip('no bench/results/crashkernel-semantics.json: run make bench-crashkernel-semantics')
    releases = set(row.values[0]['kernel_release'].split('.')[:2][1] for row in rows)
    assert {'1', '12'} <= releases and len(rows) >= 24
