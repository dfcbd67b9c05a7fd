# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""fleet.kdump.collector_query, collector_record and local_dump_query through main(), against the real collector
program of this checkout behind a launcher, as the collector role installs it."""

from __future__ import annotations

import io
import json
import os
import sys
import zipfile

import pytest

from ansible_collections.fleet.kdump.plugins.action.local_dump_query import package_archive
from ansible_collections.fleet.kdump.plugins.modules import collector_query, collector_record, local_dump_query
from ansible_collections.fleet.kdump.tests.unit.module_runner import run_module

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.normpath(os.path.join(HERE, '..', '..', '..', '..', 'roles', 'collector', 'files'))
PACKAGE = os.path.join(FILES, 'kdump_collector')
FIXTURES = os.path.normpath(os.path.join(HERE, '..', '..', 'collector', 'fixtures'))
STAMP = '202611261216'
# makedumpfile -F: header, no data, and the end marker only a finished makedumpfile writes.
FLAT = b'makedumpfile\0\0\0\0' + b'\0\0\0\0\0\0\0\x01' * 2 + b'\0' * 4064 + b'\xff' * 16
CUT = FLAT[:-16]


def sysrq_dmesg():
    with open(os.path.join(FIXTURES, 'dmesg-sysrq-6.1.txt'), encoding='utf-8') as handle:
        return handle.read()


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb' if isinstance(data, bytes) else 'w') as handle:
        handle.write(data)
    os.chmod(path, mode)


def dump_dir(base, stamp, dump=FLAT, dmesg=True):
    write(os.path.join(base, 'dump.' + stamp), dump)
    if dmesg:
        write(os.path.join(base, 'dmesg.' + stamp), sysrq_dmesg())


@pytest.fixture
def collector(tmp_path):
    """A collector under tmp_path as the role lays it out: configuration file, launcher, dump root, an index."""
    root = str(tmp_path)
    dumps = os.path.join(root, 'var/lib/kdump-collector/dumps')
    dump_dir(os.path.join(dumps, 'web1', 'web1-' + STAMP), STAMP)
    dump_dir(os.path.join(dumps, 'web2', 'web2-' + STAMP), STAMP, dump=CUT)
    write(os.path.join(root, 'usr/local/bin/kdump-collector'), '#!/bin/sh\nexec %s -I %s "$@"\n' % (sys.executable, PACKAGE), 0o755)
    write(os.path.join(root, 'etc/fleet-kdump/collector.json'), json.dumps({
        'program': '/usr/local/bin/kdump-collector', 'root': dumps, 'db': os.path.join(root, 'var/lib/kdump-collector/index.sqlite')}))
    return root, dumps


def query(capsys, root, check_mode=False, **args):
    args.setdefault('hosts', ['web1', 'web2'])
    return run_module(capsys, collector_query.main, dict(args, root=root), check_mode=check_mode)


def test_query_refreshes_and_answers_per_host(capsys, collector):
    root, _dumps = collector
    result = query(capsys, root, since='2026-11-26T12:16:00Z', expect='sysrq', refresh=True)
    assert result['exit_code'] == 0 and result['changed'] is False
    assert result['indexed']['new'] == 2
    web1, web2 = result['hosts']['web1'], result['hosts']['web2']
    assert (web1['found'], web1['settled'], web1['dump']['reason']) == (True, True, 'sysrq: Trigger a crash')
    assert (web2['found'], web2['settled'], web2['dump']) == (False, True, None)
    assert "ends without makedumpfile's end marker" in web2['why']
    assert (result['found'], result['settled'], result['expect'], result['since']) == (False, True, 'sysrq', '2026-11-26T12:16:00Z')


def test_query_check_mode_does_not_index(capsys, collector):
    root, _dumps = collector
    result = query(capsys, root, check_mode=True, refresh=True)
    assert result['exit_code'] == 1 and 'does not exist (run index first)' in result['msg']
    assert not os.path.exists(os.path.join(root, 'var/lib/kdump-collector/index.sqlite'))
    assert query(capsys, root, refresh=True)['exit_code'] == 0
    assert query(capsys, root, check_mode=True, refresh=True)['indexed'] is None


def test_query_passes_on_the_programs_refusal(capsys, collector):
    root, _dumps = collector
    result = query(capsys, root, expect='meteor', refresh=True)
    assert result['exit_code'] == 1
    assert result['msg'] == "kdump-collector crash-status failed (rc 1): kdump-collector: unknown crash kind 'meteor' (known: sysrq)"


@pytest.mark.parametrize('hosts', [[], ['web1', '']])
def test_query_needs_host_names(capsys, collector, hosts):
    result = query(capsys, collector[0], hosts=hosts)
    assert result['exit_code'] == 1 and result['msg'].startswith('hosts must name at least one host')


@pytest.mark.parametrize('content, message', [
    (None, 'cannot read the collector configuration'),
    ('{"db": ', 'is not JSON'),
    ('[]', 'names no program'),
    ('{"program": "kdump-collector"}', 'names no program'),
    ('{"program": "/usr/bin/absent-collector"}', 'is missing or not executable'),
])
def test_query_without_a_usable_configuration(capsys, tmp_path, content, message):
    if content is not None:
        write(str(tmp_path / 'etc/fleet-kdump/collector.json'), content)
    result = query(capsys, str(tmp_path))
    assert result['exit_code'] == 1 and message in result['msg'] and 'fleet.kdump.collector' in result['msg']


def test_record(capsys, collector):
    root, _dumps = collector
    assert query(capsys, root, refresh=True)['exit_code'] == 0
    args = dict(host='web1', outcome='ok', kernel='6.1.0-27-amd64', dump_id=1, detail='sysrq crash', root=root)
    result = run_module(capsys, collector_record.main, args, check_mode=True)
    assert (result['exit_code'], result['changed'], result['id']) == (0, True, None)
    result = run_module(capsys, collector_record.main, args)
    assert (result['exit_code'], result['changed']) == (0, True)
    assert result['record']['id'] == result['id'] and result['record']['dump_id'] == 1 and result['record']['detail'] == 'sysrq crash'
    result = run_module(capsys, collector_record.main, dict(args, outcome='maybe'))
    assert result['exit_code'] == 1 and 'outcome' in result['msg']


def local(capsys, root, package=PACKAGE, **args):
    return run_module(capsys, local_dump_query.main, dict(args, root=root, package=package, host='web1'))


def test_local_query(capsys, tmp_path):
    dump_dir(str(tmp_path / 'var/crash' / STAMP), STAMP)
    result = local(capsys, str(tmp_path), since='2026-11-26T12:16:00Z', expect='sysrq')
    assert (result['exit_code'], result['changed'], result['found'], result['settled']) == (0, False, True, True)
    assert result['hosts']['web1']['dump']['path'] == str(tmp_path / 'var/crash' / STAMP)
    assert 'indexed' not in result


def test_local_query_from_the_shipped_archive(capsys, tmp_path):
    dump_dir(str(tmp_path / 'var/crash' / STAMP), STAMP, dump=CUT)
    archive = tmp_path / 'kdump_collector.pyz'
    archive.write_bytes(package_archive())
    result = local(capsys, str(tmp_path), package=str(archive), expect='sysrq')
    assert (result['exit_code'], result['found'], result['settled']) == (0, False, True)
    assert "ends without makedumpfile's end marker" in result['hosts']['web1']['why']


def test_archive_is_reproducible_and_complete():
    data = package_archive()
    assert data == package_archive()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names[0] == '__main__.py'
    assert sorted(names[1:]) == sorted('kdump_collector/' + n for n in os.listdir(PACKAGE) if n.endswith('.py'))


def test_local_query_needs_a_package(capsys, tmp_path):
    result = run_module(capsys, local_dump_query.main, {'root': str(tmp_path)})
    assert result['exit_code'] == 1 and 'through its action plugin' in result['msg']
    result = local(capsys, str(tmp_path), package=str(tmp_path / 'absent'))
    assert result['exit_code'] == 1 and 'does not exist' in result['msg']


def test_query_last_is_the_latest_dump(capsys, collector):
    root, dumps = collector
    dump_dir(os.path.join(dumps, 'web1', 'web1-202611271200'), '202611271200', dump=CUT)
    result = query(capsys, root, hosts=['web1'], last=1, refresh=True)
    web1 = result['hosts']['web1']
    assert (web1['found'], web1['settled'], [d['stamp'] for d in web1['dumps']]) == (False, True, ['202611271200'])
