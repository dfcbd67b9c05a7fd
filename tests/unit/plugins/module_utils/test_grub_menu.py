# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kernel GRUB boots next, whose crashkernel= semantics apply to the boot configuration (issue 12, class 12)."""

from __future__ import annotations

import pytest

from ansible_collections.fleet.kdump.plugins.module_utils._grub_menu import (
    default_spec,
    find_entry,
    next_entry,
    parse_grubenv,
    parse_menu,
    release_of,
)
from ansible_collections.fleet.kdump.plugins.module_utils._host_state import gather
from ansible_collections.fleet.kdump.tests.unit.fixtures.hosts.host_tree import make_host

# The shape of a Debian 13 grub.cfg with two kernels (00_header and 10_linux).
GRUB_CFG = r"""
if [ -s $prefix/grubenv ]; then
  set have_grubenv=true
  load_env
fi
if [ "${next_entry}" ] ; then
   set default="${next_entry}"
   set next_entry=
   save_env next_entry
   set boot_once=true
else
   set default="%s"
fi
menuentry 'Debian GNU/Linux' --class debian --class gnu-linux $menuentry_id_option 'gnulinux-simple-1234' {
    linux    /boot/vmlinuz-6.12.48+deb13-amd64 root=UUID=1234 ro quiet crashkernel=512M-:192M
}
submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-1234' {
    menuentry 'Debian GNU/Linux, with Linux 6.12.48+deb13-amd64' --class debian $menuentry_id_option 'gnulinux-6.12.48+deb13-amd64-advanced-1234' {
        linux    /boot/vmlinuz-6.12.48+deb13-amd64 root=UUID=1234 ro quiet crashkernel=512M-:192M
    }
    menuentry 'Debian GNU/Linux, with Linux 6.1.0-50-amd64' --class debian $menuentry_id_option 'gnulinux-6.1.0-50-amd64-advanced-1234' {
        linux    /boot/vmlinuz-6.1.0-50-amd64 root=UUID=1234 ro quiet crashkernel=384M-:128M
    }
    menuentry "Debian \"quoted\" title" {
        linux    /vmlinuz-5.10.0-33-amd64 root=/dev/sda1
    }
}
"""


@pytest.mark.parametrize('default, env, release', [
    ('0', '', '6.12.48+deb13-amd64'),
    ('1>1', '', '6.1.0-50-amd64'),
    ('1>0', '', '6.12.48+deb13-amd64'),
    ('gnulinux-advanced-1234>gnulinux-6.1.0-50-amd64-advanced-1234', '', '6.1.0-50-amd64'),
    ('Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.0-50-amd64', '', '6.1.0-50-amd64'),
    ('1>2', '', '5.10.0-33-amd64'),
    ('0', 'next_entry=1>1\n', '6.1.0-50-amd64'),
    ('${saved_entry}', 'saved_entry=gnulinux-advanced-1234>gnulinux-6.1.0-50-amd64-advanced-1234\n', '6.1.0-50-amd64'),
    ('${saved_entry}', '', '6.12.48+deb13-amd64'),
    ('${saved_entry}', 'saved_entry=1>1\nnext_entry=0\n', '6.12.48+deb13-amd64'),
])
def test_next_entry(default, env, release):
    grubenv = '# GRUB Environment Block\n' + env + '#' * 200
    assert release_of(next_entry(GRUB_CFG % default, grubenv).kernel) == release


def test_a_title_with_escaped_quotes():
    assert find_entry(parse_menu(GRUB_CFG % '0'), '1>Debian "quoted" title').kernel == '/vmlinuz-5.10.0-33-amd64'


@pytest.mark.parametrize('spec', ['7', '1>9', 'no such title', '1', '1>0>0'])
def test_an_entry_that_does_not_boot_a_kernel(spec):
    assert find_entry(parse_menu(GRUB_CFG % '0'), spec) is None


def test_menu_tree():
    menu = parse_menu(GRUB_CFG % '0')
    assert [entry.title for entry in menu] == ['Debian GNU/Linux', 'Advanced options for Debian GNU/Linux']
    assert menu[0].ident == 'gnulinux-simple-1234' and menu[0].args == 'root=UUID=1234 ro quiet crashkernel=512M-:192M'
    assert [entry.ident for entry in menu[1].children][:2] == ['gnulinux-6.12.48+deb13-amd64-advanced-1234',
                                                               'gnulinux-6.1.0-50-amd64-advanced-1234']


def test_grubenv_and_default_spec():
    assert parse_grubenv('# GRUB\nsaved_entry=a=b\n#####') == {'saved_entry': 'a=b'}
    assert default_spec('', {}) == '0'
    assert default_spec('set default="2"\n', {'next_entry': ''}) == '2'


@pytest.mark.parametrize('kernel, release', [('/boot/vmlinuz-6.1.0-50-amd64', '6.1.0-50-amd64'), ('/vmlinuz-6.12.1', '6.12.1'),
                                             ('/boot/vmlinux-5.10.0', '5.10.0'), ('/boot/bzImage', None), (None, None)])
def test_release_of(kernel, release):
    assert release_of(kernel) == release


def test_facts_use_the_next_release_for_the_boot_configuration(tmp_path):
    """A Debian 12 host about to boot a 6.12 kernel: the boot configuration is read with the 6.12 rules."""
    snippet = 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=foo crashkernel=256M,high"\n'
    grub_cfg = GRUB_CFG.replace('crashkernel=512M-:192M', 'crashkernel=foo crashkernel=256M,high') % '0'
    changes = {'etc/default/grub.d/kdump-tools.cfg': snippet, 'boot/grub/grub.cfg': grub_cfg,
               'proc/cmdline': 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 ro quiet crashkernel=foo crashkernel=256M,high',
               'sys/kernel/kexec_crash_size': str(256 << 20)}
    facts = gather(make_host(tmp_path, changes))
    assert facts['kernel_release'] == '6.1.0-28-amd64' and facts['next_boot_release'] == '6.12.48+deb13-amd64'
    assert facts['next_boot_release_source'] == 'grub.cfg'
    assert facts['expected_bytes'] == facts['reserved_bytes'] == 256 << 20
    assert facts['configured_expected_bytes'] == 0
    assert 'next boot: crashkernel=foo: memory value expected (kernel 6.12.48+deb13-amd64, boot configuration)' in facts['problems']


def test_next_release_without_grub_cfg_is_the_newest_kernel(tmp_path):
    root = make_host(tmp_path, {'boot/grub/grub.cfg': None, 'boot/vmlinuz-6.1.0-9-amd64': '', 'boot/vmlinuz-6.1.0-28-amd64': '',
                                'boot/vmlinuz-6.12.48+deb13-amd64': '', 'boot/vmlinuz-6.12.9+deb13-amd64': ''})
    facts = gather(root)
    assert (facts['next_boot_release'], facts['next_boot_release_source']) == ('6.12.48+deb13-amd64', '/boot')
    facts = gather(make_host(tmp_path / 'bare', {'boot/grub/grub.cfg': None}))
    assert (facts['next_boot_release'], facts['next_boot_release_source']) == ('6.1.0-28-amd64', 'running')
