# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Crash-test kinds: what the dump of a crash caused on purpose looks like once indexed. The one place that knows it;
fleet.kdump.crash_test names a kind (`expect`) and asks crash-status whether a dump of that kind arrived."""

from __future__ import annotations

import re


class Kind:
    """A crash-test kind: the triage titles that show it and, for dumps indexed without a title, the panic reasons."""

    def __init__(self, description, title, reason):
        self.description = description
        self.title = re.compile(title)
        self.reason = re.compile(reason)

    def shown_by(self, row):
        """Whether an indexed dump (its title, else its reason line) shows this kind of crash."""
        title = row.get('title')
        if title:
            return bool(self.title.fullmatch(title))
        return bool(self.reason.fullmatch(row.get('reason') or ''))


def _module_kind(description, function, reason):
    """A failure raised by fleet_crashkind (roles/kdump/files/fleet_crashkind): each runs in its own noinline function,
    so the crash's title names that function (the guilty frame); `reason` is the panic line without a title."""
    return Kind(description, r'.*\b%s\b.*' % function, reason)


KINDS = {
    # drivers/tty/sysrq.c sysrq_handle_crash: "sysrq: Trigger a crash" (Linux 5.x and later; "SysRq : Trigger a crash"
    # before), then the panic "sysrq triggered crash". The triage title names it the same on every kernel version.
    'sysrq': Kind('a crash triggered through /proc/sysrq-trigger (echo c)',
                  r'kernel panic: sysrq triggered crash',
                  r'(?:sysrq: )?(?:SysRq ?: )?Trigger a crash'),
    # The panic lines: an oops or BUG() ends in "Fatal exception", a WARN() under panic_on_warn in "panic_on_warn
    # set ...", the detectors in "hung_task: blocked tasks" and "softlockup: hung tasks".
    'oops': _module_kind('an oops (NULL pointer write) raised by fleet_crashkind', 'fleet_crashkind_oops',
                         r'.*Fatal exception.*'),
    'bug': _module_kind('a BUG() raised by fleet_crashkind', 'fleet_crashkind_bug', r'.*Fatal exception.*'),
    'warn': _module_kind('a WARN() raised by fleet_crashkind under panic_on_warn', 'fleet_crashkind_warn',
                         r'.*panic_on_warn set.*'),
    'hung_task': _module_kind('a task fleet_crashkind holds blocked, under hung_task_panic', 'fleet_crashkind_hang',
                              r'.*hung_task: blocked tasks.*'),
    'softlockup': _module_kind('a CPU fleet_crashkind keeps spinning, under softlockup_panic', 'fleet_crashkind_spin',
                               r'.*softlockup: hung tasks.*'),
}


def crash_name(row):
    """How an indexed dump's crash reads in a message: its title, else its reason line."""
    return row.get('title') or row.get('reason') or None
