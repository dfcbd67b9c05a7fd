# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.fleet.kdump.plugins.module_utils._crashkernel import (
    SUFFIXES_CMA,
    CrashkernelError,
    Reservation,
    effective_spec,
    effective_specs,
    format_size,
    memparse,
    normalize_spec,
    parse_crashkernel,
    parse_size,
    reservation,
    rounded_ram,
)

K = 1 << 10
M = 1 << 20
G = 1 << 30
UBUNTU_2404 = '2G-4G:320M,4G-32G:512M,32G-64G:1024M,64G-128G:2048M,128G-:4096M'


# Every row of reference/kdump-tools-internals.md §6.4: (spec, RAM, >= 6.0 result, pre-6.0 result); a string is an error.
@pytest.mark.parametrize('spec, ram, rounded, raw', [
    ('384M-2G:64M,2G-:128M', 0x7ef10000, 128 * M, 64 * M),
    ('384M-2G:64M,2G-:128M', 1024 * M, 64 * M, 64 * M),
    ('512M-2G:64M,2G-:128M', 2047 * M + 512 * K, 128 * M, 64 * M),
    ('384M-:128M', 383 * M, 128 * M, 0),
    ('1G-2G:128M', 2048 * M, 0, 0),
    (UBUNTU_2404, 1024 * M, 'invalid size', 'invalid size'),
    (UBUNTU_2404, 768 * M, 'invalid size', 'invalid size'),
    (UBUNTU_2404, 2031 * M, 320 * M, 'invalid size'),
    ('2G-1G:64M', 4 * G, 'end <= start', 'end <= start'),
    ('2G-1G:64M', 512 * M, 'end <= start', 'end <= start'),
])
def test_worked_examples(spec, ram, rounded, raw):
    for round_up, expected in ((True, rounded), (False, raw)):
        if isinstance(expected, str):
            with pytest.raises(CrashkernelError, match=expected):
                reservation(spec, ram, round_up)
        else:
            assert reservation(spec, ram, round_up) == expected


@pytest.mark.parametrize('text, value, end', [
    ('128M', 128 * M, 4),
    ('128m', 128 * M, 4),
    ('1G', G, 2),
    ('1g', G, 2),
    ('4k', 4 * K, 2),
    ('2T', 2 << 40, 2),
    ('1P', 1 << 50, 2),
    ('1e', 1 << 60, 2),
    ('4096', 4096, 4),
    ('0x8000000', 128 * M, 9),
    ('0X10M', 16 * M, 5),
    ('010', 8, 3),
    ('010M', 8 * M, 4),
    ('08', 0, 1),
    ('0x', 0, 1),
    ('0xg', 0, 1),
    ('0x1E', 30, 4),
    ('M', 0, 1),
    ('', 0, 0),
    ('-1', 0, 0),
    ('16E', 0, 3),
    ('18446744073709551617', 1, 20),
])
def test_memparse_follows_the_kernel(text, value, end):
    assert memparse(text) == (value, end)


def test_memparse_from_a_position():
    assert memparse('1G-2G', 3) == (2 * G, 5)


@pytest.mark.parametrize('value, expected', [('2G', 2 * G), (' 512m ', 512 * M), ('0x80000000', 2 * G), (2 * G, 2 * G), (2.0 * G, 2 * G), ('1073741824', G)])
def test_parse_size(value, expected):
    assert parse_size(value) == expected


@pytest.mark.parametrize('value', ['', 'G', '2 G', '2GB', '-1', -1, True, None, 'abc', 1.5])
def test_parse_size_rejects(value):
    with pytest.raises(CrashkernelError):
        parse_size(value)


@pytest.mark.parametrize('size, text', [
    (0, '0'),
    (128 * M, '128M'),
    (G, '1G'),
    (1536 * M, '1536M'),
    (383 * M + 512 * K, '392704K'),
    (4096 * G, '4T'),
    (100, '100'),
    (4 * K, '4K'),
])
def test_format_size(size, text):
    assert format_size(size) == text


