# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.fleet.kdump.plugins.module_utils._host_state import (
    EFI_GLOBAL_GUID,
    crash_loaded,
    gather,
    masked_settings,
    parse_dpkg_version,
    parse_iomem,
    parse_lockdown,
    parse_meminfo_total,
    read_grub_cfg_cmdline,
    read_grub_cmdline,
    read_kdump_defaults,
    upstream_version,
    use_kdump,
)
from ansible_collections.fleet.kdump.tests.unit.fixtures.hosts.host_tree import make_host

M = 1 << 20
CMDLINE = 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=/dev/vda1 ro quiet'
ZERO_IOMEM = '00000000-00000000 : Reserved\n00000000-00000000 : System RAM\n  00000000-00000000 : Crash kernel\n'
EFIVARS = 'sys/firmware/efi/efivars/'


def _efivar(value):
    return b'\x06\x00\x00\x00' + bytes([value])


# --- fixture hosts through gather() -----------------------------------------------------------------

def test_ready_host(tmp_path):
    facts = gather(make_host(tmp_path))
    assert facts['kdump_state'] == 'ready'
    assert facts['kdump_state_reason'] == 'a capture kernel is loaded'
    assert facts['problems'] == []
    assert facts['cmdline_spec'] == facts['configured_spec'] == facts['grub_cfg_spec'] == '384M-:128M'
    assert facts['cmdline_high_spec'] is None and facts['cmdline_low_spec'] is None
    assert facts['ram_bytes'] == 0x9ec00 + 0x7fee0000
    assert facts['ram_source'] == 'iomem'
    assert facts['expected_bytes'] == facts['reserved_bytes'] == facts['configured_expected_bytes'] == 128 * M
    assert facts['reserved_low_bytes'] == 0
    assert facts['kexec_loaded'] is True
    assert facts['reboot_required'] is False and facts['grub_update_required'] is False
    assert facts['configured_cmdline'] == 'quiet crashkernel=384M-:128M'
    assert facts['kdump_settings']['USE_KDUMP'] == '1'
    assert facts['kdump_settings']['KDUMP_COREDIR'] == '/var/crash'
    assert facts['kdump_tools_version'] == '1:1.8.1'
    assert facts['makedumpfile_installed'] is True
    assert facts['kernel_release'] == '6.1.0-28-amd64' and facts['ram_rounded'] is True
    assert facts['next_boot_release'] == '6.1.0-28-amd64' and facts['next_boot_release_source'] == 'grub.cfg'
    assert facts['sysrq'] == 438 and facts['cpu_count'] == 2
    assert facts['boot_id'] == '0f3c6b7e-5d0a-4a53-9f43-0d8c2f8a2b11'
    assert facts['efi'] is False and facts['secure_boot'] is False
    assert facts['lockdown'] == 'none' and facts['kexec_file_load_required'] is False


def test_disabled(tmp_path):
    facts = gather(make_host(tmp_path, {'etc/default/kdump-tools': 'USE_KDUMP=0\n', 'sys/kernel/kexec_crash_loaded': '0\n'}))
    assert facts['kdump_state'] == 'disabled'
    assert 'USE_KDUMP' in facts['kdump_state_reason']
    assert facts['problems'] == []


def test_disabled_without_settings_file_and_still_loaded(tmp_path):
    facts = gather(make_host(tmp_path, {'etc/default/kdump-tools': None}))
    assert facts['kdump_state'] == 'disabled'
    assert facts['kdump_settings'] == {}
    assert facts['problems'] == ['a capture kernel is still loaded although kdump is disabled: run kdump-config unload']


