# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.fleet.kdump.plugins.module_utils._shell_assign import (
    Unknown,
    parse_shell_assignments,
    scan_word,
)

VARS = {'A': 'x'}.get


# --- one word, with and without a lookup -----------------------------------------------------------

def test_word_expands_with_a_lookup():
    assert scan_word('a"$A b"c${A} d', 0, VARS) == ('ax bcx', 12)


@pytest.mark.parametrize('word', ['a"$A b"c', '`id`', '~/x', 'a:~', '"$(id)"', '$'])
def test_word_needing_expansion_is_unknown_without_a_lookup(word):
    value, end = scan_word(word + ' rest', 0)
    assert isinstance(value, Unknown) and value.source == word and end == len(word)


def test_tilde_stays_literal_with_a_lookup():
    assert scan_word('~/x', 0, VARS) == ('~/x', 3)


@pytest.mark.parametrize('text, end', [
    ('a\\\nb c', 4),
    ('"a\\"b" c', 6),
    ("'a\\' c", 4),
    ('a#b c', 3),
    ('a;b', 1),
])
def test_word_end(text, end):
    assert scan_word(text, 0)[1] == end


def test_word_keeps_a_final_backslash():
    assert scan_word('a\\', 0) == ('a\\', 2)


# --- a whole file read as data ---------------------------------------------------------------------

SHELL = r'''# comment
A=plain
B="double $A ${A}x"
C='single $A'
D=un\ quoted\$A
export E="exported"   # trailing comment
F=1 G="$F-2"
H=
I=""
J="multi
line"
K="esc \" \\ \$ \` \a"
L=a#b
M="$UNSET"
N=$A$A
P="$ $"
export A
'''


def test_shell_assignments():
    values, warnings = parse_shell_assignments(SHELL)
    assert warnings == []
    assert values == {'A': 'plain', 'B': 'double plain plainx', 'C': 'single $A', 'D': 'un quoted$A', 'E': 'exported', 'F': '1', 'G': '1-2',
                      'H': '', 'I': '', 'J': 'multi\nline', 'K': 'esc " \\ $ ` \\a', 'L': 'a#b', 'M': '', 'N': 'plainplain', 'P': '$ $'}


@pytest.mark.parametrize('text, message', [
    ('X=`hostname`\n', 'command substitution `...` is not evaluated'),
    ('X="$(hostname)"\n', 'command substitution $(...) is not evaluated'),
    ('X="${Y:-d}"\n', 'expansion ${Y:-d} is not supported'),
    ('X="$1"\n', 'special parameter $1 is not supported'),
    ('X=a cmd\n', 'not a plain assignment'),
    ('X=a|b\n', 'not a plain assignment'),
    ('X="open\n', 'unterminated double quote; the rest of the file is not read'),
    ("X='open\n", 'unterminated single quote; the rest of the file is not read'),
    ('. /etc/other\n', 'not a plain assignment'),
    ('if true; then X=1; fi\n', 'not a plain assignment'),
    ("cat <<E\nX=1\nE\n", 'not a plain assignment'),
])
def test_shell_assignments_never_execute(text, message):
    values, warnings = parse_shell_assignments(text, {'KEEP': 'kept'}, source='f')
    assert 'X' not in values and values['KEEP'] == 'kept'
    assert len(warnings) == 1 and warnings[0].startswith('f line 1: ') and message in warnings[0]


def test_shell_assignments_do_not_modify_input():
    before = {'A': '1'}
    values, dummy = parse_shell_assignments('A="$A 2"\n', before)
    assert values == {'A': '1 2'} and before == {'A': '1'}


def test_shell_assignments_line_numbers():
    dummy, warnings = parse_shell_assignments('A=1\n\n# c\nrun thing\nB=2\n')
    assert warnings == ['file line 4: not a plain assignment, ignored: run thing']


def test_refused_command_after_a_multiline_value():
    values, warnings = parse_shell_assignments('X="a\nb" cmd\nY=1\n', source='f')
    assert values == {'Y': '1'}
    assert warnings == ['f line 1: not a plain assignment, ignored: X="a']


def test_assignments_before_a_command_on_the_same_line_apply():
    values, warnings = parse_shell_assignments('A=1; run thing\n', source='f')
    assert values == {'A': '1'}
    assert warnings == ['f line 1: not a plain assignment, ignored: A=1; run thing']


def test_assignments_inside_compound_commands_are_not_top_level():
    values, warnings = parse_shell_assignments('if false; then\n  GRUB_CMDLINE_LINUX="x"\nfi\nY=1\n', source='f')
    assert values == {'Y': '1'}
    assert warnings == ['f line 1: not a plain assignment, ignored: if false; then']
