# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Structure of the fleet.kdump playbooks: what the issue and docs promise, checked without a fleet."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from playbook_helpers import PLAYBOOKS, ROOT, iter_tasks, load_yaml, play_tasks, task_action

NAMES = ('collector', 'configure', 'crash_test', 'readiness', 'disable')


def module_options(name):
    """Option names of a fleet.kdump module, from its DOCUMENTATION."""
    path = os.path.join(ROOT, 'plugins', 'modules', name + '.py')
    with open(path, encoding='utf-8') as handle:
        source = handle.read()
    doc = source.split('DOCUMENTATION = r"""', 1)[1].split('"""', 1)[0]
    return set((yaml.safe_load(doc).get('options') or {}))


def all_tasks():
    for name in NAMES + ('tasks/config_hash',):
        data = load_yaml('playbooks', name + '.yml')
        plays = data if name != 'tasks/config_hash' else [{'tasks': data}]
        for play in plays:
            for task in play_tasks(play):
                yield name, task


def test_every_playbook_exists():
    assert sorted(f[:-4] for f in os.listdir(PLAYBOOKS) if f.endswith('.yml')) == sorted(NAMES)


@pytest.mark.parametrize('name, task', list(all_tasks()), ids=lambda v: v if isinstance(v, str) else v.get('name'))
def test_tasks_named_fqcn_and_valid_options(name, task):
    assert task.get('name'), 'unnamed task in %s' % name
    action, args = task_action(task)
    if action is None:
        return
    assert action.count('.') >= 2, '%s: %s is not a FQCN' % (name, action)
    if action.startswith('fleet.kdump.'):
        unknown = set(args or {}) - module_options(action.split('.')[-1])
        assert not unknown, '%s: %s has no option %s' % (name, action, sorted(unknown))


def test_configure_order():
    plays = load_yaml('playbooks', 'configure.yml')
    assert [p['hosts'] for p in plays] == ['kdump_collector:kdump_fleet', 'kdump_fleet', 'kdump_collector', 'kdump_fleet']
    assert 'kdump_serial' in plays[3]['serial'] and 'kdump_max_fail_percentage' in str(plays[3]['max_fail_percentage'])


# Controller-side actions: they never open a connection to the host they run for.
CONTROLLER_ACTIONS = {'ansible.builtin.assert', 'ansible.builtin.include_tasks', 'ansible.builtin.include_role',
                      'ansible.builtin.validate_argument_spec', 'ansible.builtin.set_fact', 'ansible.builtin.debug'}


def check_tasks(tasks):
    """Tasks of a check play, with included task files and role entry points (validate_vars) followed."""
    for task in iter_tasks(tasks):
        yield task
        action, args = task_action(task)
        if action == 'ansible.builtin.include_tasks':
            yield from check_tasks(load_yaml('playbooks', args))
        elif action == 'ansible.builtin.include_role':
            yield from check_tasks(load_yaml('roles', args['name'].split('.')[-1], 'tasks', args['tasks_from'] + '.yml'))
        elif action == 'ansible.builtin.import_tasks':
            raise AssertionError('import_tasks in a check play: %s' % args)


@pytest.mark.parametrize('name', ['configure', 'collector', 'disable', 'readiness'])
def test_variables_are_checked_before_any_host_is_touched(name):
    first = load_yaml('playbooks', name + '.yml')[0]
    assert first['gather_facts'] is False and first['name'].startswith('Check ')
    assert first['hosts'] == 'localhost' or first['any_errors_fatal'] is True
    actions = set(task_action(t)[0] for t in check_tasks(first['tasks'])) - {None}
    assert actions <= CONTROLLER_ACTIONS, actions - CONTROLLER_ACTIONS


# crash_test.yml becomes the role fleet.kdump.crash_test (lead); its plays follow the same rule then.
BECOME_PENDING = {'crash_test'}


@pytest.mark.parametrize('name', sorted(set(NAMES) - BECOME_PENDING))
def test_become_one_way(name):
    """Every play that touches a host becomes root; check plays and controller plays do not (docs/decisions.md)."""
    for play in load_yaml('playbooks', name + '.yml'):
        touches = play['hosts'] != 'localhost' and not play['name'].startswith('Check ')
        assert play.get('become', False) is touches, play['name']
        for task in play_tasks(play):
            if 'delegate_to' in task and play['hosts'] == 'localhost':
                assert task.get('become') is True, task['name']


def test_crash_test_guard_and_batches():
    plays = load_yaml('playbooks', 'crash_test.yml')
    guard, fleet, summary = plays
    assert guard['hosts'] == 'localhost'
    assert 'kdump_crash_test_confirm | default(false) | bool' in guard['tasks'][0]['ansible.builtin.assert']['that']
    assert fleet['hosts'] == 'kdump_fleet' and fleet['max_fail_percentage'] == 0
    assert 'kdump_crash_test_confirm | default(false) | bool' in fleet['tasks'][0]['ansible.builtin.assert']['that']
    assert summary['hosts'] == 'localhost'
    # Nothing crashes before the preflight: the first sysrq_test with confirm true comes after one with confirm false.
    confirms = [args.get('confirm') for _n, t in [('', t) for t in play_tasks(fleet)]
                for action, args in [task_action(t)] if action == 'fleet.kdump.sysrq_test']
    assert confirms == [False, True]


def render(expression, variables):
    """Template expression as a play would (strings loaded from playbooks are trusted templates)."""
    trusted = dict((k, trust_as_template(v) if isinstance(v, str) else v) for k, v in variables.items())
    return Templar(loader=DataLoader(), variables=trusted).template(trust_as_template(expression))


