# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Files read under root never come from outside it (issue 12, class 10)."""

from __future__ import annotations

import json
import os
import signal

import pytest

from ansible_collections.fleet.kdump.plugins.module_utils._host_files import (
    HostFiles,
    NotRegular,
    OutsideRoot,
    list_dir,
    read_bytes,
    real_path,
)
from ansible_collections.fleet.kdump.plugins.module_utils._host_state import gather
from ansible_collections.fleet.kdump.tests.unit.fixtures.hosts.host_tree import make_host


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / 'root'
    (root / 'etc/kdump').mkdir(parents=True)
    (root / 'etc/kdump/real').write_text('inside\n')
    (tmp_path / 'outside').mkdir()
    (tmp_path / 'outside/secret').write_text('secret\n')
    return root


@pytest.mark.parametrize('target', ['/../outside/secret', '../../outside/secret', '../../../../../../../etc/passwd', '/etc/passwd',
                                    '../..', '../../outside', '../../root/etc/kdump/real'])
def test_links_out_of_root_are_refused(tree, target):
    """A link that leaves the root is refused, even one that would come back into it."""
    link = tree / 'etc/link'
    link.symlink_to(target.replace('/../', str(tree.parent) + '/') if target.startswith('/../') else target)
    with pytest.raises(OutsideRoot, match='leads outside'):
        read_bytes(str(tree), '/etc/link/secret' if target in ('../..', '../../outside') else '/etc/link')
    files = HostFiles(str(tree))
    assert files.read_text('/etc/link') is None
    assert len(files.refused) == 1 and 'leads outside' in files.refused[0]


def test_dot_dot_never_climbs_above_root(tree):
    with pytest.raises(OutsideRoot):
        read_bytes(str(tree), '/../outside/secret')
    assert read_bytes(str(tree), '/etc/../etc/kdump/./real') == b'inside\n'


@pytest.mark.parametrize('target', ['kdump/real', '../etc/kdump/real', 'ABSOLUTE', './kdump//real', '../etc/../etc/kdump/real'])
def test_links_inside_root_are_followed(tree, target):
    (tree / 'etc/link').symlink_to(str(tree / 'etc/kdump/real') if target == 'ABSOLUTE' else target)
    assert read_bytes(str(tree), '/etc/link') == b'inside\n'
    assert real_path(str(tree), '/etc/link') == (str(tree / 'etc/kdump/real'), True)


def test_a_linked_directory_inside_root(tree):
    (tree / 'srv').symlink_to('etc/kdump')
    assert read_bytes(str(tree), '/srv/real') == b'inside\n'
    assert list_dir(str(tree), '/srv') == ['real']
    assert real_path(str(tree), '/srv/new') == (str(tree / 'etc/kdump/new'), False)


def test_a_linked_directory_out_of_root(tree):
    (tree / 'srv').symlink_to(str(tree.parent / 'outside'))
    with pytest.raises(OutsideRoot):
        list_dir(str(tree), '/srv')
    with pytest.raises(OutsideRoot):
        real_path(str(tree), '/srv/secret')


def test_a_link_loop_is_an_error(tree):
    (tree / 'a').symlink_to('b')
    (tree / 'b').symlink_to('a')
    with pytest.raises(OSError):
        read_bytes(str(tree), '/a')
    assert HostFiles(str(tree)).read_text('/a') is None


def test_a_fifo_is_never_opened_for_reading(tree):
    os.mkfifo(str(tree / 'fifo'))
    signal.alarm(10)
    try:
        with pytest.raises(NotRegular):
            read_bytes(str(tree), '/fifo')
        files = HostFiles(str(tree))
        assert files.read_text('/fifo') is None and 'is not a regular file' in files.refused[0]
    finally:
        signal.alarm(0)


def test_missing_files(tree):
    assert read_bytes(str(tree), '/etc/none') is None
    assert read_bytes(str(tree), '/none/none') is None
    assert list_dir(str(tree), '/none') is None
    assert real_path(str(tree), '/etc/none') == (str(tree / 'etc/none'), False)


def test_root_slash_reads_the_host():
    assert read_bytes('/', '/proc/self/../cmdline') is not None


@pytest.mark.parametrize('path', ['proc/cmdline', 'proc/iomem', 'sys/kernel/kexec_crash_size', 'etc/default/kdump-tools',
                                  'etc/default/grub', 'etc/default/grub.d/kdump-tools.cfg', 'boot/grub/grub.cfg', 'var/lib/dpkg/status',
                                  'proc/sys/kernel/osrelease'])
def test_crashkernel_facts_never_show_content_from_outside_root(tmp_path, path):
    root = make_host(tmp_path)
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'secret').write_text('crashkernel=999M SECRET_TOKEN GRUB_CMDLINE_LINUX="SECRET_TOKEN"\n')
    target = os.path.join(root, path)
    os.unlink(target)
    os.symlink(str(outside / 'secret'), target)
    facts = gather(root)
    assert 'SECRET_TOKEN' not in json.dumps(facts) and '999M' not in json.dumps(facts)
    assert any('not read: /%s leads outside' % path in problem for problem in facts['problems'])


def test_crashkernel_facts_skip_a_grub_d_directory_out_of_root(tmp_path):
    root = make_host(tmp_path)
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'x.cfg').write_text('GRUB_CMDLINE_LINUX="SECRET_TOKEN"\n')
    os.rename(os.path.join(root, 'etc/default/grub.d'), os.path.join(root, 'etc/default/grub.d.old'))
    os.symlink(str(outside), os.path.join(root, 'etc/default/grub.d'))
    facts = gather(root)
    assert 'SECRET_TOKEN' not in json.dumps(facts)
    assert any('/etc/default/grub.d leads outside' in problem for problem in facts['problems'])


def test_crashkernel_facts_follow_links_inside_root(tmp_path):
    root = make_host(tmp_path)
    os.rename(os.path.join(root, 'proc/cmdline'), os.path.join(root, 'proc/cmdline.real'))
    os.symlink('cmdline.real', os.path.join(root, 'proc/cmdline'))
    facts = gather(root)
    assert facts['cmdline_spec'] == '384M-:128M' and facts['problems'] == []


def test_crashkernel_facts_with_a_fifo(tmp_path):
    root = make_host(tmp_path, {'proc/cmdline': None})
    os.mkfifo(os.path.join(root, 'proc/cmdline'))
    signal.alarm(20)
    try:
        facts = gather(root)
    finally:
        signal.alarm(0)
    assert facts['cmdline'] is None
    assert any('/proc/cmdline is not a regular file' in problem for problem in facts['problems'])
