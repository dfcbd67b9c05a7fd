# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Crash-test kinds: what the dump of a crash caused on purpose looks like once indexed. The one place that knows it;
fleet.kdump.crash_test names a kind (`expect`) and asks crash-status whether a dump of that kind arrived."""

from __future__ import annotations

import re


class Kind:
    """A crash-test kind: the triage titles and, for dumps indexed without a title, the panic reasons that show it."""

    def __init__(self, description, titles, reason):
        self.description = description
        self.titles = frozenset(titles)
        self.reason = re.compile(reason)

    def shown_by(self, row):
        """Whether an indexed dump (its title, else its reason line) shows this kind of crash."""
        title = row.get('title')
        if title:
            return title in self.titles
        return bool(self.reason.match(row.get('reason') or ''))


KINDS = {
    # drivers/tty/sysrq.c sysrq_handle_crash: "sysrq: Trigger a crash" (Linux 5.x and later; "SysRq : Trigger a crash"
    # before), then the panic "sysrq triggered crash". The triage title names it the same on every kernel version.
    'sysrq': Kind('a crash triggered through /proc/sysrq-trigger (echo c)',
                  ('kernel panic: sysrq triggered crash',),
                  r'(?:sysrq: )?(?:SysRq ?: )?Trigger a crash\Z'),
}


def crash_name(row):
    """How an indexed dump's crash reads in a message: its title, else its reason line."""
    return row.get('title') or row.get('reason') or None
