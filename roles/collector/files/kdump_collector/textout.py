# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plain-text tables for the human-readable output of the queries."""

from __future__ import annotations


def print_table(headers, rows):
    widths = [max([len(h)] + [len(str(r[i])) for r in rows]) for i, h in enumerate(headers)]
    for line in [headers] + rows:
        print('  '.join(str(v).ljust(w) for v, w in zip(line, widths)).rstrip())


def cell(value, width=None):
    text = '-' if value is None or value == '' else str(value)
    return text if width is None or len(text) <= width else text[:width - 3] + '...'


def plain(text):
    """text with control characters (C0 except tab, DEL, C1) shown as \\xNN: kernel output a host sent may hold
    terminal escape sequences, which must never reach the operator's terminal raw."""
    return ''.join(char if char == '\t' or ' ' <= char < '\x7f' or char > '\x9f' else '\\x%02x' % ord(char)
                   for char in text)
