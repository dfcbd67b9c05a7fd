# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from ansible.errors import AnsibleFilterError

from ansible_collections.fleet.kdump.plugins.filter.format_bytes import FilterModule as FormatFilter
from ansible_collections.fleet.kdump.plugins.filter.to_bytes import FilterModule as ToBytesFilter
from ansible_collections.fleet.kdump.plugins.module_utils._sizes import MAX_BYTES, UNITS, SizeError, format_bytes, to_bytes
from ansible_collections.fleet.kdump.tests.unit.hypothesis_budget import examples

to_bytes_filter = ToBytesFilter().filters()['to_bytes']
format_bytes_filter = FormatFilter().filters()['format_bytes']
K, M, G = 1 << 10, 1 << 20, 1 << 30
sizes = st.integers(min_value=0, max_value=MAX_BYTES)
unit_suffixes = st.sampled_from([''] + [u + tail for u in UNITS + UNITS.lower() for tail in ('', 'B', 'iB')])


@pytest.mark.parametrize('text, expected', [
    ('20G', 20 * G), ('512M', 512 * M), ('512m', 512 * M), (' 1.5GiB ', 1536 * M), ('20GB', 20 * G), ('20 G', 20 * G),
    ('0.5K', 512), ('1073741824', G), ('5 B', 5), ('0', 0), (4096, 4096), (2.0, 2), ('8E', 8 << 60 if (8 << 60) <= MAX_BYTES else None),
])
def test_to_bytes(text, expected):
    if expected is None:
        with pytest.raises(SizeError, match='above'):
            to_bytes(text)
    else:
        assert to_bytes(text) == expected


@pytest.mark.parametrize('value, problem', [
    ('20X', 'not a number'), ('5Gb', 'not a number'), ('5b', 'not a number'), ('0x10', 'not a number'), ('1e3', 'not a number'),
    ('-5', 'negative'), (-5, 'negative'), ('0.3K', 'whole number of bytes'), ('1.5', 'whole number of bytes'), (1.5, 'a float'),
    (True, 'a boolean'), (None, 'a NoneType'), ([1], 'a list'), ('', 'not a number'), ('20G\n1', 'not a number'),
    ('9223372036854775808', 'above'), ('1' * 65, 'too long'), ('٣G', 'not a number'),
])
def test_to_bytes_refuses_with_the_name_the_value_and_the_fix(value, problem):
    with pytest.raises(SizeError) as info:
        to_bytes(value, 'collector_max_host_bytes')
    message = str(info.value)
    assert message.startswith('collector_max_host_bytes=')
    assert problem in message
    assert 'such as 512M or 20G' in message


@examples(1)
@given(sizes)
def test_integers_and_their_text_are_themselves(size):
    assert to_bytes(size) == size
    assert to_bytes(str(size)) == size


@examples(1)
@given(st.integers(min_value=0, max_value=1 << 70), st.integers(min_value=0, max_value=9999), st.integers(min_value=0, max_value=4),
       unit_suffixes)
def test_decimal_sizes_are_exact(whole, frac, frac_digits, suffix):
    frac_text = str(frac).zfill(frac_digits)[:frac_digits] if frac_digits else ''
    text = '%d%s%s' % (whole, '.' + frac_text if frac_text else '', suffix)
    scale = 1 << (10 * (UNITS.index(suffix[0].upper()) + 1)) if suffix else 1
    exact = (whole + Fraction(int(frac_text or '0'), 10 ** len(frac_text))) * scale
    if exact.denominator != 1 or exact > MAX_BYTES:
        with pytest.raises(SizeError):
            to_bytes(text)
    else:
        assert to_bytes(text) == exact


@examples(1)
@given(st.one_of(st.text(max_size=80), st.binary(max_size=20).map(lambda b: b.decode('latin-1'))))
def test_any_text_is_a_size_in_range_or_a_size_error(text):
    try:
        size = to_bytes(text)
    except SizeError as exc:
        assert 'is not a byte size' in str(exc)
    else:
        assert 0 <= size <= MAX_BYTES


@pytest.mark.parametrize('size, text', [
    (0, '0 bytes'), (1023, '1023 bytes'), (1024, '1 KiB'), (1100, '1.1 KiB'), (128 * M, '128 MiB'), (1536 * M, '1.5 GiB'),
    (383 * M + 512 * K, '383.5 MiB'), (G - 1, '1 GiB'), (4 << 40, '4 TiB'), (MAX_BYTES, '8 EiB'), (-2 * G, '-2 GiB'),
])
def test_format_bytes(size, text):
    assert format_bytes(size) == text


@examples(1)
@given(st.integers(min_value=1024, max_value=MAX_BYTES))
def test_format_bytes_is_within_half_a_tenth_of_its_unit(size):
    number, unit = format_bytes(size).split()
    assert unit in ['%siB' % u for u in UNITS]
    assert 1 <= Fraction(number) <= 1024 and len(number.partition('.')[2]) <= 1
    scale = 1 << (10 * (UNITS.index(unit[0]) + 1))
    assert abs(Fraction(number) * scale - size) <= Fraction(scale, 20)
    if Fraction(number) * scale <= MAX_BYTES and (Fraction(number) * scale).denominator == 1:
        assert to_bytes(number + unit) == Fraction(number) * scale


def test_filters():
    assert to_bytes_filter('20G', 'collector_max_host_bytes') == 20 * G
    with pytest.raises(AnsibleFilterError, match=r"^collector_max_host_bytes='20X' is not a byte size"):
        to_bytes_filter('20X', 'collector_max_host_bytes')
    assert format_bytes_filter(192 * M) == '192 MiB'
    assert format_bytes_filter('1024') == '1 KiB'
    for bad in (True, '1.0', None, 'abc'):
        with pytest.raises(AnsibleFilterError, match='expected a number of bytes'):
            format_bytes_filter(bad)
