# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action plugin of fleet.kdump.local_dump_query for real: ansible-playbook ships the collector program to a host
(this machine, local connection), runs it there and leaves nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..', '..', '..'))
FIXTURES = os.path.join(ROOT, 'tests', 'unit', 'collector', 'fixtures')
STAMP = '202611261216'
FLAT = b'makedumpfile\0\0\0\0' + b'\0\0\0\0\0\0\0\x01' * 2 + b'\0' * 4064 + b'\xff' * 16
PLAY = """
- name: Query the local dumps
  hosts: all
  gather_facts: false
  tasks:
    - name: Ask the collector program about {coredir}
      fleet.kdump.local_dump_query:
        coredir: {coredir}
        since: 2026-11-26T12:00:00Z
        expect: sysrq
      register: answer

    - name: Keep the answer
      ansible.builtin.copy:
        content: "{{{{ answer | to_json }}}}"
        dest: {out}
        mode: "0644"
      check_mode: false
"""


@pytest.mark.parametrize('check', [False, True])
def test_ships_runs_and_cleans_up(tmp_path, check):
    coredir = tmp_path / 'crash' / STAMP
    coredir.mkdir(parents=True)
    (coredir / ('dump.' + STAMP)).write_bytes(FLAT)
    with open(os.path.join(FIXTURES, 'dmesg-sysrq-6.1.txt'), encoding='utf-8') as handle:
        (coredir / ('dmesg.' + STAMP)).write_text(handle.read())
    remote_tmp = tmp_path / 'remote-tmp'
    remote_tmp.mkdir()
    play = tmp_path / 'play.yml'
    out = tmp_path / 'answer.json'
    play.write_text(PLAY.format(coredir=tmp_path / 'crash', out=out))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.venv', 'collections'), ANSIBLE_REMOTE_TMP=str(remote_tmp),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING='false')
    argv = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'web1,', '-c', 'local', str(play)]
    result = subprocess.run(argv + (['--check'] if check else []), cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(out.read_text())
    assert (answer['found'], answer['settled'], answer['changed']) == (True, True, False)
    assert answer['hosts']['web1']['dump']['reason'] == 'sysrq: Trigger a crash'
    assert os.listdir(str(remote_tmp)) == []