def test_range_start_inclusive_end_exclusive():
    spec = '1G-2G:128M,2G-4G:256M'
    assert reservation(spec, G) == 128 * M
    assert reservation(spec, 2 * G - 1, round_ram=False) == 128 * M
    # Rounded up, 1 byte below 2 GiB is 2 GiB and falls in the second range.
    assert reservation(spec, 2 * G - 1) == 256 * M
    assert reservation(spec, 2 * G) == 256 * M
    assert reservation(spec, 4 * G) == 0
    assert reservation(spec, 4 * G, False) == 0
    assert reservation(spec, 1023 * M, False) == 0


def test_round_up_to_128m():
    assert rounded_ram(1) == 128 * M
    assert rounded_ram(128 * M) == 128 * M
    assert rounded_ram(128 * M + 1) == 256 * M
    # 1023 MiB rounds to 1 GiB and enters the 1G- range only on >= 6.0 kernels.
    assert reservation('1G-:192M', 1023 * M) == 192 * M
    assert reservation('1G-:192M', 1023 * M, round_ram=False) == 0


def test_empty_end_is_unbounded():
    assert reservation('0-:128M', 1 << 62) == 128 * M


def test_first_match_wins():
    assert reservation('0-4G:64M,1G-:128M', 2 * G) == 64 * M


def test_size_checked_before_match_only_up_to_the_match():
    # The 4G entry after the match is never reached.
    assert reservation('0-2G:128M,2G-:4G', G) == 128 * M
    # An entry before the match whose size is not below RAM rejects the whole value.
    with pytest.raises(CrashkernelError, match='invalid size'):
        reservation('2G-4G:1G,0-2G:128M', G)
    # The matching entry's own size is checked too.
    with pytest.raises(CrashkernelError, match='invalid size'):
        reservation('0-:1G', G)


def test_size_compared_with_rounded_ram():
    # 900M is below the rounded 1 GiB, so the range check passes; the final check against raw RAM still applies.
    assert reservation('0-:900M', 1000 * M) == 900 * M
    with pytest.raises(CrashkernelError, match='invalid size'):
        reservation('0-:960M', 900 * M)


def test_no_match_is_zero():
    assert reservation('4G-:256M', 2 * G) == 0
    assert parse_crashkernel('4G-:256M@16M', 2 * G) == Reservation(0, 0, None)


def test_prefix_is_optional():
    assert reservation('crashkernel=384M-:128M', 2 * G) == reservation('384M-:128M', 2 * G) == 128 * M
    assert reservation('  crashkernel=256M ', 2 * G) == 256 * M


@pytest.mark.parametrize('spec, expected', [
    ('256M', Reservation(256 * M, 0, None)),
    ('256M@16M', Reservation(256 * M, 16 * M, None)),
    ('0x10000000@0x1000000', Reservation(256 * M, 16 * M, None)),
    ('256M@0', Reservation(256 * M, 0, None)),
    ('0', Reservation(0, 0, None)),
    ('1G-:256M@64M', Reservation(256 * M, 64 * M, None)),
    ('0-1G:64M,1G-:128M@16M', Reservation(128 * M, 16 * M, None)),
    ('0-4G:64M,4G-:128M@16M', Reservation(64 * M, 16 * M, None)),
    ('512M,high', Reservation(512 * M, 0, 'high')),
    ('crashkernel=256m,low', Reservation(256 * M, 0, 'low')),
    ('0,low', Reservation(0, 0, 'low')),
    ('8G,high', Reservation(8 * G, 0, 'high')),
])
def test_forms(spec, expected):
    assert parse_crashkernel(spec, 2 * G) == expected


def test_garbage_after_the_list_is_ignored_like_the_kernel():
    assert reservation('0-:128Mfoo', 2 * G) == 128 * M
    assert reservation('4G-:128Mfoo', 2 * G) == 0


