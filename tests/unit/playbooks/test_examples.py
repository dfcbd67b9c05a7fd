# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""examples/inventory, the inventory the docs tell a new user to copy: it loads, every playbook accepts it, and
bad playbook variables are refused by the check play before any of its hosts is contacted."""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys

import pytest

from playbook_helpers import ROOT, load_yaml

from test_playbooks import NAMES

INVENTORY = os.path.join(ROOT, 'examples', 'inventory')
BIN = os.path.dirname(sys.executable)
# Every host resolves to a closed loopback port: should a check let a run through, its hosts are unreachable at once
# and nothing leaves this machine.
NOWHERE = ['-e', 'ansible_host=127.0.0.1', '-e', 'ansible_port=9']


def ansible(tool, *args):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.venv', 'collections'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_SSH_ARGS='-o ConnectTimeout=5')
    return subprocess.run([os.path.join(BIN, tool)] + list(args), cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_inventory_loads_as_a_mixed_fleet_with_a_collector():
    result = ansible('ansible-inventory', '-i', INVENTORY, '--list')
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data['kdump_collector']['hosts'] == ['dumps1.example.org']
    assert set(data['kdump_fleet']['children']) == {'ubuntu_2204', 'ubuntu_2404', 'debian_12'}
    fleet = [h for group in data['kdump_fleet']['children'] for h in data[group]['hosts']]
    assert len(fleet) == 10 and 'tiny01.example.org' in fleet
    hostvars = data['_meta']['hostvars']
    assert all(hostvars[h]['kdump_target'] == 'ssh' for h in fleet)
    assert hostvars['tiny01.example.org']['kdump_crashkernel'] == '192M'
    assert hostvars['dumps1.example.org']['collector_min_free_bytes'] == '20G'


@pytest.mark.parametrize('name', NAMES)
def test_every_playbook_accepts_the_example_inventory(name):
    result = ansible('ansible-playbook', '--syntax-check', '-i', INVENTORY, 'fleet.kdump.' + name)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize('playbook, extra, message', [
    ('configure', 'kdump_serial=abc', 'kdump_serial="abc" is not a batch size'),
    ('configure', 'kdump_serial=0', 'kdump_serial="0" is not a batch size'),
    ('disable', 'kdump_max_fail_percentage=101', 'kdump_max_fail_percentage="101" is not a percentage'),
    ('configure', 'collector_max_host_bytes=20X', "collector_max_host_bytes=''20X'' is not a byte"),
    ('collector', 'collector_prune_min_free_bytes=-1G', "collector_prune_min_free_bytes=''-1G'' is not a byte"),
    ('configure', 'kdump_target=foo', 'value of kdump_target must be one of: local, ssh, nfs, got: foo'),
    ('disable', 'kdump_reboot_timeout=soon', "argument 'kdump_reboot_timeout' is of type str"),
    ('readiness', 'kdump_readiness_fail_unready=maybe', "argument 'kdump_readiness_fail_unready' is of type str"),
    ('collector', '{"collector_known_issues": [{"title": "t", "pattern": "p", "url": "https://x"}]}',
     'collector_known_issues must be a list of'),
])
def test_a_bad_variable_stops_the_run_before_any_host_is_contacted(playbook, extra, message):
    result = ansible('ansible-playbook', '-i', INVENTORY, 'fleet.kdump.' + playbook, '-e', extra, *NOWHERE)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert message in output.replace('\n        ', ' ')
    assert 'UNREACHABLE' not in output and 'this is probably a bug' not in output
    assert output.count('PLAY [') == 1, 'a play after the check play started'


def test_good_variables_pass_the_check_without_contacting_a_host():
    result = ansible('ansible-playbook', '-i', INVENTORY, 'fleet.kdump.configure', '-e', 'kdump_serial=25%',
                     '-e', 'collector_max_host_bytes=1.5T', *NOWHERE)
    plays = [line for line in result.stdout.splitlines() if line.startswith('PLAY [')]
    assert plays[:2] == ['PLAY [Check every variable before any host is touched] ' + '*' * 25,
                         'PLAY [Create the dump keys of fleet hosts that send dumps over SSH] ' + '*' * 12]
    check_play = result.stdout.split(plays[1])[0]
    assert 'UNREACHABLE' not in check_play and 'FAILED' not in check_play


def test_requirements_files_follow_galaxy_yml():
    """The dependencies a user installs are those galaxy.yml declares, at its version."""
    galaxy = load_yaml('galaxy.yml')
    example = load_yaml('examples', 'requirements.yml')['collections']
    assert example[0]['type'] == 'git' and example[0]['version'] == galaxy['version']
    assert dict((c['name'], c['version']) for c in example[1:]) == galaxy['dependencies']
    awx = [c['name'] for c in load_yaml('awx', 'requirements.yml')['collections']]
    assert awx[0] == '/build/collections/fleet-kdump-%s.tar.gz' % galaxy['version']
    assert sorted(awx[1:]) == sorted(galaxy['dependencies'])


FQCN = re.compile(r'\b([a-z][a-z0-9]*\.[a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*\b')


def collections_used():
    """Collections whose content the roles and playbooks name (FQCN of a module, filter or lookup)."""
    installed = set()
    base = os.path.join(os.path.dirname(os.path.dirname(sys.executable)), 'lib')
    for site in glob.glob(os.path.join(base, 'python3*', 'site-packages', 'ansible_collections')):
        installed.update('%s.%s' % (ns, name) for ns in os.listdir(site) if os.path.isdir(os.path.join(site, ns))
                         for name in os.listdir(os.path.join(site, ns)))
    used = set()
    for folder in ('roles', 'playbooks'):
        for path in glob.glob(os.path.join(ROOT, folder, '**', '*.*'), recursive=True):
            if path.endswith(('.yml', '.j2')):
                with open(path, encoding='utf-8') as handle:
                    used.update(m.group(1) for m in FQCN.finditer(handle.read()) if m.group(1) in installed)
    return used - {'ansible.builtin', 'fleet.kdump'}


def test_galaxy_yml_declares_exactly_the_collections_used():
    assert collections_used() == set(load_yaml('galaxy.yml')['dependencies'])
