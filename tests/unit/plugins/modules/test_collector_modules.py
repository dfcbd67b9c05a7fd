# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""fleet.kdump.collector_query, collector_record and local_dump_query through main(), against the real collector
program of this checkout behind a launcher, as the collector role installs it."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from ansible_collections.fleet.kdump.plugins.action.local_dump_query import package_archive
from ansible_collections.fleet.kdump.plugins.module_utils._collector import until_settled
from ansible_collections.fleet.kdump.plugins.modules import collector_query, collector_record, local_dump_query
from ansible_collections.fleet.kdump.tests.unit import collector_tree as tree
from ansible_collections.fleet.kdump.tests.unit.collector_tree import CUT, PACKAGE, STAMP, dump_dir, write
from ansible_collections.fleet.kdump.tests.unit.module_runner import run_module


@pytest.fixture
def collector(tmp_path):
    """A collector under tmp_path as the role lays it out, with a complete dump of web1 and one of web2 cut short."""
    root = str(tmp_path)
    dumps = tree.collector(root)
    tree.dump_dir(os.path.join(dumps, 'web1', 'web1-' + STAMP))
    tree.dump_dir(os.path.join(dumps, 'web2', 'web2-' + STAMP), dump=CUT)
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
    assert result['msg'] == ("kdump-collector crash-status failed (rc 1): kdump-collector: unknown crash kind 'meteor' "
                             "(known: bug, hung_task, oops, softlockup, sysrq, warn)")


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


def host_answer(found=False, settled=False):
    return {'hosts': {'web1': {'found': found, 'settled': settled, 'why': '-'}}}


@pytest.mark.parametrize('answers, wait, asked, slept', [
    ([host_answer(found=True, settled=True)], 300, 1, []),               # found at once
    ([host_answer(settled=True)], 300, 1, []),                          # settled (a bad dump): no use waiting
    ([host_answer(), host_answer(), host_answer(True, True)], 300, 3, [10, 10]),
    ([host_answer()] * 10, 25, 4, [10, 10, 5]),                          # the last pause ends at the deadline
    ([host_answer()], 0, 1, []),                                        # wait 0: one question
])
def test_until_settled(answers, wait, asked, slept):
    clock, pauses, queue = [0.0], [], list(answers)

    def pause(seconds):
        pauses.append(seconds)
        clock[0] += seconds

    result = until_settled(lambda: queue.pop(0), wait, 10, clock=lambda: clock[0], pause=pause)
    assert (result['attempts'], pauses) == (asked, slept)


def test_query_wait_and_sleep_checked(capsys, collector):
    result = query(capsys, collector[0], wait=-1)
    assert result['exit_code'] == 1 and result['msg'] == 'wait must be 0 or more and sleep at least 1 second; got wait=-1, sleep=10'
    assert query(capsys, collector[0], sleep=0)['exit_code'] == 1
