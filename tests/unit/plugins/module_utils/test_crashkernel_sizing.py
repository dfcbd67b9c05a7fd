# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.fleet.kdump.plugins.module_utils import _crashkernel_sizing as sizing
from ansible_collections.fleet.kdump.plugins.module_utils._host_state import gather
from ansible_collections.fleet.kdump.tests.unit.fixtures.hosts.host_tree import make_host

MIB = 1 << 20
GIB = 1 << 30
RESULTS = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'bench', 'results', 'crashkernel-sizing.json')
# A table of this test's own, so the rules are checked whatever the lab measures.
TABLE = {'6.1': {'source': 'test', 'kdump_initrd_bytes': 8 * MIB, 'points': ((1024, 100), (2048, 110), (4096, 150))}}


def advise(ram_gib=1, cpus=1, release='6.1.0-50-amd64', initrd=None, append=None):
    return sizing.recommend(int(ram_gib * GIB), cpus, release, initrd, append, table=TABLE)


@pytest.mark.parametrize('ram_mib, expected', [
    (512, 100), (1024, 100), (1536, 105), (2048, 110), (3072, 130), (4096, 150), (8192, 230),
])
def test_interpolation_between_and_beyond_the_points(ram_mib, expected):
    assert sizing.smallest_measured(TABLE['6.1']['points'], ram_mib) == pytest.approx(expected)


def test_extrapolation_never_goes_down():
    assert sizing.smallest_measured(((1024, 120), (2048, 100)), 8192) == 100


def test_margin_and_rounding():
    # 100 + max(16, 10) = 116 -> 128; 150 + max(16, 15) = 166 -> 176
    assert advise(1)['spec'] == '128M' and advise(1)['bytes'] == 128 * MIB
    assert advise(4)['spec'] == '176M'
    # 230 + 23 = 253 -> 256
    assert advise(8)['spec'] == '256M'


def test_larger_initrd_adds_four_times_the_difference():
    result = advise(1, initrd=10 * MIB)  # 100 + 4 * 2 = 108, + 16 -> 124 -> 128
    assert result['spec'] == '128M'
    assert any('+8 MiB' in line for line in result['reasoning'])
    assert advise(1, initrd=15 * MIB)['spec'] == '144M'  # 100 + 28 + 16 = 144
    assert advise(1, initrd=4 * MIB)['spec'] == '128M'
    assert any('not built yet' in line for line in advise(1)['reasoning'])


def test_cpus_count_only_without_nr_cpus_1():
    assert advise(1, cpus=64)['spec'] == '128M'
    assert advise(1, cpus=64, append='reset_devices nr_cpus=1 irqpoll')['spec'] == '128M'
    result = advise(1, cpus=64, append='reset_devices irqpoll systemd.unit=kdump-tools-dump.service')
    assert result['spec'] == '192M'  # 100 + 63 + 16 = 179 -> 192
    assert any('not measured' in line for line in result['reasoning'])
    one = advise(1, cpus=1, append='reset_devices irqpoll systemd.unit=kdump-tools-dump.service')
    assert one['spec'] == '128M' and any('one CPU: nothing added' in line for line in one['reasoning'])


def test_unmeasured_kernel_takes_the_largest_series_and_more():
    table = dict(TABLE, **{'6.12': {'source': 'other', 'kdump_initrd_bytes': 8 * MIB, 'points': ((1024, 140), (4096, 200))}})
    result = sizing.recommend(GIB, 1, '5.15.0-91-generic', None, None, table=table)
    assert result['spec'] == '192M'  # 140 + 32 + 17.2 = 189.2 -> 192
    assert 'was not measured' in result['reasoning'][0] and '6.12' in result['reasoning'][0]


def test_unknown_ram_gives_no_recommendation():
    assert sizing.recommend(None, 1, '6.1.0-50-amd64', None, None) == {
        'spec': None, 'bytes': None, 'reasoning': ['the RAM size is unknown: no recommendation']}


def test_lab_guests_get_no_more_than_the_debian_12_default():
    for ram_gib in (1, 2, 4):
        assert sizing.recommend(ram_gib * GIB, 1, '6.1.0-50-amd64', None, None)['bytes'] <= 128 * MIB


def test_measured_table_matches_the_recorded_results():
    if not os.path.exists(RESULTS):
        pytest.skip('no bench/results/crashkernel-sizing.json')
    with open(RESULTS) as handle:
        recorded = json.load(handle)['series']
    assert set(recorded) == set(sizing.MEASURED)
    for name, series in recorded.items():
        assert sizing.MEASURED[name]['kdump_initrd_bytes'] == series['kdump_initrd_bytes']
        assert sorted(sizing.MEASURED[name]['points']) == sorted(
            (point['ram_mib'], point['smallest_ok_mib']) for point in series['points'])


def test_gather_reports_the_recommendation_and_an_undersized_reservation(tmp_path):
    initrd = 'var/lib/kdump/initrd.img-6.1.0-28-amd64'
    facts = gather(make_host(tmp_path, {initrd: b'\0' * 1024}))
    assert facts['recommended_spec'] and facts['recommended_bytes'] == int(facts['recommended_spec'][:-1]) * MIB
    assert any('kdump initrd 0.0 MiB' in line for line in facts['recommended_reasoning'])
    small = gather(make_host(tmp_path / 'small', {'sys/kernel/kexec_crash_size': '67108864\n'}))
    assert any('below the' in problem and 'recommended' in problem for problem in small['problems'])


@pytest.mark.parametrize('append, cpu_line', [
    ('', 'the package default'),  # kdump-config: ${KDUMP_CMDLINE_APPEND:=default}, so empty is the default
    ('"reset_devices systemd.unit=kdump-tools-dump.service maxcpus=1"', 'does not matter'),
    ('"reset_devices systemd.unit=kdump-tools-dump.service irqpoll"', 'per CPU beyond the first for 2 CPUs'),
])
def test_gather_reads_the_capture_command_line(tmp_path, append, cpu_line):
    defaults = 'USE_KDUMP=1\nKDUMP_CMDLINE_APPEND=%s\n' % append
    facts = gather(make_host(tmp_path, {'etc/default/kdump-tools': defaults}))
    assert facts['cpu_count'] == 2
    assert any(cpu_line in line for line in facts['recommended_reasoning'])
