# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the names in a collector tree mean: hosts, tags, stamps, dump files and the collector's own markers."""

from __future__ import annotations

import datetime
import re

MIB = 1024 * 1024
NAME_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,252}\Z')
# [0-9], not \d: \d also matches other scripts' digits, which int() reads but no stamp holds.
STAMP_RE = re.compile(r'[0-9]{12}\Z')
ENTRY_RE = re.compile(r'(?P<tag>[A-Za-z0-9][A-Za-z0-9._-]*)-(?P<stamp>[0-9]{12})\Z')
# The host role's connectivity check sends kdump-tools' first command with this stamp: mkdir only,
# never a dump, never indexed.
PROBE_STAMP = '000000000000'
COMPRESS_EXTS = ('.bz2', '.gz', '.lz4', '.xz')
# Beside a dump cut at the upload quota: it never becomes a completed dump.
TRUNC_SUFFIX = '.truncated'
# Left by prune in place of the dump file it removed.
PRUNED_MARKER = '.pruned'
# In ROOT/.log: raised by receive after every request, lowered by index as it starts (the path unit's PathExists=).
INDEX_PENDING = 'index-pending'
# kdump-tools stamps a dump with the crashed host's local time (UTC-12 to UTC+14) and its clock may drift: a stamp
# further ahead of the collector's UTC clock than this is no real time, only a claim to look newer than other dumps.
MAX_STAMP_AHEAD = datetime.timedelta(days=1)
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def now_text():
    return utcnow().strftime(TIME_FORMAT)


def later_text(text, delta):
    """The ISO 8601 UTC time (as now_text writes it) delta after text."""
    when = datetime.datetime.strptime(text, TIME_FORMAT) + delta
    return '%04d-%02d-%02dT%02d:%02d:%02dZ' % (when.year, when.month, when.day, when.hour, when.minute, when.second)


def stamp_time(stamp):
    """ISO 8601 UTC time of a kdump-tools stamp (YYYYMMDDHHMM), or None when it is no real date."""
    if not STAMP_RE.match(stamp or ''):
        return None
    try:
        datetime.datetime(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]), int(stamp[8:10]), int(stamp[10:]))
    except ValueError:
        return None
    return '%s-%s-%sT%s:%s:00Z' % (stamp[:4], stamp[4:6], stamp[6:8], stamp[8:10], stamp[10:])


def stamp_ahead(stamp):
    """Whether a stamp lies more than MAX_STAMP_AHEAD after the collector's clock."""
    return stamp_time(stamp) > later_text(now_text(), MAX_STAMP_AHEAD)


def final_names(stamp):
    """Names kdump-tools renames a finished dump to."""
    return ['dump.' + stamp + ext for ext in ('',) + COMPRESS_EXTS] + ['vmcore.' + stamp]


def partial_names():
    """Names of a dump while kdump-tools writes it."""
    return ['dump-incomplete' + ext for ext in ('',) + COMPRESS_EXTS] + ['vmcore-incomplete']


def is_final_name(name):
    """dump.<stamp>[.ext] or vmcore.<stamp>: renamed by kdump-tools when saving ended, never written again."""
    return bool(name) and name.startswith(('dump.', 'vmcore.'))
