# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.fleet.kdump.plugins.filter.crashkernel_reservation import FilterModule

M = 1 << 20
G = 1 << 30
crashkernel_reservation = FilterModule().filters()['crashkernel_reservation']


def test_registered_name():
    assert list(FilterModule().filters()) == ['crashkernel_reservation']


@pytest.mark.parametrize('spec, ram, expected', [
    ('crashkernel=384M-:128M', 2 * G, 128 * M),
    ('384M-:128M', '2G', 128 * M),
    ('384M-:128M', 383 * M, 128 * M),
    ('1G-2G:128M', '2G', 0),
    ('4G-:256M', '2048M', 0),
    ('384M-2G:64M,2G-:128M', 0x7ef10000, 128 * M),
    ('256M@16M', '4G', 256 * M),
    ('512M,high', '4G', 512 * M),
    ('0x8000000', '0x80000000', 128 * M),
])
def test_reservation(spec, ram, expected):
    result = crashkernel_reservation(spec, ram)
    assert result == expected
    assert isinstance(result, int)


@pytest.mark.parametrize('round_ram', [False, 'false', 'no', 0])
def test_round_ram_off(round_ram):
    assert crashkernel_reservation('384M-2G:64M,2G-:128M', 0x7ef10000, round_ram=round_ram) == 64 * M
    assert crashkernel_reservation('384M-:128M', 383 * M, round_ram=round_ram) == 0


def test_round_ram_on_explicitly():
    assert crashkernel_reservation('384M-:128M', 383 * M, round_ram=True) == 128 * M


@pytest.mark.parametrize('spec, ram, message', [
    ('2G-1G:64M', '4G', 'end <= start'),
    ('2G-4G:320M,4G-32G:512M,32G-64G:1024M,64G-128G:2048M,128G-:4096M', '1G', 'invalid size'),
    ('128X', '1G', 'unrecognized char: X'),
    ('', '1G', 'empty'),
    (None, '1G', 'missing'),
    ('256M', 'lots', 'invalid size'),
    ('256M', 0, 'positive'),
])
def test_errors(spec, ram, message):
    with pytest.raises(AnsibleFilterError, match=message) as info:
        crashkernel_reservation(spec, ram)
    assert str(info.value).startswith('crashkernel_reservation: ')


def test_bad_round_ram():
    with pytest.raises(AnsibleFilterError):
        crashkernel_reservation('256M', '1G', round_ram='maybe')
