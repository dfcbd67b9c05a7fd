# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import hashlib
import os

import pytest

from ansible_collections.fleet.kdump.tests.unit.module_runner import run_module
from ansible_collections.fleet.kdump.plugins.modules.crashkernel_facts import main
from ansible_collections.fleet.kdump.tests.unit.fixtures.hosts.host_tree import make_host

RETURN_KEYS = {
    'cmdline', 'cmdline_spec', 'cmdline_high_spec', 'cmdline_low_spec', 'ram_bytes', 'ram_source', 'kernel_release', 'ram_rounded',
    'next_boot_release', 'next_boot_release_source',
    'expected_bytes', 'reserved_bytes', 'reserved_low_bytes', 'kexec_loaded', 'configured_cmdline', 'configured_spec',
    'configured_high_spec', 'configured_low_spec', 'configured_expected_bytes', 'grub_cfg_spec', 'grub_update_required',
    'reboot_required', 'kdump_installed', 'kdump_state', 'kdump_state_reason', 'kdump_settings', 'kdump_tools_version',
    'makedumpfile_installed', 'sysrq', 'efi', 'secure_boot', 'lockdown', 'kexec_file_load_required', 'boot_id', 'cpu_count', 'problems',
    'recommended_spec', 'recommended_bytes', 'recommended_reasoning', 'panic_policy',
}


def run_facts(capsys, args):
    result = run_module(capsys, main, args)
    return result.pop('exit_code'), result


@pytest.mark.parametrize('check_mode', [False, True])
def test_ready_host(tmp_path, capsys, check_mode):
    root = make_host(tmp_path)
    code, result = run_facts(capsys, {'root': root, '_ansible_check_mode': check_mode})
    assert code == 0
    assert result['changed'] is False
    facts = result['ansible_facts']['crashkernel']
    assert set(facts) == RETURN_KEYS
    assert facts['kdump_state'] == 'ready'
    assert facts['expected_bytes'] == facts['reserved_bytes'] == 134217728
    assert facts['problems'] == []
    assert facts['recommended_spec'] == '%dM' % (facts['recommended_bytes'] >> 20)
    assert facts['recommended_reasoning'][-1].endswith(facts['recommended_spec'])


def test_reboot_pending(tmp_path, capsys):
    root = make_host(tmp_path, {'etc/default/grub.d/zz-fleet-kdump.cfg': 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=256M"\n'})
    dummy, result = run_facts(capsys, {'root': root})
    facts = result['ansible_facts']['crashkernel']
    assert facts['reboot_required'] is True and facts['configured_spec'] == '256M'
    assert facts['problems'][0].startswith('reboot needed: next boot reserves 256 MiB (crashkernel=256M)')


def test_root_is_expanded(tmp_path, capsys, monkeypatch):
    make_host(tmp_path)
    monkeypatch.setenv('HOME', str(tmp_path))
    dummy, result = run_facts(capsys, {'root': '~/root'})
    assert result['ansible_facts']['crashkernel']['kdump_state'] == 'ready'


def test_unknown_option_fails(capsys):
    code, result = run_facts(capsys, {'path': '/'})
    assert code == 1 and result['failed'] is True
    assert 'path' in result['msg']


def test_checksums_in_the_same_call(tmp_path, capsys):
    root = make_host(tmp_path)
    code, result = run_facts(capsys, {'root': root, 'checksum_paths': ['/etc/default/kdump-tools', '/etc/nothing'],
                                      '_ansible_check_mode': True})
    assert code == 0 and result['changed'] is False
    with open(os.path.join(root, 'etc/default/kdump-tools'), 'rb') as handle:
        expected = hashlib.sha256(handle.read()).hexdigest()
    assert result['checksums'] == {'/etc/default/kdump-tools': expected, '/etc/nothing': None}
    assert result['ansible_facts']['crashkernel']['kdump_state'] == 'ready'


def test_no_checksum_paths_no_checksums(tmp_path, capsys):
    dummy, result = run_facts(capsys, {'root': make_host(tmp_path)})
    assert result['checksums'] == {}


def test_relative_checksum_path_fails_naming_it(tmp_path, capsys):
    code, result = run_facts(capsys, {'root': make_host(tmp_path), 'checksum_paths': ['etc/default/kdump-tools']})
    assert code == 1 and "'etc/default/kdump-tools'" in result['msg'] and 'absolute' in result['msg']
