# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The one parser of the kernel's crashkernel= parameter.

It follows Linux kernel/crash_core.c (6.1; kernel/crash_reserve.c in 6.12: parse_crashkernel_mem,
parse_crashkernel_simple, parse_crashkernel_suffix, get_last_crashkernel) and lib/cmdline.c memparse
character by character. What a kernel release then does with the values of a whole command line is in
_crashkernel_rules.py. Pure functions only: the controller-side filter and the target-side modules both
import this file.
"""

from __future__ import annotations

import collections
import re

from ansible_collections.fleet.kdump.plugins.module_utils._sizes import format_bytes

PREFIX = 'crashkernel='
SUFFIXES = ('high', 'low')
# Linux 6.16 added crashkernel=size,cma; older kernels read such a token as an invalid plain value.
SUFFIXES_CMA = SUFFIXES + ('cma',)
SZ_128M = 128 << 20
_U64 = (1 << 64) - 1
_UNITS = 'KMGTPE'
_HEX = '0123456789abcdef'

Reservation = collections.namedtuple('Reservation', ['size', 'offset', 'suffix'])
Reservation.__doc__ = """Result of parsing one crashkernel= value.

size: bytes the value asks for (0 when no range matched); offset: the @offset (0 = automatic placement);
suffix: None, 'high' or 'low'."""


class CrashkernelError(ValueError):
    """A crashkernel= value the kernel rejects (it then reserves nothing)."""


def _digit(char):
    """Value of one ASCII hex digit, 99 for anything else (the kernel knows no other digits)."""
    index = _HEX.find(char.lower()) if len(char) == 1 else -1
    return 99 if index == -1 else index


def _strtoull(text, pos):
    """simple_strtoull(text + pos, &end, 0): returns (value, end); end == pos when no digit was read."""
    base = 10
    if text.startswith('0', pos):
        base = 8
        if text[pos + 1:pos + 2] in ('x', 'X') and _digit(text[pos + 2:pos + 3]) < 16:
            base = 16
            pos += 2
    value = 0
    end = pos
    while end < len(text):
        digit = _digit(text[end])
        if digit >= base:
            break
        # The kernel flags the overflow but simple_strtoull ignores the flag: the value wraps.
        value = (value * base + digit) & _U64
        end += 1
    return value, end


def memparse(text, pos=0):
    """Kernel memparse(): a number (0x hex, leading-0 octal, decimal) and an optional K/M/G/T/P/E suffix.

    Returns (bytes, end position). Like the kernel, a suffix without digits ('M') reads as 0 and consumes the suffix.
    """
    value, end = _strtoull(text, pos)
    unit = text[end:end + 1].upper()
    if unit and unit in _UNITS:
        value = (value << (10 * (_UNITS.index(unit) + 1))) & _U64
        end += 1
    return value, end


def parse_size(value):
    """Parse a whole size string such as '2G', '0x80000000' or '2147483648' into bytes (int input passes through)."""
    if isinstance(value, bool):
        raise CrashkernelError('size must be a number of bytes or a size string such as 2G, not %r' % (value,))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if value < 0:
            raise CrashkernelError('size must not be negative: %d' % value)
        return value
    text = str(value).strip()
    size, end = memparse(text)
    if not text or end != len(text) or _digit(text[0]) > 9:
        raise CrashkernelError('invalid size %r: expected a number with an optional K/M/G/T/P/E suffix' % (value,))
    return size


def format_size(size):
    """Format bytes the way crashkernel= is written ('128M', '1G', '1536M', '4096' when not a whole KiB).

    Sizes in messages are _sizes.format_bytes' ('128 MiB').
    """
    size = int(size)
    if size == 0:
        return '0'
    for index in range(len(_UNITS) - 1, -1, -1):
        shift = 10 * (index + 1)
        if size % (1 << shift) == 0:
            return '%d%s' % (size >> shift, _UNITS[index])
    return str(size)


def strip_prefix(spec):
    """The value of a crashkernel= token, accepting it with or without the 'crashkernel=' prefix."""
    if spec is None:
        raise CrashkernelError('crashkernel= value is missing')
    text = str(spec).strip()
    if text.startswith(PREFIX):
        text = text[len(PREFIX):]
    if not text:
        raise CrashkernelError('crashkernel= value is empty')
    if re.search(r'\s', text):
        raise CrashkernelError('crashkernel= value %r contains whitespace: pass a single crashkernel= value' % text)
    return text


def spec_suffix(spec, suffixes=SUFFIXES):
    """The suffix ('high', 'low', or 'cma' when in `suffixes`) the value ends with (as the kernel tests it), else None."""
    text = str(spec).strip()
    for suffix in suffixes:
        if text.endswith(',' + suffix):
            return suffix
    return None


def effective_spec(cmdline, suffix=None, suffixes=SUFFIXES):
    """get_last_crashkernel(): the value of the last crashkernel= on a command line, or None.

    With suffix=None, tokens ending in one of `suffixes` are skipped (they are not the plain parameter);
    with suffix='high', 'low' or 'cma', only tokens ending in that suffix count. Like the kernel, the match
    is a substring search and a token ends at the next space.
    """
    if suffix not in (None,) + suffixes:
        raise ValueError('suffix must be None or one of %s' % ', '.join(suffixes))
    found = None
    text = cmdline or ''
    pos = text.find(PREFIX)
    while pos != -1:
        end = text.find(' ', pos)
        token = text[pos:] if end == -1 else text[pos:end]
        if spec_suffix(token, suffixes) == suffix:
            found = token[len(PREFIX):]
        pos = text.find(PREFIX, pos + 1)
    return found


def effective_specs(cmdline, suffixes=SUFFIXES):
    """The crashkernel= values the kernel looks at: {'plain': ..., 'high': ..., 'low': ...} (None when absent)."""
    return {'plain': effective_spec(cmdline, None, suffixes), 'high': effective_spec(cmdline, 'high', suffixes),
            'low': effective_spec(cmdline, 'low', suffixes)}


def _bad(spec, problem):
    return CrashkernelError('crashkernel=%s: %s' % (spec, problem))


def _char(text, pos):
    return text[pos] if pos < len(text) else ''


def _parse_simple(spec):
    """parse_crashkernel_simple(): size[@offset]."""
    size, cur = memparse(spec)
    if cur == 0:
        raise _bad(spec, 'memory value expected')
    offset = 0
    if _char(spec, cur) == '@':
        offset, cur = memparse(spec, cur + 1)
    elif cur != len(spec):
        raise _bad(spec, 'unrecognized char: %s' % spec[cur])
    return Reservation(size, offset, None)


def _parse_suffixed(spec, suffix):
    """parse_crashkernel_suffix(): size,high, size,low or size,cma (no offset, no RAM check in the kernel)."""
    size, cur = memparse(spec)
    if cur == 0:
        raise _bad(spec, 'memory value expected')
    if spec[cur:] != ',' + suffix:
        raise _bad(spec, 'unrecognized char: %s' % spec[cur])
    return Reservation(size, 0, suffix)


def _parse_ranges(spec, total_mem):
    """parse_crashkernel_mem(): start-[end]:size[,...][@offset] against an already rounded total_mem."""
    cur = 0
    size = 0
    while True:
        start, tmp = memparse(spec, cur)
        if tmp == cur:
            raise _bad(spec, 'memory value expected at %r' % spec[cur:])
        cur = tmp
        if _char(spec, cur) != '-':
            raise _bad(spec, "'-' expected at %r" % spec[cur:])
        cur += 1
        end = _U64
        if _char(spec, cur) != ':':
            end, tmp = memparse(spec, cur)
            if tmp == cur:
                raise _bad(spec, 'memory value expected at %r' % spec[cur:])
            cur = tmp
            if end <= start:
                raise _bad(spec, 'end <= start in range %s-%s' % (format_size(start), format_size(end)))
        if _char(spec, cur) != ':':
            raise _bad(spec, "':' expected at %r" % spec[cur:])
        cur += 1
        entry_size, tmp = memparse(spec, cur)
        if tmp == cur:
            raise _bad(spec, 'memory value expected at %r' % spec[cur:])
        cur = tmp
        # The kernel checks the size of every entry it reaches, before testing whether the entry matches.
        if entry_size >= total_mem:
            raise _bad(spec, 'invalid size: %s is not below the %s of RAM compared' % (format_size(entry_size), format_bytes(total_mem)))
        if start <= total_mem < end:
            size = entry_size
            break
        cur += 1
        if _char(spec, cur - 1) != ',':
            break
    offset = 0
    if size > 0:
        # Like the kernel, anything between the matched entry and '@' is skipped.
        at = spec.find('@', cur)
        if at != -1:
            offset, tmp = memparse(spec, at + 1)
            if tmp == at + 1:
                raise _bad(spec, "memory value expected after '@'")
    return Reservation(size, offset, None)


def rounded_ram(ram):
    """RAM as compared by kernels >= 6.0: rounded up to a multiple of 128 MiB."""
    return -(-ram // SZ_128M) * SZ_128M


def parse_value(value, ram, round_ram=True, suffixes=SUFFIXES):
    """__parse_crashkernel() of one value (no prefix) against `ram` bytes: a Reservation, without the size < RAM check.

    round_ram: kernel >= 6.0 behaviour (RAM rounded up to 128 MiB before the range list is matched).
    Raises CrashkernelError for the values the kernel's parser rejects.
    """
    suffix = spec_suffix(value, suffixes)
    if suffix:
        return _parse_suffixed(value, suffix)
    if ':' in value:
        return _parse_ranges(value, rounded_ram(ram) if round_ram else ram)
    return _parse_simple(value)


def parse_crashkernel(spec, ram, round_ram=True, suffixes=SUFFIXES):
    """Parse one crashkernel= value (with or without the prefix) for a machine with `ram` bytes of memory.

    Returns a Reservation; size 0 when no range matches. Raises CrashkernelError for values the kernel
    rejects, and for a plain size that is not below RAM (6.7+ rejects it, 6.1 fails to allocate it: nothing is
    reserved). A suffixed value (,high, ,low, ,cma) is not compared with the RAM.
    """
    value = strip_prefix(spec)
    ram = parse_size(ram)
    if ram <= 0:
        raise CrashkernelError('RAM must be a positive number of bytes, got %r' % (ram,))
    result = parse_value(value, ram, round_ram, suffixes)
    if result.suffix is None and result.size >= ram:
        raise _bad(value, 'invalid size: %s is not below %s of RAM' % (format_size(result.size), format_bytes(ram)))
    return result


def reservation(spec, ram, round_ram=True, suffixes=SUFFIXES):
    """Bytes a crashkernel= value reserves for `ram` bytes of memory (0 when no range matches)."""
    return parse_crashkernel(spec, ram, round_ram, suffixes).size


def normalize_spec(spec):
    """A canonical spelling of a crashkernel= value for comparisons ('0x8000000' and '128m' become '128M').

    None stays None; a value that does not parse is returned stripped, as written.
    """
    if spec is None:
        return None
    try:
        value = strip_prefix(spec)
    except CrashkernelError:
        return str(spec).strip()
    suffix = spec_suffix(value, SUFFIXES_CMA)
    if suffix:
        body = value[:-len(suffix) - 1]
        return _canonical_sizes(body) + ',' + suffix
    return _canonical_sizes(value)


def _canonical_sizes(text):
    """Rewrite every memparse number of a value in canonical form, keeping the separators."""
    out = []
    cur = 0
    while cur < len(text):
        if _digit(text[cur]) <= 9:
            size, end = memparse(text, cur)
            out.append(format_size(size))
            cur = end
        else:
            out.append(text[cur])
            cur += 1
    return ''.join(out)
