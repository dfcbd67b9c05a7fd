# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Human-readable output: terminal-safe text, and plain-text tables for the queries."""

from __future__ import annotations


def safe(value):
    """value as text a terminal shows literally. Fleet hosts write the dmesg lines, file names and stamps that end up
    in every table and message: control characters (ESC, BEL, CR, newline...), Unicode format and separator characters
    (bidi overrides, zero-width, U+2028) and undecodable bytes (lone surrogates) are written as Python escapes."""
    text = str(value)
    if text.isprintable():
        return text
    return ''.join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def print_table(headers, rows):
    rows = [[safe(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    for line in [headers] + rows:
        print('  '.join(v.ljust(w) for v, w in zip(line, widths)).rstrip())


def cell(value, width=None):
    text = '-' if value is None or value == '' else safe(value)
    return text if width is None or len(text) <= width else text[:width - 3] + '...'
