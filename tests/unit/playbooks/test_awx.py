# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""awx/configure-awx.yml cannot run against a live AWX here: check its awx.awx tasks against the modules' argument specs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from playbook_helpers import FIXTURES, ROOT, load_yaml, play_tasks, task_action

SNAPSHOT = os.path.join(FIXTURES, 'awx_argspec.json')
PLAY = load_yaml('awx', 'configure-awx.yml')[0]


def snapshot():
    with open(SNAPSHOT, encoding='utf-8') as handle:
        data = json.load(handle)
    data.pop('_source')
    return data


def live_argspec(modules):
    """Options of the installed awx.awx modules (ansible-doc --json), or None when awx.awx is not installed."""
    bindir = os.path.dirname(sys.executable)
    result = subprocess.run([os.path.join(bindir, 'ansible-doc'), '--json'] + sorted(modules), capture_output=True, text=True,
                            cwd=ROOT, timeout=120, check=False)
    if result.returncode != 0:
        return None
    found = dict((name, doc['doc']['options']) for name, doc in json.loads(result.stdout or '{}').items())
    return found if set(found) == set(modules) else None


def awx_tasks():
    return [(task['name'], action, args) for task in play_tasks(PLAY) for action, args in [task_action(task)]
            if action and action.startswith('awx.awx.')]


def is_template(value):
    return isinstance(value, str) and '{{' in value


def test_uses_the_expected_modules():
    assert sorted(set(a for _n, a, _args in awx_tasks())) == sorted(snapshot())


@pytest.mark.parametrize('name, action, args', awx_tasks(), ids=[t[0] for t in awx_tasks()])
def test_options_exist_and_literals_validate(name, action, args):
    spec = snapshot()[action]
    names = set(spec) | set(alias for option in spec.values() for alias in option.get('aliases', []))
    unknown = set(args) - names
    assert not unknown, '%s: %s has no option %s' % (name, action, sorted(unknown))
    literal = dict((k, v) for k, v in args.items() if not is_template(v))
    argument_spec = dict((k, dict((f, o[f]) for f in ('type', 'choices', 'elements', 'aliases') if f in o)) for k, o in spec.items())
    for option in argument_spec.values():  # raw and json types take anything
        if option['type'] in ('raw', 'json', 'jsonarg'):
            option['type'] = 'raw'
    result = ArgumentSpecValidator(argument_spec).validate(literal)
    assert not result.error_messages, result.error_messages


def test_snapshot_matches_installed_collection():
    live = live_argspec(snapshot())
    if live is None:
        pytest.skip('awx.awx is not installed; options checked against the snapshot of awx.awx 23.9.0 only')
    for module, options in snapshot().items():
        assert set(options) <= set(live[module]), module


def templates():
    return dict((t['name'], t) for t in PLAY['vars']['awx_job_templates'])


def test_job_templates_point_at_existing_playbooks():
    for template in templates().values():
        assert os.path.isfile(os.path.join(ROOT, template['playbook'])), template['playbook']
    assert sorted(t['playbook'] for t in templates().values()) == [
        'playbooks/configure.yml', 'playbooks/crash_test.yml', 'playbooks/disable.yml', 'playbooks/readiness.yml']


def test_every_template_asks_for_a_limit():
    task = [args for _n, action, args in awx_tasks() if action == 'awx.awx.job_template'][0]
    assert task['ask_limit_on_launch'] is True


def test_crash_test_survey():
    survey = templates()['fleet.kdump crash test']['survey']
    questions = dict((q['variable'], q) for q in survey['spec'])
    confirm = questions['kdump_crash_test_confirm']
    assert confirm['type'] == 'multiplechoice' and confirm['choices'] == ['false', 'true'] and confirm['default'] == 'false'
    assert questions['kdump_crash_test_batches']['type'] == 'text'
    # The playbook is a wrapper of the role fleet.kdump.crash_test: every survey variable is one of the role's.
    options = load_yaml('roles', 'crash_test', 'meta', 'argument_specs.yml')['argument_specs']['main']['options']
    assert set(questions) <= set(options)
    for question in survey['spec']:
        assert set(question) <= {'question_name', 'question_description', 'variable', 'type', 'choices', 'default', 'required',
                                 'min', 'max'}
        assert question['type'] in ('text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect')


def test_readiness_schedule():
    task = [args for _n, action, args in awx_tasks() if action == 'awx.awx.schedule'][0]
    assert task['unified_job_template'] in templates()
    assert 'FREQ=DAILY' in PLAY['vars']['awx_readiness_rrule'] and PLAY['vars']['awx_readiness_rrule'].startswith('DTSTART')


def test_execution_environment_definitions():
    collection_ee = load_yaml('meta', 'execution-environment.yml')
    assert collection_ee['version'] == 1
    for path in collection_ee['dependencies'].values():
        assert os.path.isfile(os.path.join(ROOT, path)), path
    deploy_ee = load_yaml('awx', 'execution-environment.yml')
    assert deploy_ee['version'] == 3
    requirements = load_yaml('awx', deploy_ee['dependencies']['galaxy'])
    assert any(c['name'].endswith('fleet-kdump-%s.tar.gz' % load_yaml('galaxy.yml')['version']) for c in requirements['collections'])


def test_survey_yaml_roundtrip():
    # AWX stores the survey as JSON: nothing in it may depend on YAML-only types.
    survey = templates()['fleet.kdump crash test']['survey']
    assert json.loads(json.dumps(survey)) == yaml.safe_load(json.dumps(survey))
