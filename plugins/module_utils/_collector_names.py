# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The names the collector accepts for a fleet host, a dump directory tag and the dump account.

`kdump-collector receive` refuses any other name (roles/collector/files/kdump_collector/names.py, which
ships to the dump server without the collection and so holds the same pattern; a unit test proves the two
identical). The controller side checks names with it before they reach authorized_keys or the tag map.
"""

from __future__ import annotations

import re

NAME_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,252}\Z')


def is_name(value):
    """True for a string the collector accepts as a host name, tag or account name."""
    return isinstance(value, str) and NAME_RE.match(value) is not None
