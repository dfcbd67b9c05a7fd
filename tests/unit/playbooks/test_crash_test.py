# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The crash test: the role fleet.kdump.crash_test, its argument specs, and the thin playbook around it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.fleet.kdump.tests.unit import collector_tree as tree

from playbook_helpers import FIXTURES, PLAYBOOKS, ROOT, check_task, iter_tasks, load_yaml, render, task_action

ROLE = os.path.join(ROOT, 'roles', 'crash_test')
SPECS = load_yaml('roles', 'crash_test', 'meta', 'argument_specs.yml')['argument_specs']
DEFAULTS = load_yaml('roles', 'crash_test', 'defaults', 'main.yml')
ROLE_VARS = load_yaml('roles', 'crash_test', 'vars', 'main.yml')


def role_tasks(entry='main'):
    """The tasks of an entry point in the order they run, imported task files followed."""
    for task in iter_tasks(load_yaml('roles', 'crash_test', 'tasks', entry + '.yml')):
        action, args = task_action(task)
        if action == 'ansible.builtin.import_tasks':
            yield from role_tasks(args[:-4])
        else:
            yield task


def all_role_tasks():
    for name in sorted(os.listdir(os.path.join(ROLE, 'tasks'))):
        yield from ((name, t) for t in iter_tasks(load_yaml('roles', 'crash_test', 'tasks', name)))


# -- the playbook is a thin wrapper -------------------------------------------------------------------------------------

def test_playbook_is_a_wrapper_of_a_few_dozen_lines():
    with open(os.path.join(PLAYBOOKS, 'crash_test.yml'), encoding='utf-8') as handle:
        assert len(handle.read().splitlines()) <= 40
    check, fleet, summary = load_yaml('playbooks', 'crash_test.yml')
    assert check['hosts'] == summary['hosts'] == 'localhost' and 'become' not in check and 'become' not in summary
    assert [task_action(t) for t in check['tasks']] == [('ansible.builtin.include_role', {'name': 'fleet.kdump.crash_test',
                                                                                          'tasks_from': 'check'})]
    assert [task_action(t) for t in summary['tasks']] == [('ansible.builtin.include_role', {'name': 'fleet.kdump.crash_test',
                                                                                            'tasks_from': 'summary'})]
    assert fleet['hosts'] == 'kdump_fleet' and fleet['become'] is True and fleet['max_fail_percentage'] == 0
    assert fleet['roles'] == [{'role': 'fleet.kdump.crash_test'}] and 'tasks' not in fleet


# What only the collector role and its program may know: paths, the account, the program, the units.
COLLECTOR_INSIDES = re.compile(r'runuser|/var/lib/kdump-collector|kdump-collector|/usr/local/bin|/etc/fleet-kdump|'
                               r'collector_(?:user|db|root|home|report_html|metrics_textfile)\b|index\.sqlite|sudo -u')


@pytest.mark.parametrize('name', sorted(f for f in os.listdir(PLAYBOOKS) if f.endswith('.yml')))
def test_no_playbook_names_the_collectors_insides(name):
    with open(os.path.join(PLAYBOOKS, name), encoding='utf-8') as handle:
        text = handle.read()
    assert COLLECTOR_INSIDES.findall(text) == []


def test_no_collector_insides_in_the_role():
    for name in os.listdir(os.path.join(ROLE, 'tasks')) + ['../vars/main.yml', '../defaults/main.yml']:
        with open(os.path.join(ROLE, 'tasks', name), encoding='utf-8') as handle:
            assert COLLECTOR_INSIDES.findall(handle.read()) == [], name


@pytest.mark.parametrize('given, batches', [
    (None, [1, '10%', '50%', '100%']),
    ('1,10%,50%,100%', ['1', '10%', '50%', '100%']),
    (' 2 , 25% ,', ['2', '25%']),
    ([1, '100%'], [1, '100%']),
])
def test_batches_from_survey_or_list(given, batches):
    fleet = load_yaml('playbooks', 'crash_test.yml')[1]
    variables = dict(fleet['vars'])
    if given is not None:
        variables['kdump_crash_test_batches'] = given
    assert render(fleet['serial'], variables) == batches


