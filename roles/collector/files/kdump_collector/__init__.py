# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kdump-collector: receive, index and report kernel crash dumps sent by kdump-tools.

Standard library only, Python 3.8+. Run as `python3 -I <dir>/kdump_collector SUBCOMMAND ...` (the launcher the
collector role installs does exactly that) or, from a checkout, `python3 roles/collector/files/kdump_collector ...`.
"""

PROG = 'kdump-collector'
__version__ = '0.2.0'
# SQLite integers (ids, sizes, times) and dd's count= are signed 64-bit.
INT64_MAX = 2 ** 63 - 1
