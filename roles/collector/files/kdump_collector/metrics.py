# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""metrics: a Prometheus node_exporter textfile of the index."""

from __future__ import annotations

import datetime

from kdump_collector.fsutil import atomic_write
from kdump_collector.query import gather_stats
from kdump_collector.store import STATES, open_db


def prom_label(value):
    return str(value if value is not None else '').replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def cmd_metrics(args):
    conn = open_db(args.db, create=False)
    stats = gather_stats(conn)
    out = ['# HELP kdump_collector_dumps Dumps in the index by state.', '# TYPE kdump_collector_dumps gauge']
    for state in STATES:
        out.append('kdump_collector_dumps{state="%s"} %d' % (state, stats['by_state'].get(state, 0)))
    out += ['# HELP kdump_collector_signature_dumps Dumps in the index by crash signature.',
            '# TYPE kdump_collector_signature_dumps gauge']
    for group in stats['by_signature']:
        out.append('kdump_collector_signature_dumps{signature="%s",rip="%s"} %d' % (
            prom_label(group['signature']), prom_label(group['rip']), group['count']))
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
