# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SQLite index: its schema, how it is opened, and a row as the queries return it."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

from kdump_collector import INT64_MAX, PROG

STATES = ('complete', 'incomplete', 'empty', 'pruned', 'missing')
SCHEMA = """
CREATE TABLE IF NOT EXISTS dumps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    host TEXT, tag TEXT, stamp TEXT, time TEXT,
    state TEXT NOT NULL,
    dump_name TEXT, dump_bytes INTEGER, dump_format TEXT,
    dmesg_bytes INTEGER, kernel TEXT, reason TEXT, rip TEXT, taint TEXT, frames TEXT, signature TEXT,
    truncated INTEGER NOT NULL DEFAULT 0, error TEXT,
    dir_mtime_ns INTEGER, fingerprint TEXT, first_seen TEXT, indexed TEXT,
    title TEXT, kind TEXT, guilty_frame TEXT, corrupted INTEGER NOT NULL DEFAULT 0, report TEXT);
CREATE INDEX IF NOT EXISTS dumps_host ON dumps(host);
CREATE INDEX IF NOT EXISTS dumps_signature ON dumps(signature);
CREATE INDEX IF NOT EXISTS dumps_time ON dumps(time);
CREATE TABLE IF NOT EXISTS known_issues (
    id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT, pattern TEXT, url TEXT NOT NULL, note TEXT);
CREATE TABLE IF NOT EXISTS crash_tests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL, host TEXT NOT NULL, outcome TEXT NOT NULL,
    kernel TEXT, config_hash TEXT, dump_id INTEGER, detail TEXT);
"""
# Columns added after the first release, with their definition: an older index gets them when opened.
ADDED_COLUMNS = (('title', 'TEXT'), ('kind', 'TEXT'), ('guilty_frame', 'TEXT'),
                 ('corrupted', 'INTEGER NOT NULL DEFAULT 0'), ('report', 'TEXT'))
ROW_FIELDS = ('host', 'tag', 'stamp', 'time', 'state', 'dump_name', 'dump_bytes', 'dump_format', 'dmesg_bytes',
              'kernel', 'reason', 'rip', 'taint', 'frames', 'title', 'kind', 'guilty_frame', 'corrupted', 'signature',
              'report', 'truncated', 'error', 'dir_mtime_ns', 'fingerprint')
FINAL_STATES = ('complete', 'empty', 'pruned')
# PRAGMA user_version: the analysis an index was written with. 1: flattened dumps need makedumpfile's end marker.
# 2: crash triage (title, kind, guilty frame, corrupted; the signature hashes the title).
ANALYSIS_VERSION = 2


def int64_or_none(value):
    return value if -INT64_MAX - 1 <= value <= INT64_MAX else None


def check_storable(row):
    """Raise ValueError unless SQLite takes every value of row as it is: None, a 64-bit integer, a float or UTF-8 text."""
    for key, value in row.items():
        if isinstance(value, int) and int64_or_none(value) is None:
            raise ValueError('%s out of range' % key)
        if isinstance(value, str):
            value.encode('utf-8')
        elif value is not None and not isinstance(value, (int, float)):
            raise ValueError('%s is a %s' % (key, type(value).__name__))


def open_db(path, create=True):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if not create:
            raise SystemExit('%s: database %s does not exist (run index first)' % (PROG, path)) from None
    else:
        # SQLite would wait forever reading a FIFO.
        if not stat.S_ISREG(st.st_mode):
            raise SystemExit('%s: database %s is not a regular file' % (PROG, path))
    conn = sqlite3.connect(path, timeout=60)
    conn.row_factory = sqlite3.Row
    conn.execute('PRAGMA busy_timeout = 60000')
    if conn.execute('PRAGMA journal_mode = WAL').fetchone()[0].lower() != 'wal':
        raise SystemExit('%s: %s does not support WAL mode' % (PROG, path))
    conn.execute('PRAGMA synchronous = NORMAL')
    conn.executescript(SCHEMA)
    have = {row[1] for row in conn.execute('PRAGMA table_info(dumps)')}
    for name, definition in ADDED_COLUMNS:
        if name not in have:
            conn.execute('ALTER TABLE dumps ADD COLUMN %s %s' % (name, definition))
    return conn


LIST_FIELDS = ('id', 'host', 'tag', 'stamp', 'time', 'state', 'dump_name', 'dump_bytes', 'dump_format', 'dmesg_bytes',
               'kernel', 'reason', 'rip', 'taint', 'frames', 'title', 'kind', 'guilty_frame', 'corrupted', 'signature',
               'truncated', 'error', 'path')


def row_dict(row):
    data = {k: row[k] for k in LIST_FIELDS}
    data['frames'] = json.loads(row['frames']) if row['frames'] else []
    data['truncated'] = bool(row['truncated'])
    data['corrupted'] = bool(row['corrupted'])
    return data
