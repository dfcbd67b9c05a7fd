# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller's name check and the collector program's are one pattern (the program ships without the collection)."""

from __future__ import annotations

import random
import string

import pytest
from kdump_collector import names

from ansible_collections.fleet.kdump.plugins.module_utils import _collector_names
from ansible_collections.fleet.kdump.plugins.test import collector_name as plugin

collector_name = plugin.TestModule().tests()['collector_name']


def test_the_collector_program_holds_the_same_pattern():
    assert names.NAME_RE.pattern == _collector_names.NAME_RE.pattern
    assert names.NAME_RE.flags == _collector_names.NAME_RE.flags


def test_both_agree_on_random_text():
    rnd = random.Random(11)
    alphabet = string.ascii_letters + string.digits + '._-:/ @\n\t\x00\u00e9'
    for dummy in range(20000):
        length = rnd.choice((0, 1, 2, 5, 30, 252, 253, 254))
        value = ''.join(rnd.choice(alphabet) for dummy in range(length))
        assert collector_name(value) == bool(names.NAME_RE.match(value)), repr(value)


@pytest.mark.parametrize('value', ['a', 'web1', 'web1.example.com', '10.0.2.15', 'a_b-c', '0' + 'a' * 252])
def test_accepted(value):
    assert collector_name(value)


@pytest.mark.parametrize('value', ['', '-a', '.a', '_a', 'a b', 'fe80::1', 'a\n', 'a\nb', 'a,b', 'a"b', 'a' * 254, 'é',
                                   None, 12, ['a']])
def test_refused(value):
    assert not collector_name(value)
