# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run as the dump account: started as root, the subcommands that read or write the collector's files become the
configured account before they open anything, so root never owns a dump, an index or its SQLite side files."""

from __future__ import annotations

import os
import pwd

from kdump_collector import PROG

# What the index service runs with (UMask= of its unit): nothing the account writes is world-readable.
UMASK = 0o027


def plan(euid, account, getpwnam=pwd.getpwnam):
    """(name, uid, gid) to become, or None to stay as is: only root changes, and only to a configured account."""
    if euid != 0 or not account:
        return None
    try:
        entry = getpwnam(account)
    except KeyError:
        raise SystemExit('%s: the configured account %s does not exist' % (PROG, account)) from None
    if entry.pw_uid == 0:
        return None
    return entry.pw_name, entry.pw_uid, entry.pw_gid


def become(account):
    """Drop root for account (supplementary groups, group, user; no way back), if plan() says so."""
    target = plan(os.geteuid(), account)
    if target is None:
        return False
    name, uid, gid = target
    os.initgroups(name, gid)
    os.setgid(gid)
    os.setuid(uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
        raise SystemExit('%s: could not become %s' % (PROG, name))
    os.umask(UMASK)
    return True
