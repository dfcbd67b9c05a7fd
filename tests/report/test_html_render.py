# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Render the readiness page and the collector's crash report in headless Chromium: screenshot and DOM.

Run: .venv/bin/pytest tests/report -q   (needs Debian's chromium at /usr/bin/chromium; skipped without it)
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys

import pytest

from ansible_collections.fleet.kdump.plugins.filter.kdump_readiness import FilterModule

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
CHROMIUM = '/usr/bin/chromium'
COLLECTOR = os.path.join(ROOT, 'roles', 'collector', 'files', 'kdump_collector')
ENTRIES = os.path.join(ROOT, 'tests', 'unit', 'playbooks', 'fixtures', 'readiness-entries.json')
SYSRQ_DMESG = os.path.join(ROOT, 'tests', 'unit', 'collector', 'fixtures', 'dmesg-sysrq-6.1.txt')
# A flattened makedumpfile header, padding and the end marker of a complete makedumpfile -F stream.
FLAT_DUMP = b'makedumpfile\0\0\0\0' + b'\0' * 7 + b'\x01' + b'\0' * 7 + b'\x01' + b'\0' * 4064 + b'\xff' * 16
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--window-size=1280,2000']

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason='%s is missing: install Debian\'s chromium (make setup does) to render the pages' % CHROMIUM)


def chromium(tmp_path, *args):
    profile = tmp_path / 'chromium-profile'
    profile.mkdir(exist_ok=True)
    result = subprocess.run([CHROMIUM] + FLAGS + ['--user-data-dir=%s' % profile] + list(args), capture_output=True, text=True,
                            timeout=180, check=False, env=dict(os.environ, HOME=str(tmp_path)))
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def render(tmp_path, page):
    """Screenshot and DOM of a local HTML file: (PNG width, PNG height, PNG bytes, DOM text)."""
    png = tmp_path / (page.stem + '.png')
    chromium(tmp_path, '--screenshot=%s' % png, page.as_uri())
    data = png.read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    width, height = struct.unpack('>II', data[16:24])
    dom = chromium(tmp_path, '--dump-dom', page.as_uri())
    return width, height, data, dom


def check_page(tmp_path, page, title, min_rows):
    width, height, data, dom = render(tmp_path, page)
    assert (width, height) == (1280, 2000)
    # A blank page compresses to a few KiB; text, table borders and coloured bars do not.
    assert len(data) > 20000, 'screenshot looks empty (%d bytes)' % len(data)
    assert '<title>%s</title>' % title in dom
    assert len(re.findall(r'<tr[ >]', dom)) >= min_rows
    assert re.search(r'<svg[^>]*>.*<rect', dom, re.S), 'no SVG chart in the DOM'
    return dom


def test_readiness_page(tmp_path):
    with open(ENTRIES, encoding='utf-8') as handle:
        entries = json.load(handle)
    report = FilterModule().filters()['kdump_readiness'](entries, '2026-11-26T14:00:00Z')
    page = tmp_path / 'kdump-readiness.html'
    page.write_text(report['html'], encoding='utf-8')
    dom = check_page(tmp_path, page, 'fleet.kdump readiness', len(entries) + 1)
    for row in report['hosts']:
        assert '<td>%s</td>' % row['host'] in dom


def test_collector_report(tmp_path):
    with open(SYSRQ_DMESG, encoding='utf-8') as handle:
        dmesg = handle.read()
    root, db = tmp_path / 'dumps', tmp_path / 'index.sqlite'
    for host, stamp in (('web1', '202611251030'), ('web1', '202611261216'), ('db1', '202611261220')):
        entry = root / host / ('%s-%s' % (host, stamp))
        entry.mkdir(parents=True)
        (entry / ('dmesg.' + stamp)).write_text(dmesg, encoding='utf-8')
        (entry / ('dump.' + stamp)).write_bytes(FLAT_DUMP)
    page = tmp_path / 'report.html'
    for args in (['index', '--root', str(root), '--db', str(db)], ['report', '--db', str(db), '--html', str(page)]):
        result = subprocess.run([sys.executable, COLLECTOR] + args, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
    dom = check_page(tmp_path, page, 'fleet.kdump crash report', 4)
    assert 'web1' in dom and 'db1' in dom
