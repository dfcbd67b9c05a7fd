# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dmesg files: how much of one is read and how its bytes become text. What a report in it looks like is
triage's business (kdump_collector.triage)."""

from __future__ import annotations

# Only this much of a dmesg file is read: its head (boot: the kernel release) and its tail (the crash).
DMESG_HEAD = 128 * 1024
DMESG_TAIL = 512 * 1024
CONTROL_BYTES = bytes(range(0, 9)) + b'\x0b\x0c' + bytes(range(14, 32))


def decode_dmesg(data):
    if not data:
        return ''
    if data.count(b'\0') > len(data) // 100:
        raise ValueError('dmesg is binary (NUL bytes)')
    text = data.decode('utf-8', 'replace')
    bad = len(data) - len(data.translate(None, CONTROL_BYTES)) + text.count('\ufffd')
    if bad > len(text) // 20:
        raise ValueError('dmesg is binary (%d of %d characters unprintable)' % (bad, len(text)))
    return text
