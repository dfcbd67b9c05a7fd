# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The POSIX sh scanner: structure, places of assignments, and what would run (issue 12, class 9)."""

from __future__ import annotations

import subprocess

import pytest

from ansible_collections.fleet.kdump.plugins.module_utils._shell_syntax import parse


def places(text):
    return [(assignment.name, assignment.line, assignment.place) for assignment in parse(text).assignments]


def commands(text):
    return [(command.line, command.end_line, command.kind, command.plain) for command in parse(text).commands]


@pytest.mark.parametrize('text, found', [
    ('A=1\nexport B="2" # c\n', [('A', 1, 'top'), ('B', 2, 'export')]),
    ('if a; then\n  A=1\nelif b; then B=2\nelse C=3\nfi\n', [('A', 2, 'compound'), ('B', 3, 'compound'), ('C', 4, 'compound')]),
    ('case $x in (a|b) A=1;; c) ;; esac\n', [('A', 1, 'compound')]),
    ('f() { A=1; }\ng()\n(\nB=2\n)\n', [('A', 1, 'compound'), ('B', 4, 'compound')]),
    ('A=1 cmd B=2\n', [('A', 1, 'prefix')]),
    ('X=$(A=1; echo)\n', [('A', 1, 'compound'), ('X', 1, 'top')]),
    ('X="$(cat <<E\nA=1\nE\n)"\n', [('A', 2, 'heredoc'), ('X', 1, 'top')]),
    ('cat <<A <<B\nK=1\nA\nL=2\nB\nM=3\n', [('K', 2, 'heredoc'), ('L', 4, 'heredoc'), ('M', 6, 'top')]),
    ('X="${A:=1}" ${B=2}\n', [('A', 1, 'parameter'), ('B', 1, 'parameter'), ('X', 1, 'prefix')]),
    ('readonly A=1 B\nunset C\nexport D\n', [('A', 1, 'readonly'), ('B', 1, 'readonly'), ('C', 2, 'unset')]),
    ('X="a\n  export A=1\nb"\n', [('A', 2, 'string'), ('X', 1, 'top')]),
    ("X='a\nA=1'\n", [('A', 2, 'string'), ('X', 1, 'top')]),
    ('X=a\\\nA=1\n', [('A', 2, 'continuation'), ('X', 1, 'top')]),
    ('# A=1\n#A=1\n', []),
    ('echo "A=1" A=2\n', []),
])
def test_where_variables_are_assigned(text, found):
    assert places(text) == found


def test_top_level_commands_and_their_lines():
    text = 'A=1; B=2\nif :; then\n:\nfi\nC=1 \\\n D=2\n: <<E\nx\nE\nF=1 | :\n'
    assert commands(text) == [(1, 1, 'assign', True), (1, 1, 'assign', True), (2, 4, 'compound', True), (5, 6, 'assign', True),
                              (7, 9, 'simple', False), (10, 10, 'assign', False)]


@pytest.mark.parametrize('text, hazard', [
    ('echo hi\n', 'runs the command echo'),
    ('"true"\n', 'runs the command "true"'),
    ('$X\n', 'runs the command $X'),
    ('X=$(id)\n', 'command substitution $(...)'),
    ('X=`id`\n', 'command substitution `...`'),
    ('X=$((1 + 2))\n', 'arithmetic expansion $((...))'),
    ('X=${#A[@]}\n', 'expansion ${#A[@]} (not POSIX)'),
    ('X=${A/b/c}\n', 'expansion ${A/b/c} (not POSIX)'),
    ('X=${!A}\n', 'expansion ${!A} (not POSIX)'),
    (': > f\n', 'a redirection (> f)'),
    (': 2>&1\n', 'a redirection (>& 1)'),
    (': < /dev/zero\n', 'a redirection (< /dev/zero)'),
    (': &\n', 'a command run in the background (&)'),
    (': | :\n', 'a pipeline (|)'),
    (': <<E\n`id`\nE\n', 'command substitution in a here-document'),
    (': <<E\nx\n', 'here-document of line 1 ends at the end of the file'),
    ('f() { :; }\n', 'a function definition (f)'),
    ('export -n A\n', 'export with the argument -n'),
    ('unset -f A\n', 'unset with the argument -f'),
    ('if :; then eval x; fi\n', 'runs the command eval'),
])
def test_hazards(text, hazard):
    assert hazard in [found.what for found in parse(text).hazards]


@pytest.mark.parametrize('text', [
    'A=1\n: ${B:-x} ${C%y} ${#D} "${E}"\n[ -e /x ] && F=1 || G=2\ntest 1 = 1\ntrue; false\n',
    ": <<'E'\n$(id)\nE\n",
    'if :; then while false; do :; done; fi\nfor i in a b; do J=$i; done\ncase a in a) ;; esac\n{ K=1; }\n( L=1 )\n',
    'readonly A=1\nunset B\nexport C D=1\n',
])
def test_inert_texts_have_no_hazard(text):
    script = parse(text)
    assert script.error is None and script.hazards == []


@pytest.mark.parametrize('text, line, message', [
    ('X="open\n', 1, 'unterminated double quote'),
    ("A=1\nX='open\n", 2, 'unterminated single quote'),
    ('X=`open\n', 1, 'unterminated backquote'),
    ('X=$(open\n', 1, 'unterminated $('),
    ('X=${open\n', 1, 'unterminated ${'),
    ('if :; then\n', 2, 'fi expected'),
    ('fi\n', 1, 'unexpected fi'),
    ('A=1 )\n', 1, 'unexpected )'),
    ('case x in a) :;;\n', 2, 'esac expected'),
    ('case x in a :;;\nesac\n', 1, ') expected after a case pattern'),
])
def test_syntax_errors_name_the_line(text, line, message):
    script = parse(text)
    assert script.error is not None and script.error.line == line and message in str(script.error)
    assert subprocess.run(['/bin/dash', '-n'], input=text.encode(), capture_output=True, check=False).returncode != 0


def test_a_final_backslash_is_seen():
    assert parse('A=1\\').trailing_backslash is True
    assert parse('A=1\\\n').trailing_backslash is False
    assert parse('# c\\').trailing_backslash is False
