# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import subprocess

import pytest

from ansible_collections.fleet.kdump.plugins.module_utils._sysrq import ARM_SCRIPT, default_min_free, dump_targets

MIB = 1024 * 1024


@pytest.mark.parametrize('settings, targets', [
    ({}, ['local']),
    ({'SSH': '', 'NFS': ''}, ['local']),
    ({'SSH': 'u@h'}, ['ssh']),
    ({'NFS': 'h:/x'}, ['nfs']),
    ({'SSH': 'u@h', 'NFS': 'h:/x'}, ['ssh', 'nfs']),
    ({'FTP': 'h', 'SSH': 'u@h'}, ['ftp', 'ssh']),
])
def test_dump_targets_follow_savecore_order(settings, targets):
    assert dump_targets(settings) == targets


@pytest.mark.parametrize('ram, wanted', [
    (None, 256 * MIB),
    (1024 * MIB, 256 * MIB),
    (2048 * MIB, 256 * MIB),
    (64 * 1024 * MIB, 8 * 1024 * MIB),
])
def test_default_min_free(ram, wanted):
    assert default_min_free(ram) == wanted


def test_arm_script_takes_paths_as_data(tmp_path):
    """A hostile root path is never parsed as shell code."""
    target = tmp_path / 'a b;$(touch x)' / 'sysrq-trigger'
    target.parent.mkdir()
    target.write_text('')
    subprocess.run(['/bin/sh', '-c', ARM_SCRIPT, 'sysrq_test', '0', str(target), '$(touch y) %s\\n'], check=True, cwd=str(tmp_path))
    assert target.read_text() == '$(touch y) %s\\n'
    assert not (tmp_path / 'x').exists() and not (tmp_path / 'y').exists()
