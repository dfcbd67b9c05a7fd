# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kernel log lines: the prefix a line came with, split from the kernel's message.

Prefixes, any of them optional and in this order: a syslog or journal header (`Nov 26 12:16:01 host
kernel: `, `2026-11-26T12:16:01.123456+00:00 host kernel: `), /dev/kmsg records (`6,1234,5678901,-;`),
a console level (`<6>`), the printk time stamp (`[  131.046752]`), the caller id of
CONFIG_PRINTK_CALLER (`[T812]` task, `[C1]` CPU), and syzkaller's console decorations. Only the first
PREFIX_SCAN characters of a line are looked at, so a crafted line costs no more than a short one.
"""

import re

PREFIX_SCAN = 160
# Each part is anchored and made of classes that cannot overlap their neighbours: no backtracking blowup.
PREFIX_RE = re.compile(
    r'(?:\*\* \d{1,10} printk messages dropped \*\* )?'
    r'(?:[^ \t]{1,64} login: )?'
    r'(?:(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)'
    r' [^ \t]{1,64} kernel: )?'
    r'(?:(\d{1,2}),\d{1,20},(\d{1,20}),[^;]{0,16};)?'
    r'(?:<\d{1,3}>)?'
    r'(?:\[ {0,12}(\d{1,10}\.\d{1,9})\])?'
    r'(?:\[ {0,12}([TC]\d{1,10})\])?')


# The usual form, tried first: `[  131.046752] ` or `[  131.046752][  T812] `.
STAMP_RE = re.compile(r'\[ {0,12}(\d{1,10}\.\d{1,9})\](?:\[ {0,12}([TC]\d{1,10})\])? ?')


def split(line):
    """(seconds text or '', caller id or '', message) of one log line."""
    if line.startswith('['):
        match = STAMP_RE.match(line, 0, PREFIX_SCAN)
        if match:
            message = line[match.end():]
            return match.group(1), match.group(2) or '', message[:-1] if message.endswith('\r') else message
    match = PREFIX_RE.match(line, 0, PREFIX_SCAN)
    seconds = match.group(3)
    if seconds is None:
        usec = match.group(2)
        seconds = '%d.%06d' % divmod(int(usec), 1000000) if usec else ''
    end = match.end()
    if end and line.startswith(' ', end):
        end += 1
    message = line[end:]
    if message.endswith('\r'):
        message = message[:-1]
    return seconds, match.group(4) or '', message