def test_not_installed(tmp_path):
    facts = gather(make_host(tmp_path, {'usr/sbin/kdump-config': None, 'usr/bin/makedumpfile': None, 'var/lib/dpkg/status': None,
                                        'proc/cmdline': CMDLINE, 'sys/kernel/kexec_crash_size': '0', 'sys/kernel/kexec_crash_loaded': '0'}))
    assert facts['kdump_state'] == 'not installed'
    assert facts['kdump_installed'] is False and facts['kdump_tools_version'] is None
    assert facts['cmdline_spec'] is None and facts['expected_bytes'] is None
    # grub.d still asks for a reservation (the conffile outlives `apt remove`): a reboot would apply it.
    assert facts['reboot_required'] is True
    assert facts['problems'] == ['reboot needed: next boot reserves 128 MiB (crashkernel=384M-:128M) but the running kernel booted with no crashkernel=']


def test_no_reservation(tmp_path):
    facts = gather(make_host(tmp_path, {'proc/cmdline': CMDLINE, 'sys/kernel/kexec_crash_size': '0\n', 'sys/kernel/kexec_crash_loaded': '0\n',
                                        'etc/default/grub.d/kdump-tools.cfg': None, 'boot/grub/grub.cfg': 'linux /vmlinuz ro quiet\n'}))
    assert facts['kdump_state'] == 'not ready'
    assert facts['kdump_state_reason'] == 'no crashkernel= on the kernel command line'
    assert facts['expected_bytes'] is None and facts['reserved_bytes'] == 0
    assert facts['reboot_required'] is False and facts['grub_update_required'] is False
    assert facts['problems'] == ['no crashkernel= on the kernel command line: nothing is reserved for the capture kernel']


def test_range_reserves_nothing_on_small_ram(tmp_path):
    iomem = '00001000-0009fbff : System RAM\n00100000-0fffffff : System RAM\n'
    facts = gather(make_host(tmp_path, {'proc/iomem': iomem, 'proc/cmdline': CMDLINE + ' crashkernel=384M-:128M',
                                        'sys/kernel/kexec_crash_size': '0', 'sys/kernel/kexec_crash_loaded': '0'}))
    assert facts['ram_bytes'] == 0x9ec00 + 0xff00000
    assert facts['expected_bytes'] == 0
    assert facts['kdump_state'] == 'not ready'
    assert facts['kdump_state_reason'] == 'crashkernel= reserved nothing'
    assert 'crashkernel=384M-:128M reserves nothing on 255.6 MiB of RAM (running kernel 6.1.0-28-amd64)' in facts['problems']


def test_reservation_failed(tmp_path):
    facts = gather(make_host(tmp_path, {'sys/kernel/kexec_crash_size': '0', 'sys/kernel/kexec_crash_loaded': '0'}))
    assert facts['kdump_state_reason'] == 'crashkernel= reserved nothing'
    assert facts['problems'] == ['crashkernel= asks for 128 MiB but the kernel reserved 0 bytes: the reservation failed (see "crashkernel" in dmesg)']


def test_capture_kernel_not_loaded(tmp_path):
    facts = gather(make_host(tmp_path, {'sys/kernel/kexec_crash_loaded': '0'}))
    assert facts['kdump_state'] == 'not ready'
    assert facts['kdump_state_reason'].startswith('capture kernel not loaded')


def test_kernel_without_kexec(tmp_path):
    facts = gather(make_host(tmp_path, {'sys/kernel/kexec_crash_loaded': None, 'sys/kernel/kexec_crash_size': None}))
    assert facts['kexec_loaded'] is None and facts['reserved_bytes'] is None
    assert facts['kdump_state'] == 'not ready'
    assert 'no kexec support' in facts['kdump_state_reason']


def test_reboot_pending_via_grub_d(tmp_path):
    snippet = 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=512M-:192M"\n'
    facts = gather(make_host(tmp_path, {'etc/default/grub.d/zz-fleet-kdump.cfg': snippet}))
    assert facts['configured_cmdline'] == 'quiet crashkernel=384M-:128M crashkernel=512M-:192M'
    assert facts['configured_spec'] == '512M-:192M'
    assert facts['configured_expected_bytes'] == 192 * M
    assert facts['reboot_required'] is True
    assert facts['grub_update_required'] is True
    assert facts['kdump_state'] == 'ready'
    assert facts['problems'] == [
        'reboot needed: next boot reserves 192 MiB (crashkernel=512M-:192M) but the running kernel booted with crashkernel=384M-:128M',
        'update-grub needed: /boot/grub/grub.cfg does not match /etc/default/grub and grub.d (crashkernel=384M-:128M)',
    ]


