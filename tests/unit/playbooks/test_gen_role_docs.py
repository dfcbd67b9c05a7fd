# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/gen-role-docs.py: every role variable of every entry point ends up in docs/role-variables.md."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os

import pytest
import yaml

from playbook_helpers import ROOT


@pytest.fixture(scope='module')
def gen():
    loader = importlib.machinery.SourceFileLoader('gen_role_docs', os.path.join(ROOT, 'scripts', 'gen-role-docs.py'))
    spec = importlib.util.spec_from_loader('gen_role_docs', loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_every_option_documented(gen):
    text = gen.render()
    for role in os.listdir(os.path.join(ROOT, 'roles')):
        path = os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')
        if not os.path.isfile(path):
            continue
        with open(path, encoding='utf-8') as handle:
            specs = yaml.safe_load(handle)['argument_specs']
        assert '## Role `fleet.kdump.%s`' % role in text
        for spec in specs.values():
            for option in spec.get('options') or {}:
                assert '| `%s` |' % option in text


@pytest.mark.parametrize('source, markdown', [
    ('Set O(kdump_target=ssh) and V(true); see M(fleet.kdump.sysrq_test).', 'Set `kdump_target=ssh` and `true`; see `fleet.kdump.sysrq_test`.'),
    ('C(a|b) I(x) B(y) U(https://x.invalid) L(t, https://y.invalid)', '`a\\|b` *x* **y** <https://x.invalid> [t](https://y.invalid)'),
    ('C(crashkernel=384M-:128M) and C(f(x))', '`crashkernel=384M-:128M` and `f(x)`'),
])
def test_markup(gen, source, markdown):
    assert gen.markup(source) == markdown


def test_defaults_and_types(gen):
    assert gen.default_text({'default': None}) == '`null`'
    assert gen.default_text({'required': True}) == 'required'
    assert gen.type_text({'type': 'list', 'elements': 'str'}) == 'list of str'
    assert gen.type_text({'type': 'str', 'choices': ['a', 'b']}) == 'str: `a`, `b`'