@pytest.mark.parametrize('spec, message', [
    ('', 'empty'),
    ('crashkernel=', 'empty'),
    ('abc', 'memory value expected'),
    ('128X', 'unrecognized char: X'),
    ('128M@', None),
    ('128M,high@16M', 'unrecognized char'),
    ('128M@16M,high', 'unrecognized char: @'),
    ('1G-:128M,low', "unrecognized char: -"),
    ('1G:128M', "'-' expected"),
    ('1G-2Gx:128M', "':' expected"),
    ('1G-x:128M', 'memory value expected'),
    ('1G-2G:', 'memory value expected'),
    ('1G-2G:x', 'memory value expected'),
    ('0-1G:64M,', 'memory value expected'),
    ('1G-1G:64M', 'end <= start'),
    ('0-:128M@x', "memory value expected after '@'"),
    ('4G', 'invalid size'),
    ('2G', 'invalid size'),
    ('128M 256M', 'whitespace'),
])
def test_errors_name_the_problem_and_the_text(spec, message):
    if message is None:
        # memparse of '' after '@' reads 0: the kernel accepts '128M@' as automatic placement.
        assert parse_crashkernel(spec, 2 * G) == Reservation(128 * M, 0, None)
        return
    with pytest.raises(CrashkernelError, match=message) as info:
        parse_crashkernel(spec, 2 * G)
    if spec.strip() and spec != 'crashkernel=':
        assert spec.split()[0].replace('crashkernel=', '') in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize('ram', [0, -1, 'x'])
def test_bad_ram(ram):
    with pytest.raises(CrashkernelError):
        reservation('256M', ram)


def test_ram_as_size_string():
    assert reservation('384M-:128M', '2G') == 128 * M


def test_last_crashkernel_wins():
    cmdline = 'ro crashkernel=1G-:256M quiet crashkernel=384M-:128M'
    assert effective_spec(cmdline) == '384M-:128M'
    assert parse_crashkernel(effective_spec(cmdline), 2 * G) == Reservation(128 * M, 0, None)


def test_plain_parsing_skips_suffixed_tokens():
    cmdline = 'crashkernel=256M crashkernel=512M,high crashkernel=128M,low'
    assert effective_specs(cmdline) == {'plain': '256M', 'high': '512M,high', 'low': '128M,low'}
    assert effective_spec(cmdline, 'high') == '512M,high'
    assert effective_spec('root=/dev/sda1 quiet') is None
    assert effective_spec('') is None
    assert effective_spec(None) is None


def test_kernel_matches_substrings_like_strstr():
    assert effective_spec('foo.crashkernel=64M quiet') == '64M'


def test_effective_spec_rejects_unknown_suffix():
    with pytest.raises(ValueError):
        effective_spec('crashkernel=1G', 'middle')


def test_cma_suffix_only_when_known():
    cmdline = 'crashkernel=160M crashkernel=64M,cma'
    assert effective_spec(cmdline) == '64M,cma'
    assert effective_spec(cmdline, None, SUFFIXES_CMA) == '160M'
    assert effective_spec(cmdline, 'cma', SUFFIXES_CMA) == '64M,cma'
    with pytest.raises(CrashkernelError, match='unrecognized char: ,'):
        reservation('64M,cma', 2 * G)
    assert reservation('64M,cma', 2 * G, suffixes=SUFFIXES_CMA) == 64 * M


@pytest.mark.parametrize('spec, normal', [
    ('crashkernel=0x8000000', '128M'),
    ('128m', '128M'),
    ('131072K', '128M'),
    ('384m-:128M', '384M-:128M'),
    ('1024M-2G:0x4000000@16m', '1G-2G:64M@16M'),
    ('512M,high', '512M,high'),
    ('0x20000000,low', '512M,low'),
    ('0x4000000,cma', '64M,cma'),
    (None, None),
    ('', ''),
])
def test_normalize_spec(spec, normal):
    assert normalize_spec(spec) == normal
