# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for the playbook tests: paths and YAML loading."""

from __future__ import annotations

import os

import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..', '..'))
PLAYBOOKS = os.path.join(ROOT, 'playbooks')
FIXTURES = os.path.join(HERE, 'fixtures')


def module_options(name):
    """Option names of a fleet.kdump module, from its DOCUMENTATION."""
    path = os.path.join(ROOT, 'plugins', 'modules', name + '.py')
    with open(path, encoding='utf-8') as handle:
        source = handle.read()
    doc = source.split('DOCUMENTATION = r"""', 1)[1].split('"""', 1)[0]
    return set((yaml.safe_load(doc).get('options') or {}))


def load_yaml(*parts):
    with open(os.path.join(ROOT, *parts), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def iter_tasks(tasks):
    """Every task of a task list, descending into block/rescue/always."""
    for task in tasks or []:
        yield task
        for key in ('block', 'rescue', 'always'):
            if key in task:
                yield from iter_tasks(task[key])


def play_tasks(play):
    for key in ('pre_tasks', 'tasks', 'post_tasks', 'handlers'):
        yield from iter_tasks(play.get(key))


TASK_KEYWORDS = {
    'name', 'when', 'register', 'vars', 'loop', 'loop_control', 'delegate_to', 'delegate_facts', 'run_once', 'become',
    'become_user', 'changed_when', 'failed_when', 'until', 'retries', 'delay', 'ignore_errors', 'ignore_unreachable',
    'block', 'rescue', 'always', 'tags', 'no_log', 'environment', 'check_mode', 'args', 'notify', 'listen',
}


def task_action(task):
    """(module name, its arguments) of a task, or (None, None) for a block."""
    actions = [k for k in task if k not in TASK_KEYWORDS]
    if not actions:
        return None, None
    assert len(actions) == 1, 'task %r has several actions: %s' % (task.get('name'), actions)
    return actions[0], task[actions[0]]


def render(expression, variables):
    """Template expression as a play would (strings loaded from playbooks and roles are trusted templates)."""
    trusted = dict((k, trust_as_template(v) if isinstance(v, str) else v) for k, v in variables.items())
    return Templar(loader=DataLoader(), variables=trusted).template(trust_as_template(expression))


def check_task(where, task):
    """A task is named, its action is a FQCN, and a fleet.kdump module gets only options it has."""
    assert task.get('name'), 'unnamed task in %s' % where
    action, args = task_action(task)
    if action is None:
        return
    assert action.count('.') >= 2, '%s: %s is not a FQCN' % (where, action)
    if action.startswith('fleet.kdump.'):
        unknown = set(args or {}) - module_options(action.split('.')[-1])
        assert not unknown, '%s: %s has no option %s' % (where, action, sorted(unknown))
