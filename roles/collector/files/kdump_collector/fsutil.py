# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""File system primitives that never follow a symlink, and the refusal every request and pass can raise."""

from __future__ import annotations

import errno
import os
import stat

O_CLOEXEC = getattr(os, 'O_CLOEXEC', 0)
DIR_MODE = 0o750
DONE_MODE = 0o640
# Files being written carry no owner-read bit: mv refuses them until the writer finished cleanly.
BUSY_MODE = 0o200


class Refused(Exception):
    """A request that will not be carried out; the message is the one-line reason."""


class Missing(Refused):
    """Refused because a directory the request needs does not exist (yet)."""


def open_dir(parent_fd, name, create=False):
    """Open (optionally create, mode 0750) directory name below parent_fd, never through a symlink."""
    if create:
        try:
            os.mkdir(name, DIR_MODE, dir_fd=parent_fd)
        except FileExistsError:
            pass
        else:
            os.chmod(name, DIR_MODE, dir_fd=parent_fd, follow_symlinks=False)
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | O_CLOEXEC, dir_fd=parent_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Refused('%s is not a plain directory (symlink?)' % name) from exc
        raise


def lstat_at(dir_fd, name):
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def atomic_write(path, data, mode=0o644):
    """Write data (str) to path through a temporary file and rename, so readers never see half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, '.%s.%d.tmp' % (os.path.basename(path), os.getpid()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_bounded(dir_fd, name, size, head, tail):
    """The first head and last tail bytes of a regular file of size bytes (never through a symlink, never
    blocking on a FIFO), joined by a newline; and whether the middle was skipped."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | O_CLOEXEC, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError('%s is not a regular file' % name)
        if size <= head + tail:
            return os.pread(fd, size, 0), False
        return os.pread(fd, head, 0) + b'\n' + os.pread(fd, tail, size - tail), True
    finally:
        os.close(fd)