@pytest.mark.parametrize('given, batches', [
    (None, [1, '10%', '50%', '100%']),
    ('1,10%,50%,100%', ['1', '10%', '50%', '100%']),
    (' 2 , 25% ,', ['2', '25%']),
    ([1, '100%'], [1, '100%']),
])
def test_crash_test_batches_from_survey_or_list(given, batches):
    fleet_vars = load_yaml('playbooks', 'crash_test.yml')[1]['vars']
    variables = dict(fleet_vars)
    if given is not None:
        variables['kdump_crash_test_batches'] = given
    assert render(fleet_vars['__kdump_batches'], variables) == batches


@pytest.mark.parametrize('confirm, ok', [(None, False), (False, False), ('false', False), ('true', True), (True, True), ('yes', True)])
def test_confirm_expression(confirm, ok):
    variables = {} if confirm is None else {'kdump_crash_test_confirm': confirm}
    assert render('{{ kdump_crash_test_confirm | default(false) | bool }}', variables) is ok


def test_readiness_lists_unreachable_hosts():
    plays = load_yaml('playbooks', 'readiness.yml')
    assert plays[1]['hosts'] == 'kdump_fleet' and plays[1]['ignore_unreachable'] is True
    actions = [task_action(t)[0] for t in play_tasks(plays[1])]
    assert actions[:2] == ['ansible.builtin.set_fact', 'fleet.kdump.crashkernel_facts']
    report = [t for t in play_tasks(plays[2]) if t['name'] == 'Build the report'][0]
    assert 'fleet.kdump.kdump_readiness' in report['ansible.builtin.set_fact']['kdump_readiness_report']


def test_config_hash_shared():
    for name in ('crash_test.yml', 'readiness.yml'):
        with open(os.path.join(PLAYBOOKS, name), encoding='utf-8') as handle:
            assert 'tasks/config_hash.yml' in handle.read()


def crash_test_task(name):
    return [t for t in play_tasks(load_yaml('playbooks', 'crash_test.yml')[1]) if t.get('name') == name][0]


# `od -An -v -tx1 -N 16` output for the first and last 16 bytes of a dump.
FLAT_HEAD = ' 6d 61 6b 65 64 75 6d 70 66 69 6c 65 00 00 00 00\n'
KDUMP_HEAD = ' 4b 44 55 4d 50 20 20 20 00 00 00 00 00 00 00 00\n'
FLAT_END = ' ff' * 16 + '\n'
MID_BLOCK = ' 00 00 00 00 00 00 00 00 70 70 70 70 70 70 70 70\n'


@pytest.mark.parametrize('files, offsets', [
    ([{'path': '/var/crash/202611261216/dump.202611261216', 'size': 5000}], [0, 4984]),
    ([{'path': '/var/crash/202611261216/dump.202611261216.gz', 'size': 5000}], []),
    ([{'path': '/var/crash/202611261216/vmcore.202611261216', 'size': 5000}], []),
    ([{'path': '/var/crash/202611261216/dump.202611261216', 'size': 0}], []),
])
def test_crash_test_local_reads_only_an_uncompressed_dump(files, offsets):
    task = crash_test_task('Read the first and last 16 bytes of the uncompressed dump')
    assert task['ansible.builtin.command']['argv'][:4] == ['od', '-An', '-v', '-tx1'] and task['changed_when'] is False
    variables = {'__kdump_files': {'files': files}, '__kdump_plain': task['vars']['__kdump_plain']}
    assert render(task['loop'], variables) == offsets


@pytest.mark.parametrize('ends, cut', [
    ([FLAT_HEAD, FLAT_END], False),
    ([FLAT_HEAD, MID_BLOCK], True),
    ([KDUMP_HEAD, MID_BLOCK], False),  # kdump-compressed: makedumpfile wrote no end marker to check
    ([], False),  # compressed dump or vmcore: nothing was read
])
def test_crash_test_local_dump_cut_short(ends, cut):
    task = crash_test_task('Check the dump and the kernel log')
    variables = {'__kdump_ends': {'results': [{'stdout': out} for out in ends]}}
    assert render(task['vars']['__kdump_cut_short'], variables) is cut
    if cut:
        variables.update(task['vars'], __kdump_coredir='/var/crash', __kdump_stamp='202611261216',
                         __kdump_files={'files': [{'path': '/var/crash/202611261216/dump.202611261216', 'size': 5000}]})
        message = render(task['ansible.builtin.assert']['fail_msg'], variables)
        assert message.startswith("/var/crash/202611261216: dump.202611261216 is cut short: it ends without makedumpfile's end marker")
        assert 'grow crashkernel=' in message
        assert 'not (__kdump_cut_short | bool)' in task['ansible.builtin.assert']['that']


def test_crash_test_collector_failure_names_the_collectors_error():
    task = crash_test_task('Check that a complete dump arrived')
    listing = [{'state': 'incomplete', 'error': "dump.202611261216 ends without makedumpfile's end marker: ..."}]
    variables = dict(task['vars'], __kdump_listing={'rc': 0, 'stdout': json.dumps(listing)}, __kdump_collector='c1',
                     __kdump_since='2026-11-26T12:16:00Z', inventory_hostname='web1')
    assert render(task['ansible.builtin.assert']['fail_msg'], variables) == (
        "no complete dump of web1 indexed on c1 since 2026-11-26T12:16:00Z (seen: incomplete): "
        "dump.202611261216 ends without makedumpfile's end marker: ...")
    variables['__kdump_listing'] = {'rc': 0, 'stdout': '[]'}
    assert render(task['ansible.builtin.assert']['fail_msg'], variables).endswith('(seen: nothing)')
