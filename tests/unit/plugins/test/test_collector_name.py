# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller's name check and the collector program's are one pattern (the program ships without the collection)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kdump_collector import names

from ansible_collections.fleet.kdump.plugins.module_utils import _collector_names
from ansible_collections.fleet.kdump.plugins.test import collector_name as plugin

collector_name = plugin.TestModule().tests()['collector_name']


def test_the_collector_program_holds_the_same_pattern():
    assert names.NAME_RE.pattern == _collector_names.NAME_RE.pattern
    assert names.NAME_RE.flags == _collector_names.NAME_RE.flags


# Text near the pattern's edges: its own alphabet, separators and control characters, lengths around the 253 limit.
NEAR_NAMES = st.text(alphabet=string.ascii_letters + string.digits + '._-:/ ,"@\n\t\x00\u00e9\u0660', max_size=260)


@settings(max_examples=2000, deadline=None)
@given(st.one_of(NEAR_NAMES, st.text(), st.text(alphabet='a', min_size=250, max_size=256)))
def test_both_agree_on_any_text(value):
    assert collector_name(value) == bool(names.NAME_RE.match(value))


@pytest.mark.parametrize('value', ['a', 'web1', 'web1.example.com', '10.0.2.15', 'a_b-c', '0' + 'a' * 252])
def test_accepted(value):
    assert collector_name(value)


@pytest.mark.parametrize('value', ['', '-a', '.a', '_a', 'a b', 'fe80::1', 'a\n', 'a\nb', 'a,b', 'a"b', 'a' * 254, 'é',
                                   None, 12, ['a']])
def test_refused(value):
    assert not collector_name(value)
