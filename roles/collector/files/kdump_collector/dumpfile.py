# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a dump file is: its format from the first bytes, and whether a flattened stream ended."""

from __future__ import annotations

import bz2
import lzma
import os
import zlib

from kdump_collector.fsutil import open_regular

WRAPPERS = ((b'\x1f\x8b', 'gzip'), (b'BZh', 'bzip2'), (b'\xfd7zXZ\x00', 'xz'), (b'\x04\x22\x4d\x18', 'lz4'))
# makedumpfile -F ends a finished flattened stream with a data header {offset, size} of -1, -1 (END_FLAG_FLAT_HEADER).
FLAT_END = b'\xff' * 16


def sniff_plain(head):
    if head.startswith(b'makedumpfile\0\0\0\0'):
        return 'makedumpfile-flattened'
    if head.startswith(b'KDUMP   '):
        return 'kdump-compressed'
    if head.startswith(b'DISKDUMP'):
        return 'diskdump'
    if head.startswith(b'\x7fELF'):
        return 'elf'
    return None


def unwrap_head(kind, head):
    """First bytes inside a compressed wrapper (empty when the stdlib cannot tell from this prefix)."""
    try:
        if kind == 'gzip':
            return zlib.decompressobj(31).decompress(head, 64)
        if kind == 'bzip2':
            return bz2.BZ2Decompressor().decompress(head, 64)
        if kind == 'xz':
            return lzma.LZMADecompressor().decompress(head, 64)
    except (OSError, EOFError, lzma.LZMAError, ValueError, zlib.error):
        return b''
    return b''


def dump_format(dir_fd, name):
    fd = open_regular(dir_fd, name)
    try:
        head = os.pread(fd, 64 * 1024, 0)
    finally:
        os.close(fd)
    if not head:
        return None
    plain = sniff_plain(head)
    if plain:
        return plain
    for magic, kind in WRAPPERS:
        if head.startswith(magic):
            inner = sniff_plain(unwrap_head(kind, head))
            return '%s+%s' % (inner, kind) if inner else kind
    return 'unknown'


def flat_end_present(dir_fd, name):
    """Whether a plain flattened dump ends with makedumpfile's end marker (reads its last 16 bytes only)."""
    fd = open_regular(dir_fd, name)
    try:
        size = os.fstat(fd).st_size
        return size >= len(FLAT_END) and os.pread(fd, len(FLAT_END), size - len(FLAT_END)) == FLAT_END
    finally:
        os.close(fd)
