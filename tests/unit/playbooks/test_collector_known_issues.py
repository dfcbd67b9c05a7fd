# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collector role's check of collector_known_issues, evaluated as a play would."""

from __future__ import annotations

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from playbook_helpers import load_yaml


def known_issues_check():
    tasks = load_yaml('roles', 'collector', 'tasks', 'validate.yml')
    return [t for t in tasks if t['name'] == 'Check the known issues'][0]['ansible.builtin.assert']


def passes(value):
    templar = Templar(loader=DataLoader(), variables={'collector_known_issues': value})
    return all(templar.template(trust_as_template('{{ %s }}' % that)) for that in known_issues_check()['that'])


@pytest.mark.parametrize('value', [
    [],
    [{'title': 'kernel panic: sysrq triggered crash', 'url': 'https://bugs.example/1', 'note': 'crash tests'}],
    [{'pattern': '^possible deadlock in ', 'url': 'http://tracker.example/issue?id=7'}],
])
def test_good_known_issues(value):
    assert passes(value)


@pytest.mark.parametrize('value', [
    'kernel panic',
    [{'title': 't'}],
    [{'title': 't', 'pattern': 'p', 'url': 'https://x'}],
    [{'url': 'https://x'}],
    [{'title': 't', 'url': 'javascript:alert(1)'}],
    [{'title': 't', 'url': 'https://x y'}],
    [{'title': 't', 'url': 'https://x', 'owner': 'me'}],
    ['https://x'],
])
def test_bad_known_issues(value):
    assert not passes(value)