def test_playbook_batches_default_is_the_roles():
    fleet = load_yaml('playbooks', 'crash_test.yml')[1]
    assert fleet['vars'] == {'kdump_crash_test_batches': DEFAULTS['kdump_crash_test_batches']}
    assert SPECS['main']['options']['kdump_crash_test_batches']['default'] == DEFAULTS['kdump_crash_test_batches']


def test_syntax_check():
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.venv', 'collections'))
    bindir = os.path.dirname(sys.executable)
    result = subprocess.run([os.path.join(bindir, 'ansible-playbook'), '--syntax-check', '-i', os.path.join(FIXTURES, 'inventory.ini'),
                             'fleet.kdump.crash_test'], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# -- argument specs -----------------------------------------------------------------------------------------------------

def test_every_variable_specified_defaulted_and_used():
    options = SPECS['main']['options']
    assert set(options) == set(DEFAULTS)
    for name, option in options.items():
        if 'default' in option:
            assert option['default'] == DEFAULTS[name], name
        else:
            assert DEFAULTS[name] is None or '{{' in DEFAULTS[name], name
    used = set()
    for _name, task in all_role_tasks():
        used |= set(re.findall(r'\bkdump_crash_test_\w+', repr(task)))
    used |= set(re.findall(r'\bkdump_crash_test_\w+', repr(ROLE_VARS)))
    assert used == set(options)
    for entry in ('check',):
        assert set(SPECS[entry]['options']) <= set(options)
        assert all(SPECS[entry]['options'][k] == options[k] for k in SPECS[entry]['options'])
    with open(os.path.join(ROLE, 'README.md'), encoding='utf-8') as handle:
        readme = handle.read()
    assert all('`%s`' % name in readme for name in options)


def validate(values):
    spec = dict((k, dict((f, o[f]) for f in ('type', 'default', 'elements') if f in o)) for k, o in SPECS['main']['options'].items())
    return ArgumentSpecValidator(spec).validate(values)


def test_defaults_and_survey_strings_validate():
    defaults = dict((k, v) for k, v in DEFAULTS.items() if v is not None and '{{' not in str(v))
    assert not validate(defaults).error_messages
    survey = {'kdump_crash_test_confirm': 'true', 'kdump_crash_test_batches': '1,100%', 'kdump_crash_test_timeout': '900',
              'kdump_crash_test_max_load': '2.5', 'kdump_crash_test_collector': 'dumps1'}
    result = validate(survey)
    assert not result.error_messages and result.validated_parameters['kdump_crash_test_confirm'] is True
    assert validate({'kdump_crash_test_timeout': 'soon'}).error_messages


@pytest.mark.parametrize('confirm, ok', [(False, False), ('false', False), ('no', False), ('true', True), (True, True),
                                         ('yes', True)])
def test_confirm_check(confirm, ok):
    check = load_yaml('roles', 'crash_test', 'tasks', 'check.yml')[0]['ansible.builtin.assert']
    assert render('{{ %s }}' % check['that'], {'kdump_crash_test_confirm': confirm}) is ok


@pytest.mark.parametrize('batches, ok', [([1, '10%', '100%'], True), ('1,10%,50%,100%', True), ([], False), ('', False),
                                         ('1,ten', False), ({'a': 1}, False), ([1, '5 %'], False)])
def test_batches_check(batches, ok):
    check = load_yaml('roles', 'crash_test', 'tasks', 'check.yml')[1]
    variables = dict(check['vars'], kdump_crash_test_batches=batches)
    assert all(render('{{ %s }}' % cond, variables) for cond in check['ansible.builtin.assert']['that']) is ok


# -- the role's tasks -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name, task', list(all_role_tasks()), ids=lambda v: v if isinstance(v, str) else v.get('name'))
def test_tasks_named_fqcn_and_valid_options(name, task):
    check_task(name, task)


def test_nothing_crashes_before_the_preflight():
    sysrq = [args.get('confirm') for action, args in map(task_action, role_tasks()) if action == 'fleet.kdump.sysrq_test']
    assert sysrq == [False, True]
    order = [task_action(t)[0] for t in role_tasks()]
    assert order.index('fleet.kdump.collector_query') > order.index('fleet.kdump.sysrq_test') + 1


def test_dump_knowledge_is_the_collectors():
    """The role asks; it never reads a dump, a dmesg or the index itself (no od, grep, slurp of the dump directory)."""
    for _name, task in all_role_tasks():
        action, args = task_action(task)
        assert action not in ('ansible.builtin.command', 'ansible.builtin.shell', 'ansible.builtin.find') or \
            args == 'date -u +%Y-%m-%dT%H:%M:%SZ', task['name']
        if action == 'ansible.builtin.slurp':
            assert args == {'src': '/proc/sys/kernel/random/boot_id'}
    queries = [(task_action(t)[0], task_action(t)[1]['expect']) for t in role_tasks() if 'query' in (task_action(t)[0] or '')]
    assert queries == [('fleet.kdump.collector_query', '{{ __crash_test_expect }}'),
                       ('fleet.kdump.local_dump_query', '{{ __crash_test_expect }}')]


def task_named(name):
    return [t for t in role_tasks() if t.get('name') == name][0]


def test_a_failure_carries_the_collectors_why():
    task = task_named('Check that the collector holds a complete dump of the crash')
    why = "dump 3 of 2026-11-26T12:16:00Z is incomplete: dump.202611261216 ends without makedumpfile's end marker"
    variables = dict(ROLE_VARS, kdump_crash_test_collector='c1', inventory_hostname='web1',
                     __crash_test_query={'found': False, 'hosts': {'web1': {'found': False, 'why': why}}})
    assert render(task['ansible.builtin.assert']['fail_msg'], variables) == 'c1: ' + why
    task = task_named('Check that the host kept a complete dump of the crash')
    assert render(task['ansible.builtin.assert']['fail_msg'], variables) == why


def test_summary_lines():
    task = load_yaml('roles', 'crash_test', 'tasks', 'summary.yml')[0]
    variables = dict(task['vars'], __crash_test_summary_hosts=['web1', 'web2', 'web3'], __crash_test_summary_results=[
        {'outcome': 'ok', 'time': '2026-11-26T12:16:03Z', 'target': 'ssh', 'dump_bytes': 38211584,
         'detail': 'kernel panic: sysrq triggered crash'},
        {'outcome': 'refused', 'detail': 'preflight failed: load_average'}, {}])
    lines = render(task['ansible.builtin.debug']['msg'], variables)
    assert lines[0].split() == ['HOST', 'OUTCOME', 'STARTED', '(UTC)', 'TARGET', 'DUMP', 'DETAIL']
    assert lines[1].split() == ['web1', 'ok', '2026-11-26T12:16:03Z', 'ssh', '36.4', 'MiB', 'kernel', 'panic:', 'sysrq', 'triggered',
                                'crash']
    assert lines[2].split()[:4] == ['web2', 'refused', '-', '-'] and lines[3].split() == ['web3', 'not', 'run', '-', '-', '-']


LOCAL_PLAY = """
- name: The local branch of the crash test on this machine
  hosts: all
  gather_facts: false
  tasks:
    - name: Check the dump kept on the host
      ansible.builtin.include_role:
        name: fleet.kdump.crash_test
        tasks_from: find_local
      vars:
        __crash_test_coredir: {coredir}
        __crash_test_start:
          stdout: "2026-11-26T12:16:41Z"

    - name: Keep what the role kept
      ansible.builtin.copy:
        content: "{{{{ __crash_test_dump | to_json }}}}"
        dest: {out}
        mode: "0644"
"""
FLAT = b'makedumpfile\0\0\0\0' + b'\0\0\0\0\0\0\0\x01' * 2 + b'\0' * 4064 + b'\xff' * 16


@pytest.mark.parametrize('dump, why', [
    (FLAT, None),
    (FLAT[:-16], "ends without makedumpfile's end marker"),
])
def test_local_branch_for_real(tmp_path, dump, why):
    """find_local.yml on this machine (local connection): the collector program's verdict decides, and its why fails the
    task; nothing reads the dump but the program."""
    stamp = '202611261216'
    entry = tmp_path / 'crash' / stamp
    entry.mkdir(parents=True)
    (entry / ('dump.' + stamp)).write_bytes(dump)
    with open(os.path.join(ROOT, 'tests', 'unit', 'collector', 'fixtures', 'dmesg-sysrq-6.1.txt'), encoding='utf-8') as handle:
        (entry / ('dmesg.' + stamp)).write_text(handle.read())
    out = tmp_path / 'dump.json'
    play = tmp_path / 'play.yml'
    play.write_text(LOCAL_PLAY.format(coredir=tmp_path / 'crash', out=out))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.venv', 'collections'), ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    bindir = os.path.dirname(sys.executable)
    result = subprocess.run([os.path.join(bindir, 'ansible-playbook'), '-i', 'web1,', '-c', 'local', str(play)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    if why is None:
        assert result.returncode == 0, result.stdout + result.stderr
        kept = json.loads(out.read_text())
        assert (kept['path'], kept['state'], kept['title']) == (str(entry), 'complete', 'kernel panic: sysrq triggered crash')
    else:
        assert result.returncode != 0 and why in result.stdout and 'Check that the host kept a complete dump' in result.stdout
        assert not out.exists()


REMOTE_PLAY = """
- name: The collector branch of the crash test, against a collector laid out under a temporary root
  hosts: all
  gather_facts: false
  module_defaults:
    fleet.kdump.collector_query:
      root: {root}
  vars:
    kdump_crash_test_collector: web1
    kdump_crash_test_dump_retries: 2
    kdump_crash_test_dump_interval: 1
    __crash_test_start:
      stdout: "2026-11-26T12:16:41Z"
  tasks:
    - name: Ask the collector for the dump
      block:
        - name: Ask the collector for the dump
          ansible.builtin.include_role:
            name: fleet.kdump.crash_test
            tasks_from: find_remote

        - name: Keep what the role kept
          ansible.builtin.copy:
            content: "{{{{ __crash_test_dump | to_json }}}}"
            dest: {out}
            mode: "0644"
      always:
        - name: Keep the collector's answer
          ansible.builtin.copy:
            content: "{{{{ __crash_test_query | to_json }}}}"
            dest: {out}.query
            mode: "0644"
"""


@pytest.mark.parametrize('dump, why, attempts', [
    (tree.FLAT, None, 1),
    (tree.CUT, "web1: dump 1 of 2026-11-26T12:16:00Z is incomplete: dump.202611261216 ends without makedumpfile's end marker", 1),
    (None, 'web1: no dump of web1 indexed since 2026-11-26T12:16:00Z', 3),  # asked at 0, 1 and 2 s
])
def test_collector_branch_for_real(tmp_path, dump, why, attempts):
    """find_remote.yml against the real program behind a collector's configuration file: the collector indexes and
    answers; a settled answer stops the wait at once, only "nothing yet" is asked again."""
    root = str(tmp_path / 'collector')
    dumps = tree.collector(root)
    os.makedirs(os.path.join(dumps, 'web1'))
    if dump is not None:
        tree.dump_dir(os.path.join(dumps, 'web1', 'web1-' + tree.STAMP), dump=dump)
    out = tmp_path / 'dump.json'
    play = tmp_path / 'play.yml'
    play.write_text(REMOTE_PLAY.format(root=root, out=out))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.venv', 'collections'), ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    bindir = os.path.dirname(sys.executable)
    result = subprocess.run([os.path.join(bindir, 'ansible-playbook'), '-i', 'web1,', '-c', 'local', str(play)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    if why is None:
        assert result.returncode == 0, result.stdout + result.stderr
        kept = json.loads(out.read_text())
        assert (kept['id'], kept['state'], kept['title']) == (1, 'complete', 'kernel panic: sysrq triggered crash')
    else:
        assert result.returncode != 0 and 'TASK [fleet.kdump.crash_test : Check that the collector holds' in result.stdout
        assert why in result.stdout, result.stdout
        assert not out.exists()
    answer = json.loads((tmp_path / 'dump.json.query').read_text())
    assert (answer['attempts'], answer['failed'], answer['changed']) == (attempts, False, False)
