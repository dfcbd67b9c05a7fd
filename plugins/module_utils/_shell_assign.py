# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Shell assignment lines (/etc/default/kdump-tools, /etc/default/grub) read as data, never executed.

One scanner, dash quoting rules, two uses. With a variable lookup, $NAME and ${NAME} expand and any
other substitution is refused (reading grub files as grub-mkconfig sources them). Without one, a value
that needs any expansion is Unknown, so that an editor never mistakes it for a string.
"""

from __future__ import annotations

import re

# An assignment at the start of a command (kdump-tools lines may be indented).
ASSIGNMENT = re.compile(r'[ \t]*(export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=')
_EXPORT_ONLY = re.compile(r'export([ \t]+[A-Za-z_][A-Za-z0-9_]*)*[ \t]*(?=[\n;#]|$)')
_NAME = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
_OPERATORS = '&|<>()'
_WORD_END = ' \t\n;' + _OPERATORS
# What a backslash escapes inside double quotes; a tuple, so that '' (end of text) is not in it.
_DQ_ESCAPABLE = ('$', '`', '"', '\\', '\n')


class Unsupported(Exception):
    """A construct whose value only a shell could compute; scan_assignments sets `pos` where the refused text starts."""

    def __init__(self, message, pos=None):
        super().__init__(message)
        self.pos = pos


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
        if char == '\\' and (not quoted or text[pos + 1:pos + 2] in _DQ_ESCAPABLE):
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


def scan_assignments(text, pos, lookup=None):
    """Read the simple command at text[pos]: assignments (`export` before the first allowed) or a bare `export NAME...`.

    Returns ([(name, value), ...] in order, position of what ends the command: newline, ';', '#' or the end of
    the text). A later assignment sees the earlier ones, as in the shell. Values are as scan_word gives them.
    Raises Unsupported for anything else, such as a command after the assignments.
    """
    export_only = _EXPORT_ONLY.match(text, pos)
    if export_only:
        return [], export_only.end()
    match = ASSIGNMENT.match(text, pos)
    if not match:
        raise Unsupported('not a plain assignment', pos)
    assignments = []
    assigned = {}

    def scoped(name):
        return assigned[name] if name in assigned else lookup(name)

    length = len(text)
    while True:
        try:
            value, pos = scan_word(text, match.end(), scoped if lookup is not None else None)
        except Unsupported as exc:
            exc.pos = match.start()
            raise
        assignments.append((match.group(2), value))
        assigned[match.group(2)] = value
        if pos < length and text[pos] in _OPERATORS:
            raise Unsupported('shell operator %s is not supported' % text[pos], match.start())
        while pos < length and text[pos] in ' \t':
            pos += 1
        if pos >= length or text[pos] in '\n;#':
            return assignments, pos
        match = ASSIGNMENT.match(text, pos)
        if not match or match.group(1):
            raise Unsupported('assignments followed by a command only apply to that command', pos)


def physical_line_end(text, pos):
    """Position after the newline that ends the physical line at text[pos], or the end of the text."""
    newline = text.find('\n', pos)
    return len(text) if newline < 0 else newline + 1


def logical_line_end(text, pos):
    """Position after the newline that ends the shell line starting at text[pos]: quotes and backslash-newline continue it.

    A quote that never closes (dash then refuses the whole file) ends the line at the end of its first physical line.
    """
    scan = pos
    while scan < len(text):
        char = text[scan]
        if char in '#\n':
            # A newline ends the line; so does a comment, which is a '#' where a word would start.
            return physical_line_end(text, scan)
        if char in _WORD_END:
            scan += 1
            continue
        try:
            scan = scan_word(text, scan)[1]
        except Unsupported:
            return physical_line_end(text, pos)
    return len(text)


def parse_shell_assignments(text, variables=None, source='file'):
    """Emulate sourcing `text` as far as plain assignments go, without running anything.

    Handles NAME=value, NAME="...", NAME='...', `export NAME=...`, several assignments on a line,
    comments, backslash escapes and $NAME / ${NAME} expansion (unset names expand to '').
    Anything else (commands, conditionals, $(...), ${NAME:-x}) is skipped and reported.
    `variables` is the state before this file (grub sources several files in turn); it is not modified.
    Returns (variables after this file, list of warnings).
    """
    values = dict(variables or {})
    warnings = []
    pos = 0
    while pos < len(text):
        if text[pos] in ' \t\n;':
            pos += 1
            continue
        if text[pos] == '#':
            pos = physical_line_end(text, pos)
            continue
        try:
            assignments, pos = scan_assignments(text, pos, lambda name: values.get(name, ''))
        except Unsupported as exc:
            # Reading on at the physical line after the refused text keeps it from hiding the assignments that follow.
            stop = physical_line_end(text, exc.pos)
            shown = text[text.rfind('\n', 0, exc.pos) + 1:stop].strip()
            warnings.append('%s line %d: %s, ignored: %s' % (source, text.count('\n', 0, pos) + 1, exc, shown))
            pos = stop
            continue
        values.update(assignments)
    return values, warnings