def test_grub_d_sorting_and_assignment_drops_earlier_values(tmp_path):
    root = make_host(tmp_path, {'etc/default/grub.d/00-first.cfg': 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=1G"\n',
                                'etc/default/grub.d/zz-last.cfg': "GRUB_CMDLINE_LINUX_DEFAULT='quiet'\n",
                                'etc/default/grub.d/not-a-cfg.conf': 'GRUB_CMDLINE_LINUX_DEFAULT="crashkernel=2G"\n'})
    assert read_grub_cmdline(root) == ('quiet', [])
    facts = gather(root)
    assert facts['configured_spec'] is None
    assert facts['reboot_required'] is True
    assert facts['problems'][0] == 'reboot needed: next boot reserves nothing (no crashkernel=) but the running kernel booted with crashkernel=384M-:128M'


def test_normalised_specs_need_no_reboot(tmp_path):
    facts = gather(make_host(tmp_path, {'etc/default/grub.d/kdump-tools.cfg': 'GRUB_CMDLINE_LINUX="crashkernel=384m-:0x8000000"\n'}))
    assert facts['configured_spec'] == '384m-:0x8000000'
    assert facts['reboot_required'] is False
    assert facts['grub_update_required'] is False


def test_no_grub_configuration(tmp_path):
    facts = gather(make_host(tmp_path, {'etc/default/grub': None, 'etc/default/grub.d': None, 'boot/grub/grub.cfg': None}))
    assert facts['configured_cmdline'] is None and facts['configured_spec'] is None and facts['grub_cfg_spec'] is None
    assert facts['reboot_required'] is False and facts['grub_update_required'] is False


def test_invalid_configured_value(tmp_path):
    snippet = 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=2G-1G:64M"\n'
    facts = gather(make_host(tmp_path, {'etc/default/grub.d/kdump-tools.cfg': snippet}))
    assert facts['configured_expected_bytes'] == 0
    assert facts['reboot_required'] is True
    assert 'next boot: crashkernel=2G-1G:64M: end <= start in range 2G-1G (kernel 6.1.0-28-amd64, boot configuration)' in facts['problems']


def test_invalid_running_value(tmp_path):
    facts = gather(make_host(tmp_path, {'proc/cmdline': CMDLINE + ' crashkernel=128X', 'sys/kernel/kexec_crash_size': '0'}))
    assert facts['cmdline_spec'] == '128X' and facts['expected_bytes'] == 0
    assert 'crashkernel=128X: unrecognized char: X (running kernel 6.1.0-28-amd64)' in facts['problems']


def test_non_root_iomem_falls_back_to_meminfo(tmp_path):
    facts = gather(make_host(tmp_path, {'proc/iomem': ZERO_IOMEM}))
    assert facts['ram_source'] == 'meminfo'
    assert facts['ram_bytes'] == 1964260 * 1024
    assert facts['reserved_low_bytes'] is None
    assert facts['expected_bytes'] == 128 * M


def test_missing_iomem_falls_back_to_meminfo(tmp_path):
    facts = gather(make_host(tmp_path, {'proc/iomem': None}))
    assert facts['ram_source'] == 'meminfo'


def test_no_ram_figure(tmp_path):
    facts = gather(make_host(tmp_path, {'proc/iomem': None, 'proc/meminfo': None}))
    assert facts['ram_bytes'] is None and facts['ram_source'] is None and facts['expected_bytes'] is None


def test_new_sysfs_paths(tmp_path):
    facts = gather(make_host(tmp_path, {'sys/kernel/kexec_crash_size': None, 'sys/kernel/kexec_crash_loaded': None,
                                        'sys/kernel/kexec/crash_size': '134217728\n', 'sys/kernel/kexec/crash_loaded': '1\n'}))
    assert facts['reserved_bytes'] == 128 * M and facts['kexec_loaded'] is True
    assert facts['kdump_state'] == 'ready'


