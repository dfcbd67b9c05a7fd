# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Structure of the fleet.kdump playbooks: what the issue and docs promise, checked without a fleet."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from playbook_helpers import FIXTURES, PLAYBOOKS, ROOT, check_task, iter_tasks, load_yaml, play_tasks, task_action

NAMES = ('collector', 'configure', 'crash_test', 'readiness', 'disable')


def all_tasks():
    for name in NAMES:
        for play in load_yaml('playbooks', name + '.yml'):
            for task in play_tasks(play):
                yield name, task


def test_every_playbook_exists():
    assert sorted(f[:-4] for f in os.listdir(PLAYBOOKS) if f.endswith('.yml')) == sorted(NAMES)


@pytest.mark.parametrize('name, task', list(all_tasks()), ids=lambda v: v if isinstance(v, str) else v.get('name'))
def test_tasks_named_fqcn_and_valid_options(name, task):
    check_task(name, task)


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


@pytest.mark.parametrize('name', ['configure', 'collector', 'crash_test', 'disable', 'readiness'])
def test_variables_are_checked_before_any_host_is_touched(name):
    first = load_yaml('playbooks', name + '.yml')[0]
    assert first['gather_facts'] is False and first['name'].startswith('Check ')
    assert first['hosts'] == 'localhost' or first['any_errors_fatal'] is True
    actions = set(task_action(t)[0] for t in check_tasks(first['tasks'])) - {None}
    assert actions <= CONTROLLER_ACTIONS, actions - CONTROLLER_ACTIONS


@pytest.mark.parametrize('name', NAMES)
def test_become_one_way(name):
    """Every play that touches a host becomes root; check plays and controller plays do not (docs/decisions.md)."""
    for play in load_yaml('playbooks', name + '.yml'):
        touches = play['hosts'] != 'localhost' and not play['name'].startswith('Check ')
        assert play.get('become', False) is touches, play['name']
        for task in play_tasks(play):
            if 'delegate_to' in task and play['hosts'] == 'localhost':
                assert task.get('become') is True, task['name']


def test_readiness_lists_unreachable_hosts():
    plays = load_yaml('playbooks', 'readiness.yml')
    assert plays[1]['hosts'] == 'kdump_fleet' and plays[1]['ignore_unreachable'] is True
    actions = [task_action(t)[0] for t in play_tasks(plays[1])]
    assert actions[:2] == ['ansible.builtin.set_fact', 'fleet.kdump.crashkernel_facts']
    report = [t for t in play_tasks(plays[2]) if t['name'] == 'Build the report'][0]
    assert 'fleet.kdump.kdump_readiness' in report['ansible.builtin.set_fact']['kdump_readiness_report']


@pytest.mark.parametrize('name', NAMES)
def test_syntax_check(name):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.venv', 'collections'))
    bindir = os.path.dirname(sys.executable)
    result = subprocess.run([os.path.join(bindir, 'ansible-playbook'), '--syntax-check', '-i', os.path.join(FIXTURES, 'inventory.ini'),
                             'fleet.kdump.' + name], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
