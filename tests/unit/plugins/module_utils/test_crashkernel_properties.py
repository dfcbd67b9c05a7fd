# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The crashkernel= parser against an independent model of each release's rules, on random command lines.

The model below is written from the kernel sources (docs/crashkernel.md) over structured tokens, so it never
parses text: a command line is built from the tokens, and the parser must read back what the model says.
"""

from __future__ import annotations

from hypothesis import given, strategies as st

from ansible_collections.fleet.kdump.tests.unit.hypothesis_budget import examples

from ansible_collections.fleet.kdump.plugins.filter.crashkernel_reservation import crashkernel_reservation
from ansible_collections.fleet.kdump.plugins.module_utils._crashkernel_rules import kernel_rules, predict

M = 1 << 20
G = 1 << 30
# Two QEMU pc guests: 4 GiB (3 GiB below the PCI hole, 1 GiB above 4 GiB) and 2 GiB (nothing above 4 GiB).
LAYOUTS = {
    '4G': [(0x1000, 0x9fbff), (0x100000, 0xbffdffff), (0x100000000, 0x13fffffff)],
    '2G': [(0x1000, 0x9fbff), (0x100000, 0x7ffdffff)],
}
RELEASES = {'5.10.0-33-amd64': (5, 10), '6.1.0-50-amd64': (6, 1), '6.5.13': (6, 5), '6.6.60': (6, 6), '6.7.1': (6, 7),
            '6.12.48+deb13-amd64': (6, 12), '6.16.3': (6, 16)}
SIZES = [0, 64, 128, 192, 256, 512, 768, 1536, 8192]
GARBAGE = ['foo', '128X', 'abc', '-1', '1G-2G', '1G-2G:', 'x:y', '']

sizes = st.sampled_from(SIZES)
entries = st.lists(st.tuples(st.sampled_from([0, 256, 384, 512, 1024, 2048, 3072, 4096]), st.sampled_from([None, 0, 512, 1024, 2048, 4096, 8192]),
                             sizes), min_size=1, max_size=4)
tokens = st.one_of(
    st.tuples(st.just('plain'), sizes),
    st.tuples(st.just('hex'), sizes),
    st.tuples(st.just('ranges'), entries),
    st.tuples(st.just('garbage'), st.sampled_from(GARBAGE)),
    st.tuples(st.just('high'), sizes),
    st.tuples(st.just('high'), st.just(None)),
    st.tuples(st.just('low'), sizes),
    st.tuples(st.just('low'), st.just(None)),
    st.tuples(st.just('cma'), sizes),
    st.tuples(st.just('word'), st.sampled_from(['ro', 'quiet', 'root=/dev/vda', 'console=ttyS0'])),
)


def text(token):
    kind, data = token
    if kind == 'word':
        return data
    if kind == 'plain':
        return 'crashkernel=%dM' % data
    if kind == 'hex':
        return 'crashkernel=%#x' % (data * M)
    if kind == 'ranges':
        return 'crashkernel=' + ','.join('%dM-%s:%dM' % (start, '' if end is None else '%dM' % end, size) for start, end, size in data)
    if kind == 'garbage':
        return 'crashkernel=' + data
    return 'crashkernel=%s,%s' % ('junk' if data is None else '%dM' % data, kind)


def plain_value(token, total):
    """(valid, bytes) of a plain crashkernel= value against the RAM the release compares."""
    kind, data = token
    if kind in ('plain', 'hex'):
        return True, data * M
    if kind == 'ranges':
        for start, end, size in data:
            if (end is not None and end <= start) or size * M >= total:
                return False, 0
            if start * M <= total and (end is None or total < end * M):
                return True, size * M
        return True, 0
    return False, 0


def model(tokens, layout, version):
    """What kexec_crash_size reads after a boot, written from the sources without the parser's code."""
    ranges = LAYOUTS[layout]
    ram = sum(end - start + 1 for start, end in ranges)
    rounds, counts_low, generic, cma = version >= (6, 0), version >= (6, 5), version >= (6, 7), version >= (6, 16)
    total = -(-ram // (128 * M)) * 128 * M if rounds else ram
    crashkernel = [token for token in tokens if token[0] != 'word']
    if not crashkernel:
        return None
    suffixed = ('high', 'low', 'cma') if cma else ('high', 'low')
    plains = [token for token in crashkernel if token[0] not in suffixed]
    highs = [token for token in crashkernel if token[0] == 'high']
    lows = [token for token in crashkernel if token[0] == 'low']
    valid, size = plain_value(plains[-1], total) if plains else (False, 0)
    high = False
    if not (valid and size):
        # 6.7+ uses ,high only without any plain value; x86 before also when the plain value is invalid or 0.
        if not highs or (plains and generic) or highs[-1][1] in (None, 0):
            return 0
        if generic and lows and lows[-1][1] is None:
            return 0
        size, high = highs[-1][1] * M, True
    if size >= ram:
        return 0
    # Every size below RAM fits below 4 GiB in both layouts; above 4 GiB only 4G's 1 GiB holds one, up to 1 GiB.
    above = high and layout == '4G' and size <= G
    low = 0
    if above:
        low = lows[-1][1] * M if lows and lows[-1][1] is not None else 256 * M
        if low > 3 * G - 16 * M:
            # No room below 4 GiB for the low region: the kernel gives the whole reservation up.
            return 0
    return size + (low if counts_low else 0)


@examples(1)
@given(st.lists(tokens, max_size=6), st.sampled_from(sorted(LAYOUTS)), st.sampled_from(sorted(RELEASES)))
def test_the_parser_follows_the_model(words, layout, release):
    ranges = LAYOUTS[layout]
    ram = sum(end - start + 1 for start, end in ranges)
    result = predict(' '.join(text(token) for token in words), ram, kernel_rules(release), ranges)
    assert (result.sysfs_bytes if result is not None else None) == model(words, layout, RELEASES[release])


@examples(1)
@given(st.one_of(st.tuples(st.just('plain'), sizes), st.tuples(st.just('hex'), sizes), st.tuples(st.just('ranges'), entries)),
       st.sampled_from(sorted(LAYOUTS)), st.sampled_from(sorted(RELEASES)))
def test_the_filter_follows_the_model(token, layout, release):
    ram = sum(end - start + 1 for start, end in LAYOUTS[layout])
    version = RELEASES[release]
    valid, size = plain_value(token, -(-ram // (128 * M)) * 128 * M if version >= (6, 0) else ram)
    try:
        got = crashkernel_reservation(text(token), ram, kernel=release)
    except Exception:  # noqa: BLE001 - an AnsibleFilterError; the model says whether the kernel refuses the value
        got = None
    assert got == (size if valid and size < ram else None)