def test_new_sysfs_path_wins(tmp_path):
    facts = gather(make_host(tmp_path, {'sys/kernel/kexec/crash_size': '268435456', 'sys/kernel/kexec/crash_loaded': '0'}))
    assert facts['reserved_bytes'] == 256 * M and facts['kexec_loaded'] is False


def test_crash_loaded(tmp_path):
    assert crash_loaded(str(tmp_path)) is None
    (tmp_path / 'sys/kernel').mkdir(parents=True)
    (tmp_path / 'sys/kernel/kexec_crash_loaded').write_text('1\n')
    assert crash_loaded(str(tmp_path)) is True
    (tmp_path / 'sys/kernel/kexec').mkdir()
    (tmp_path / 'sys/kernel/kexec/crash_loaded').write_text('0\n')
    assert crash_loaded(str(tmp_path)) is False


def test_high_and_low_regions(tmp_path):
    iomem = ('00001000-0009fbff : System RAM\n00100000-bffdffff : System RAM\n  a0000000-afffffff : Crash kernel\n'
             '100000000-23fffffff : System RAM\n  220000000-23fffffff : Crash kernel\n')
    facts = gather(make_host(tmp_path, {'proc/iomem': iomem, 'proc/cmdline': CMDLINE + ' crashkernel=512M,high',
                                        'sys/kernel/kexec_crash_size': str(512 * M)}))
    assert facts['cmdline_spec'] is None and facts['cmdline_high_spec'] == '512M,high'
    assert facts['expected_bytes'] == 512 * M
    assert facts['reserved_low_bytes'] == 256 * M
    assert facts['kdump_state'] == 'ready'


def test_use_kdump_true_is_reported(tmp_path):
    root = make_host(tmp_path, {'etc/default/kdump-tools': 'USE_KDUMP=true\n', 'sys/kernel/kexec_crash_loaded': '0'})
    facts = gather(root)
    assert facts['kdump_state'] == 'not ready'
    assert 'USE_KDUMP=true' in facts['kdump_state_reason']
    assert facts['problems'] == ['USE_KDUMP=true is not 0 or 1: the init script then silently disables kdump at boot']


def test_ftp_password_is_masked(tmp_path):
    root = make_host(tmp_path, {'etc/default/kdump-tools': 'USE_KDUMP=1\nFTP=dumps:/in\nFTP_PASSWORD="s3cret"\nFTP_USER=""\n'})
    facts = gather(root)
    assert facts['kdump_settings'] == {'USE_KDUMP': '1', 'FTP': 'dumps:/in', 'FTP_PASSWORD': '********', 'FTP_USER': ''}
    assert read_kdump_defaults(root)['FTP_PASSWORD'] == 's3cret'


def test_masked_settings_keep_an_empty_secret():
    settings = {'FTP_PASSWORD': '', 'FTP_USER': 'u'}
    assert masked_settings(settings) == settings
    assert masked_settings({'FTP_PASSWORD': 'x'}) == {'FTP_PASSWORD': '********'}


@pytest.mark.parametrize('settings, value', [({}, ''), ({'USE_KDUMP': ' 1 '}, '1'), ({'USE_KDUMP': 'true'}, 'true')])
def test_use_kdump_reads_like_the_init_script(settings, value):
    assert use_kdump(settings) == value


def test_use_kdump_other_integer(tmp_path):
    facts = gather(make_host(tmp_path, {'etc/default/kdump-tools': 'USE_KDUMP="2"\n'}))
    assert facts['kdump_state'] == 'ready'
    assert facts['problems'] == ['USE_KDUMP=2: use 0 or 1']


