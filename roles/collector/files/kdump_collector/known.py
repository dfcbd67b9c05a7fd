# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Known issues: crash titles an operator has already filed, each with a link and a note.

The collector role writes them to a JSON file (collector_known_issues); `index --known-issues FILE` checks the
file and keeps its entries in the index, so list, show, stats and report can say of every title whether it is
a known issue (and link it) or new. An entry names one exact title, or a Python regular expression searched in
titles.
"""

from __future__ import annotations

import json
import re

MAX_ISSUES = 1000
MAX_TEXT = 2000
# Printable ASCII but space, '"', '<' and '>': nothing that could leave an HTML attribute or a terminal line.
URL_RE = re.compile(r'https?://[!#-;=?-~]+')


def parse(text):
    """The entries of a known-issues file as (title, pattern, url, note) tuples; ValueError names the bad one."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError('not JSON: %s' % exc) from None
    if not isinstance(data, list) or len(data) > MAX_ISSUES:
        raise ValueError('must be a JSON list of at most %d objects' % MAX_ISSUES)
    issues = []
    for num, item in enumerate(data, 1):
        if not isinstance(item, dict) or set(item) - {'title', 'pattern', 'url', 'note'}:
            raise ValueError('entry %d: must be an object of title or pattern, url and note' % num)
        values = {key: item.get(key) for key in ('title', 'pattern', 'url', 'note')}
        if any(value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT) for value in values.values()):
            raise ValueError('entry %d: title, pattern, url and note must be strings of at most %d characters'
                             % (num, MAX_TEXT))
        if (values['title'] is None) == (values['pattern'] is None):
            raise ValueError('entry %d: give exactly one of title and pattern' % num)
        if not URL_RE.fullmatch(values['url'] or ''):
            raise ValueError('entry %d: url must be an http:// or https:// address of printable ASCII without spaces, '
                             'quotes or angle brackets' % num)
        if values['pattern'] is not None:
            try:
                re.compile(values['pattern'])
            except re.error as exc:
                raise ValueError('entry %d: pattern %r is not a regular expression: %s' % (num, values['pattern'], exc)) from None
        issues.append((values['title'], values['pattern'], values['url'], values['note']))
    return issues


def load(conn):
    """Known issues kept in the index (an index written before them has none)."""
    return [(row['title'], re.compile(row['pattern']) if row['pattern'] is not None else None, row['url'], row['note'])
            for row in conn.execute('SELECT title, pattern, url, note FROM known_issues ORDER BY id')]


def replace(conn, issues):
    conn.execute('DELETE FROM known_issues')
    conn.executemany('INSERT INTO known_issues (title, pattern, url, note) VALUES (?, ?, ?, ?)', issues)


def issue_for(title, issues):
    """{'url', 'note'} of the first known issue naming title, or None (a new one)."""
    if title is None:
        return None
    for exact, pattern, url, note in issues:
        if exact == title or pattern is not None and pattern.search(title):
            return {'url': url, 'note': note}
    return None
