# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Crash-test records: what fleet.kdump.crash_test proved, kept beside the dumps."""

from __future__ import annotations

import json

from kdump_collector.names import now_text
from kdump_collector.store import open_db
from kdump_collector.textout import cell, print_table


def cmd_record(args):
    conn = open_db(args.db)
    with conn:
        cur = conn.execute('INSERT INTO crash_tests (time, host, outcome, kernel, config_hash, dump_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
                           (now_text(), args.host, args.outcome, args.kernel, args.config_hash,
                            args.dump_id, args.detail))
    if args.json:
        row = conn.execute('SELECT * FROM crash_tests WHERE id = ?', (cur.lastrowid,)).fetchone()
        print(json.dumps(dict(row), indent=2, sort_keys=True))
    else:
        print(cur.lastrowid)
    return 0


def cmd_list_tests(args):
    conn = open_db(args.db, create=False)
    rows = [dict(r) for r in conn.execute('SELECT * FROM crash_tests ORDER BY id')]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table(['ID', 'TIME', 'HOST', 'OUTCOME', 'KERNEL', 'CONFIG', 'DUMP', 'DETAIL'],
                [[r['id'], r['time'], r['host'], r['outcome'], cell(r['kernel']), cell(r['config_hash']), cell(r['dump_id']),
                  cell(r['detail'], 60)] for r in rows])
    return 0
