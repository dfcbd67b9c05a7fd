# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import hashlib
import os
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.fleet.kdump.plugins.module_utils._checksums import ChecksumError, checksums, sha256_of


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def test_regular_files_are_hashed_under_root(tmp_path):
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'etc' / 'a').write_bytes(b'USE_KDUMP=1\n')
    (tmp_path / 'etc' / 'empty').write_bytes(b'')
    result = checksums(str(tmp_path), ['/etc/a', '/etc/empty', '/etc/missing'])
    assert result == {'/etc/a': _sha(b'USE_KDUMP=1\n'), '/etc/empty': _sha(b''), '/etc/missing': None}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=5000))
def test_any_content(tmp_path_factory, data):
    path = tmp_path_factory.mktemp('sum') / 'f'
    path.write_bytes(data)
    assert sha256_of(str(path)) == _sha(data)


def test_large_file_is_read_whole(tmp_path):
    data = os.urandom(3 * (1 << 20) + 17)
    (tmp_path / 'big').write_bytes(data)
    assert sha256_of(str(tmp_path / 'big')) == _sha(data)


def test_symlink_is_followed(tmp_path):
    (tmp_path / 'target').write_bytes(b'x')
    os.symlink('target', str(tmp_path / 'link'))
    os.symlink('nowhere', str(tmp_path / 'dangling'))
    assert sha256_of(str(tmp_path / 'link')) == _sha(b'x')
    assert sha256_of(str(tmp_path / 'dangling')) is None


def test_directory_is_not_a_file(tmp_path):
    assert sha256_of(str(tmp_path)) is None


def test_fifo_is_never_opened_for_reading(tmp_path):
    fifo = str(tmp_path / 'fifo')
    os.mkfifo(fifo)
    result = []
    worker = threading.Thread(target=lambda: result.append(sha256_of(fifo)), daemon=True)
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), 'sha256_of blocked on a FIFO'
    assert result == [None]


def test_symlink_to_a_device_is_not_read(tmp_path):
    os.symlink('/dev/zero', str(tmp_path / 'zero'))
    assert sha256_of(str(tmp_path / 'zero')) is None


@pytest.mark.skipif(os.geteuid() == 0, reason='root reads every file')
def test_unreadable_file(tmp_path):
    path = tmp_path / 'secret'
    path.write_bytes(b'x')
    path.chmod(0)
    assert sha256_of(str(path)) is None


@pytest.mark.parametrize('bad', ['etc/a', '', '/etc/../../outside', None])
def test_relative_paths_are_refused(tmp_path, bad):
    with pytest.raises(ChecksumError, match='absolute'):
        checksums(str(tmp_path), ['/etc/ok', bad])


def test_root_slash_reads_the_host_path(tmp_path):
    (tmp_path / 'f').write_bytes(b'y')
    assert checksums('/', [str(tmp_path / 'f')]) == {str(tmp_path / 'f'): _sha(b'y')}
