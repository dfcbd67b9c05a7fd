# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""File system primitives: every walk and every write goes from a directory descriptor, never follows a symlink and
never blocks on a file that is not a regular one (a FIFO, a device); and the refusal every request and pass can raise."""

from __future__ import annotations

import errno
import os
import secrets
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


def open_root(path):
    """Open a directory the operator named (its path is configuration, so links in it are followed)."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | O_CLOEXEC)


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


def open_below(root_fd, names):
    """Open the directory root_fd/names[0]/names[1]/..., one plain directory at a time (never through a symlink)."""
    fd = root_fd
    try:
        for name in names:
            if name in ('', '.', '..') or '/' in name or '\0' in name:
                raise Refused('%r is not a directory name' % name)
            parent, fd = fd, open_dir(fd, name)
            if parent != root_fd:
                os.close(parent)
    except BaseException:
        if fd != root_fd:
            os.close(fd)
        raise
    return os.dup(fd) if fd == root_fd else fd


def open_regular(dir_fd, name, flags=os.O_RDONLY, mode=DONE_MODE, follow=False):
    """Open name below dir_fd as a regular file: never through a symlink (unless follow: a file the operator named),
    never waiting on a FIFO (O_NONBLOCK: a FIFO without a peer fails at once, with one it is refused here), never a
    device or a directory."""
    flags |= os.O_NONBLOCK | O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    fd = os.open(name, flags, mode, dir_fd=dir_fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Refused('%s is not a regular file' % name)
    return fd


def lstat_at(dir_fd, name):
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def write_atomic_at(dir_fd, name, data, mode=0o644):
    """Replace name below dir_fd by data (bytes) through a new temporary file and a rename, so readers never see half
    a file; the temporary name is unpredictable and created exclusively, so nothing planted there is ever opened."""
    tmp = '.%s.%s.tmp' % (name, secrets.token_hex(6))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | O_CLOEXEC, mode, dir_fd=dir_fd)
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except OSError:
            pass
        raise


def atomic_write(path, data, mode=0o644):
    """Write data (str) to the operator-named path atomically (see write_atomic_at)."""
    dir_fd = open_root(os.path.dirname(os.path.abspath(path)))
    try:
        write_atomic_at(dir_fd, os.path.basename(path), data.encode('utf-8'), mode)
    finally:
        os.close(dir_fd)


def read_bounded(dir_fd, name, size, head, tail):
    """The first head and last tail bytes of a regular file of size bytes (never through a symlink, never
    blocking on a FIFO), joined by a newline; and whether the middle was skipped."""
    fd = open_regular(dir_fd, name)
    try:
        if size <= head + tail:
            return os.pread(fd, size, 0), False
        return os.pread(fd, head, 0) + b'\n' + os.pread(fd, tail, size - tail), True
    finally:
        os.close(fd)