def test_makedumpfile_missing_with_kdump_tools_1_8(tmp_path):
    facts = gather(make_host(tmp_path, {'usr/bin/makedumpfile': None}))
    assert facts['makedumpfile_installed'] is False
    assert facts['problems'] == ['makedumpfile is not installed: kdump-tools 1.8.1 writes empty dumps']


def test_makedumpfile_missing_with_kdump_tools_1_10(tmp_path):
    status = 'Package: kdump-tools\nStatus: install ok installed\nVersion: 1:1.10.7\n'
    facts = gather(make_host(tmp_path, {'usr/bin/makedumpfile': None, 'var/lib/dpkg/status': status}))
    assert facts['kdump_tools_version'] == '1:1.10.7'
    assert facts['problems'] == ['makedumpfile is not installed: dumps are a full uncompressed copy of memory, or empty with kdump-tools < 1.10']


def test_secure_boot(tmp_path):
    facts = gather(make_host(tmp_path, {EFIVARS + 'SecureBoot-' + EFI_GLOBAL_GUID: _efivar(1), EFIVARS + 'SetupMode-' + EFI_GLOBAL_GUID: _efivar(0),
                                        'sys/kernel/security/lockdown': 'none [integrity] confidentiality\n'}))
    assert facts['efi'] is True and facts['secure_boot'] is True
    assert facts['lockdown'] == 'integrity'
    assert facts['kexec_file_load_required'] is True
    assert facts['problems'] == []


@pytest.mark.parametrize('secure_boot, setup_mode', [(0, 0), (1, 1), (1, None), (None, 0)])
def test_secure_boot_off(tmp_path, secure_boot, setup_mode):
    changes = {'sys/firmware/efi/efivars': None}
    if secure_boot is not None:
        changes[EFIVARS + 'SecureBoot-' + EFI_GLOBAL_GUID] = _efivar(secure_boot)
    if setup_mode is not None:
        changes[EFIVARS + 'SetupMode-' + EFI_GLOBAL_GUID] = _efivar(setup_mode)
    root = make_host(tmp_path, changes)
    (tmp_path / 'root' / 'sys/firmware/efi/efivars').mkdir(parents=True, exist_ok=True)
    facts = gather(root)
    assert facts['efi'] is True and facts['secure_boot'] is False and facts['kexec_file_load_required'] is False


def test_lockdown_without_secure_boot(tmp_path):
    facts = gather(make_host(tmp_path, {'sys/kernel/security/lockdown': 'none integrity [confidentiality]\n'}))
    assert facts['kexec_file_load_required'] is True
    assert len(facts['problems']) == 1 and facts['problems'][0].startswith('lockdown is active (confidentiality) but Secure Boot is off')


def test_lockdown_with_kexec_s_configured(tmp_path):
    facts = gather(make_host(tmp_path, {'sys/kernel/security/lockdown': 'none [integrity] confidentiality\n',
                                        'etc/default/kdump-tools': 'USE_KDUMP=1\nKDUMP_KEXEC_ARGS="-s"\n'}))
    assert facts['problems'] == []


def test_no_lockdown_file(tmp_path):
    facts = gather(make_host(tmp_path, {'sys/kernel/security/lockdown': None}))
    assert facts['lockdown'] is None and facts['kexec_file_load_required'] is False


def test_pre_6_kernel_does_not_round(tmp_path):
    iomem = '00001000-0009fbff : System RAM\n00100000-17f5ffff : System RAM\n'
    changes = {'proc/iomem': iomem, 'proc/sys/kernel/osrelease': '5.10.0-33-amd64', 'sys/kernel/kexec_crash_size': '0'}
    facts = gather(make_host(tmp_path, changes))
    assert facts['ram_rounded'] is False
    assert facts['expected_bytes'] == 0
    changes['proc/sys/kernel/osrelease'] = '6.1.0-28-amd64'
    assert gather(make_host(tmp_path / 'new', changes))['expected_bytes'] == 128 * M


