# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""metrics: a Prometheus node_exporter textfile of the index. Label values come from fixed sets or the
operator's inventory (host names), never from text a crashing host wrote."""

from __future__ import annotations

import datetime

from kdump_collector.fsutil import atomic_write
from kdump_collector.names import utcnow
from kdump_collector.query import gather_stats
from kdump_collector.store import STATES, open_db
from kdump_collector.triage import FAMILY_NAMES, family

NEW_WINDOW = datetime.timedelta(hours=24)


def prom_label(value):
    return str(value if value is not None else '').replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def cmd_metrics(args):
    conn = open_db(args.db, create=False)
    stats = gather_stats(conn)
    out = ['# HELP kdump_collector_dumps Dumps in the index by state.', '# TYPE kdump_collector_dumps gauge']
    for state in STATES:
        out.append('kdump_collector_dumps{state="%s"} %d' % (state, stats['by_state'].get(state, 0)))
    kinds = dict.fromkeys(FAMILY_NAMES, 0)
    for row in stats['rows']:
        if row['kind']:
            kinds[family(row['kind'])] += 1
    out += ['# HELP kdump_collector_crashes Dumps whose dmesg holds a crash report, by kind of report.',
            '# TYPE kdump_collector_crashes gauge']
    out += ['kdump_collector_crashes{kind="%s"} %d' % item for item in sorted(kinds.items())]
    since = (utcnow() - NEW_WINDOW).strftime('%Y-%m-%dT%H:%M:%SZ')
    new = sum(1 for group in stats['by_signature'] if group['signature'] and (group['first_seen'] or '') >= since)
    out += ['# HELP kdump_collector_new_signatures Crash signatures (bugs) first seen in the last 24 hours.',
            '# TYPE kdump_collector_new_signatures gauge', 'kdump_collector_new_signatures %d' % new]
    out += ['# HELP kdump_collector_last_dump_timestamp_seconds Time of the newest dump of each host (from its stamp).',
            '# TYPE kdump_collector_last_dump_timestamp_seconds gauge']
    for group in stats['by_host']:
        if group['last_seen']:
            when = datetime.datetime.strptime(group['last_seen'], '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
            out.append('kdump_collector_last_dump_timestamp_seconds{host="%s"} %d' % (prom_label(group['host']), when.timestamp()))
    out += ['# HELP kdump_collector_crash_tests Recorded crash tests by outcome.', '# TYPE kdump_collector_crash_tests gauge']
    for outcome in ('ok', 'failed'):
        out.append('kdump_collector_crash_tests{outcome="%s"} %d' % (outcome, stats['crash_tests'].get(outcome, 0)))
    atomic_write(args.textfile, '\n'.join(out) + '\n')
    return 0
