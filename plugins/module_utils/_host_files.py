# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A host's files read under a `root`, never outside it.

Every path is walked one component at a time from a descriptor of the root (no component is looked up by
its full name, so a link swapped in between two steps is still seen). A symbolic link is followed only while
its target stays inside the root: a relative target from the directory holding the link, an absolute one as
a host path that must start with the root. `..` never climbs above the root (not even to come back into it).
Only regular files are read, opened without following a last link and without blocking, so a FIFO or a
device never hangs a read.
"""

from __future__ import annotations

import errno
import os
import stat

_MAX_LINKS = 40
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0)
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0)
# sysfs, procfs and the configuration files read here are small; a bigger file is cut, never read whole.
READ_LIMIT = 16 << 20
_CHUNK = 64 << 10


class OutsideRoot(Exception):
    """A path that leads out of the root (a link to a place outside it, or `..` above it)."""


class NotRegular(Exception):
    """A path that exists but is not a regular file (a FIFO, a device, a directory...)."""


def host_path(root, path):
    """`path` (absolute, as on the host) joined to `root`, for messages and for tools that take a path."""
    return os.path.join(root or '/', path.lstrip('/'))


def _components(path):
    return [part for part in path.split('/') if part not in ('', '.')]


class _Walk(object):
    """The directories from the root to the parent of the last component of a path, as open descriptors."""

    def __init__(self, root, path):
        self.top = os.path.realpath(root or '/')
        self.path = path
        self.fds = []
        self.names = []

    def __enter__(self):
        self.fds.append(os.open(self.top, _DIR_FLAGS))
        try:
            self.name, self.stat = self._walk(_components(self.path))
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        while self.fds:
            os.close(self.fds.pop())

    @property
    def parent(self):
        return self.fds[-1]

    @property
    def real_path(self):
        """The path the walk reached, on the host (inside the root)."""
        return os.path.join(self.top, *(self.names + ([self.name] if self.name else [])))

    def _outside(self, detail):
        raise OutsideRoot('%s leads outside %s (%s)' % (self.path, self.top, detail))

    def _up(self):
        if not self.names:
            self._outside('".." above the root')
        self.names.pop()
        os.close(self.fds.pop())

    def _restart(self, target):
        """The components of an absolute link target, below the root; refuses a target outside it."""
        if self.top != '/' and target != self.top and not target.startswith(self.top + '/'):
            self._outside('a symbolic link to %s' % target)
        while self.names:
            self._up()
        return _components(target[len(self.top):] if self.top != '/' else target)

    def _walk(self, parts):
        """Follow `parts` from the root; returns (last name or '' for the root itself, its stat or None when missing)."""
        links = 0
        while parts:
            part = parts.pop(0)
            if part == '..':
                self._up()
                continue
            try:
                info = os.stat(part, dir_fd=self.parent, follow_symlinks=False)
            except FileNotFoundError:
                if parts:
                    raise
                return part, None
            if stat.S_ISLNK(info.st_mode):
                links += 1
                if links > _MAX_LINKS:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), self.path)
                target = os.readlink(part, dir_fd=self.parent)
                parts = (self._restart(target) if target.startswith('/') else _components(target)) + parts
                continue
            if not parts:
                return part, info
            self.fds.append(os.open(part, _DIR_FLAGS, dir_fd=self.parent))
            self.names.append(part)
        return '', os.fstat(self.parent)


def real_path(root, path):
    """(host path of `path` under `root` with every link resolved inside the root, whether it exists).

    Raises OutsideRoot when it leads out of the root, OSError when a directory on the way is missing or unreadable.
    """
    with _Walk(root, path) as walk:
        return walk.real_path, walk.stat is not None


def stat_of(root, path):
    """The stat of what `path` resolves to under `root` (links followed inside it), or None when it does not exist."""
    try:
        with _Walk(root, path) as walk:
            return walk.stat
    except FileNotFoundError:
        return None


def read_bytes(root, path, limit=READ_LIMIT):
    """The content of the regular file `path` under `root`, or None when it does not exist.

    Raises OutsideRoot, NotRegular, or OSError when it cannot be read.
    """
    try:
        with _Walk(root, path) as walk:
            if walk.stat is None:
                return None
            if not stat.S_ISREG(walk.stat.st_mode):
                raise NotRegular('%s is not a regular file' % walk.real_path)
            fd = os.open(walk.name, _READ_FLAGS, dir_fd=walk.parent)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, 'rb', buffering=0) as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular('%s is not a regular file' % path)
        # Small reads: procfs sysctl files refuse a read buffer of several MiB (ENOMEM).
        chunks = []
        size = 0
        while size < limit:
            chunk = handle.read(min(_CHUNK, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b''.join(chunks)


def list_dir(root, path):
    """Names in the directory `path` under `root`, or None when it does not exist or is not a directory."""
    try:
        with _Walk(root, path) as walk:
            if walk.stat is None or not stat.S_ISDIR(walk.stat.st_mode):
                return None
            if not walk.name:
                return os.listdir(walk.parent)
            fd = os.open(walk.name, _DIR_FLAGS, dir_fd=walk.parent)
    except FileNotFoundError:
        return None
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)


class HostFiles(object):
    """The files of one host under `root`, read as the facts need them: missing, unreadable and refused all read as None.

    Every path refused because it leads outside the root or is not a regular file is kept in `refused`, one
    sentence each, for the facts' problems.
    """

    def __init__(self, root='/'):
        self.root = root or '/'
        self.refused = []

    def _read(self, function, path):
        """function(root, path), with None for a missing, unreadable or refused path (a refusal is kept)."""
        try:
            return function(self.root, path)
        except (OutsideRoot, NotRegular) as exc:
            message = 'not read: %s' % exc
            if message not in self.refused:
                self.refused.append(message)
        except (IOError, OSError):
            pass
        return None

    def read_bytes(self, path):
        return self._read(read_bytes, path)

    def read_text(self, path):
        data = self.read_bytes(path)
        return data.decode('utf-8', 'replace') if data is not None else None

    def stat(self, path):
        return self._read(stat_of, path)

    def is_file(self, path):
        info = self.stat(path)
        return info is not None and stat.S_ISREG(info.st_mode)

    def is_dir(self, path):
        info = self.stat(path)
        return info is not None and stat.S_ISDIR(info.st_mode)

    def list_dir(self, path):
        return self._read(list_dir, path)


def host_files(root):
    """`root` as a HostFiles (a HostFiles passes through, so helpers accept either)."""
    return root if isinstance(root, HostFiles) else HostFiles(root)