def test_grub_warnings_only_for_the_command_line(tmp_path):
    facts = gather(make_host(tmp_path, {'etc/default/grub.d/50-odd.cfg': 'GRUB_CMDLINE_LINUX="$(cat /etc/cmdline)"\n'}))
    assert facts['problems'] == ['/etc/default/grub.d/50-odd.cfg line 1: command substitution $(...) is not evaluated, ignored: '
                                 'GRUB_CMDLINE_LINUX="$(cat /etc/cmdline)"']


def test_empty_root_tree(tmp_path):
    facts = gather(str(tmp_path))
    assert facts['kdump_state'] == 'not installed'
    assert facts['cmdline'] is None and facts['kernel_release'] is None and facts['ram_bytes'] is None
    assert facts['sysrq'] is None and facts['cpu_count'] is None and facts['boot_id'] is None
    assert facts['problems'] == []


# --- parsers --------------------------------------------------------------------------------------

def test_read_kdump_defaults(tmp_path):
    root = make_host(tmp_path)
    assert read_kdump_defaults(root) == {'USE_KDUMP': '1', 'KDUMP_KERNEL': '/var/lib/kdump/vmlinuz',
                                         'KDUMP_INITRD': '/var/lib/kdump/initrd.img', 'KDUMP_COREDIR': '/var/crash'}
    assert read_kdump_defaults(str(tmp_path / 'nowhere')) == {}


def test_grub_cfg_first_linux_line(tmp_path):
    grub_cfg = ("menuentry 'x' {\n\tlinux\t/vmlinuz-a root=/dev/sda1 ro crashkernel=1G\n}\n"
                "submenu 'y' {\n\tlinux\t/vmlinuz-b root=/dev/sda1 ro crashkernel=2G\n}\n")
    root = make_host(tmp_path, {'boot/grub/grub.cfg': grub_cfg})
    assert read_grub_cfg_cmdline(root) == 'root=/dev/sda1 ro crashkernel=1G'
    assert read_grub_cfg_cmdline(str(tmp_path / 'none')) is None


def test_parse_iomem():
    text = ('00001000-0009fbff : System RAM\n00100000-7ffdffff : System RAM\n  2b000000-32ffffff : Crash kernel\n'
            '  01000000-01ffffff : System RAM\n7ffe0000-7fffffff : Reserved\n')
    assert parse_iomem(text) == {'ram_bytes': 0x9ec00 + 0x7fee0000, 'crash_regions': [(0x2b000000, 0x32ffffff)],
                                 'ram_ranges': [(0x1000, 0x9fbff), (0x100000, 0x7ffdffff)]}
    assert parse_iomem(ZERO_IOMEM) == {'ram_bytes': None, 'ram_ranges': None, 'crash_regions': None}


def test_parse_meminfo_total():
    assert parse_meminfo_total('MemTotal:        2014208 kB\nMemFree: 1 kB\n') == 2014208 * 1024
    assert parse_meminfo_total('') is None
    assert parse_meminfo_total(None) is None


def test_parse_dpkg_version():
    status = ('Package: kdump-tools\nStatus: deinstall ok config-files\nVersion: 1:1.8.1\n\n'
              'Package: makedumpfile\nStatus: install ok installed\nVersion: 1:1.7.2-1\n')
    assert parse_dpkg_version(status, 'kdump-tools') is None
    assert parse_dpkg_version(status, 'makedumpfile') == '1:1.7.2-1'
    assert parse_dpkg_version(None, 'kdump-tools') is None


@pytest.mark.parametrize('version, parts', [('1:1.8.1', (1, 8, 1)), ('1:1.10.3ubuntu2', (1, 10, 3)), ('2.0-1', (2, 0)), (None, ()), ('x', ())])
def test_upstream_version(version, parts):
    assert upstream_version(version) == parts


@pytest.mark.parametrize('text, word', [
    ('[none] integrity confidentiality\n', 'none'),
    ('none integrity [confidentiality]', 'confidentiality'),
    ('', None),
    (None, None),
])
def test_parse_lockdown(text, word):
    assert parse_lockdown(text) == word
