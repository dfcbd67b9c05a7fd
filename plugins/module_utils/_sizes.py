# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Byte sizes as people write them (20G, 512M, 1.5GiB) and as the collection prints them (1.5 GiB).

The one parser of every size a user gives (role variables, module options) and the one formatter of sizes in
controller-side messages and reports. Units are powers of 1024, as in the kernel's memparse, ansible-core's
human_to_bytes and kdump-tools. Exact integer arithmetic: no float ever touches a byte count, so a size
parses to the same number whatever its magnitude. (crashkernel= values keep the kernel's own parser in
_crashkernel.py: hexadecimal, octal and wrap-around are kernel semantics, not a user's.)
"""

from __future__ import annotations

import re

UNITS = 'KMGTPE'
# SQLite integers, the collector's counters and Python's C longs on the target all stop here.
MAX_BYTES = (1 << 63) - 1
# Longer text cannot be a size below MAX_BYTES worth writing; it is refused before any arithmetic.
MAX_TEXT = 64
_SIZE_RE = re.compile(r'\s*(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?\s*(?:(?P<unit>[KMGTPEkmgtpe])(?:i?B)?|B)?\s*')
HINT = 'give a whole number of bytes or a number with a unit, such as 512M or 20G (K, M, G, T, P, E: powers of 1024)'


class SizeError(ValueError):
    """A value that is not a byte size; the message names the value, the problem and the fix."""


def _fail(value, problem, name):
    subject = '%s=%r' % (name, value) if name else repr(value)
    return SizeError('%s is not a byte size (%s): %s' % (subject, problem, HINT))


def to_bytes(value, name=None):
    """Bytes from an int or a size string ('20G', '512 MiB', '1.5G', '1073741824'); `name` goes into errors.

    Accepts K/M/G/T/P/E with an optional iB or B (all binary). Refuses booleans, negative numbers, fractions of a byte,
    anything else after the number, and sizes above 2**63 - 1.
    """
    if isinstance(value, bool):
        raise _fail(value, 'a boolean', name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        size = value
    elif isinstance(value, str):
        match = _SIZE_RE.fullmatch(value) if len(value) <= MAX_TEXT else None
        if not match:
            problem = 'negative' if value.strip().startswith('-') else 'too long' if len(value) > MAX_TEXT else 'not a number with an optional unit'
            raise _fail(value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + '...', problem, name)
        unit = match.group('unit')
        scale = 1 << (10 * (UNITS.index(unit.upper()) + 1)) if unit else 1
        frac = match.group('frac') or ''
        numerator = int(match.group('int') + frac) * scale
        size, rest = divmod(numerator, 10 ** len(frac))
        if rest:
            raise _fail(value, 'not a whole number of bytes', name)
    else:
        raise _fail(value, 'a %s' % type(value).__name__, name)
    if size < 0:
        raise _fail(value, 'negative', name)
    if size > MAX_BYTES:
        raise _fail(value, 'above 2**63 - 1 bytes', name)
    return size


def format_bytes(size):
    """Bytes for people: '512 bytes', '128 MiB', '1.5 GiB', '383.5 MiB' (binary units, one decimal at most)."""
    size = int(size)
    sign, size = ('-', -size) if size < 0 else ('', size)
    if size < 1024:
        return '%s%d bytes' % (sign, size)
    shift = 10
    while shift < 10 * len(UNITS) and size >= 1 << (shift + 10):
        shift += 10
    tenths = (size * 10 + (1 << (shift - 1))) >> shift  # rounded half up, in integers
    if tenths >= 10240 and shift < 10 * len(UNITS):  # 1023.96 MiB is 1 GiB, not 1024 MiB
        shift += 10
        tenths = (size * 10 + (1 << (shift - 1))) >> shift
    whole, tenth = divmod(tenths, 10)
    return '%s%d%s %siB' % (sign, whole, '.%d' % tenth if tenth else '', UNITS[shift // 10 - 1])
