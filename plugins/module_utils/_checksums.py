# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""SHA-256 of host files, read without ever blocking or touching anything that is not a regular file.

The role's fast path compares these with the checksums its last full run recorded, so the same code
produces both sides of the comparison.
"""

from __future__ import annotations

import hashlib
import os
import stat

from ansible_collections.fleet.kdump.plugins.module_utils._host_files import OutsideRoot, real_path

_CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A path that cannot be checksummed as asked (not absolute, or leaving the root through ..)."""


def sha256_of(path):
    """Hex SHA-256 of the regular file at `path` (symlinks followed), or None when it is anything else.

    Missing, unreadable, a directory, a FIFO or a device: None. The file is opened non-blocking and checked
    again on the open descriptor, so a FIFO or device swapped in after the first check is never read.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None
    digest = hashlib.sha256()
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        while True:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                break
            digest.update(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    return digest.hexdigest()


def checksums(root, paths):
    """{path as given: hex SHA-256 or None} for absolute host paths resolved under `root` (never outside it)."""
    bad = [path for path in paths if not isinstance(path, str) or not path.startswith('/') or '..' in path.split('/')]
    if bad:
        raise ChecksumError('checksum_paths must be absolute paths without .. components, got %s'
                            % ', '.join(repr(path) for path in bad))
    return dict((path, _sha256_under(root, path)) for path in paths)


def _sha256_under(root, path):
    """sha256_of the file `path` resolves to under `root`, links followed only inside it; None for one leading outside."""
    try:
        real, exists = real_path(root, path)
    except (OutsideRoot, OSError):
        return None
    return sha256_of(real) if exists else None
