# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Values of shell assignments (/etc/default/kdump-tools, /etc/default/grub) read as data, never executed.

_shell_syntax.py finds the words; this file computes their values with dash's quoting rules. With a
variable lookup, $NAME and ${NAME} expand and any other substitution is refused (reading grub files as
grub-mkconfig sources them). Without one, a value that needs any expansion is Unknown, so that an editor
never mistakes it for a string.
"""

from __future__ import annotations

from ansible_collections.fleet.kdump.plugins.module_utils._shell_syntax import NAME as _NAME, parse

_OPERATORS = '&|<>()'
_WORD_END = ' \t\n;' + _OPERATORS
# What a backslash escapes inside double quotes; a tuple, so that '' (end of text) is not in it.
_DQ_ESCAPABLE = ('$', '`', '"', '\\', '\n')


class Unsupported(Exception):
    """A construct whose value only a shell could compute."""


class Unknown(object):
    """A value set through expansion or shell syntax: never equal to any string."""

    def __init__(self, source):
        self.source = source

    def __eq__(self, other):
        return False

    def __ne__(self, other):
        return True

    __hash__ = None


def _expand(text, pos, lookup):
    """Expand the $NAME or ${NAME} at text[pos] ('$'); returns (value, new position)."""
    nxt = text[pos + 1:pos + 2]
    if nxt == '{':
        close = text.find('}', pos + 2)
        name = text[pos + 2:close] if close != -1 else ''
        if not _NAME.fullmatch(name):
            raise Unsupported('expansion %s is not supported' % text[pos:close + 1 if close != -1 else len(text)])
        return lookup(name), close + 1
    match = _NAME.match(text, pos + 1)
    if match:
        return lookup(match.group(0)), match.end()
    if nxt == '(':
        raise Unsupported('command substitution $(...) is not evaluated')
    if nxt and nxt in '0123456789@*#?$!-':
        raise Unsupported('special parameter $%s is not supported' % nxt)
    return '$', pos + 1


def _substitute(text, pos, lookup):
    """The $ or ` at text[pos]: (its value, or None without a lookup, position after it)."""
    if lookup is None:
        return None, pos + 1
    if text[pos] == '`':
        raise Unsupported('command substitution `...` is not evaluated')
    return _expand(text, pos, lookup)


def scan_word(text, pos, lookup=None):
    """Read the shell word at text[pos] as an assignment value, quotes and escapes removed. Returns (value, end).

    With `lookup` (name -> str), $NAME and ${NAME} expand through it. Without one, a word that needs any
    expansion ($, backquotes, ~) is an Unknown of its source text. Raises Unsupported for an unclosed quote
    and, with a lookup, for substitutions it cannot compute.
    """
    out = []
    static = True
    quoted = False
    start = pos
    length = len(text)
    while pos < length:
        char = text[pos]
        if char == '\\' and pos + 1 == length:
            # A backslash that ends the text stays (dash and bash keep it).
            out.append(char)
            pos += 1
        elif char == '\\' and (not quoted or text[pos + 1:pos + 2] in _DQ_ESCAPABLE):
            # Backslash-newline is a line continuation.
            if text[pos + 1:pos + 2] != '\n':
                out.append(text[pos + 1:pos + 2])
            pos += 2
        elif char == '"':
            quoted = not quoted
            pos += 1
        elif char == "'" and not quoted:
            close = text.find("'", pos + 1)
            if close < 0:
                raise Unsupported('unterminated single quote')
            out.append(text[pos + 1:close])
            pos = close + 1
        elif char in '$`':
            value, pos = _substitute(text, pos, lookup)
            if value is None:
                static = False
            else:
                out.append(value)
        elif char in _WORD_END and not quoted:
            break
        else:
            # Tilde expansion applies at the start of an assignment value and after each unquoted colon.
            if char == '~' and not quoted and lookup is None and (pos == start or text[pos - 1] == ':'):
                static = False
            out.append(char)
            pos += 1
    if quoted:
        raise Unsupported('unterminated double quote')
    pos = min(pos, length)
    return (''.join(out) if static else Unknown(text[start:pos])), pos


def word_value(word, lookup=None):
    """The value assigned by an assignment word (a _shell_syntax Word of NAME=value or export's argument)."""
    return scan_word(word.raw, word.raw.index('=') + 1, lookup)[0]


def _command_values(command, values):
    """NAME -> value of one command of assignments; a later assignment sees the earlier ones, as in the shell."""
    assigned = {}

    def scoped(name):
        return assigned[name] if name in assigned else values.get(name, '')

    for assignment in command.assignments:
        assigned[assignment.name] = word_value(assignment.word, scoped)
    return assigned


def parse_shell_assignments(text, variables=None, source='file'):
    """Emulate sourcing `text` as far as plain top-level assignments go, without running anything.

    Handles NAME=value, NAME="...", NAME='...', `export NAME=...`, several assignments in a command,
    comments, backslash escapes and $NAME / ${NAME} expansion (unset names expand to '').
    Anything else (commands, compound commands, $(...), ${NAME:-x}) is skipped and reported, as is what
    follows a syntax error. `variables` is the state before this file (grub sources several files in turn);
    it is not modified. Returns (variables after this file, list of warnings).
    """
    values = dict(variables or {})
    warnings = []
    script = parse(text)
    lines = text.split('\n')

    def warn(line, problem):
        warnings.append('%s line %d: %s, ignored: %s' % (source, line, problem, lines[line - 1].strip()))

    for command in script.commands:
        if not command.plain or command.kind not in ('assign', 'export'):
            warn(command.line, 'not a plain assignment')
            continue
        try:
            values.update(_command_values(command, values))
        except Unsupported as exc:
            warn(command.line, str(exc))
    if script.error:
        warn(script.error.line, '%s; the rest of the file is not read' % script.error.args[0].split(': ', 1)[1])
    return values, warnings
