# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Role variables are data and filter pipelines: loops and conditions belong in plugins, where they are tested."""

from __future__ import annotations

import glob
import os

import pytest

from ansible_collections.fleet.kdump.tests.unit.playbooks.playbook_helpers import ROOT

VARS_FILES = sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'vars', '*.yml')))


@pytest.mark.parametrize('path', VARS_FILES, ids=lambda path: os.path.relpath(path, ROOT))
def test_no_jinja_statements_in_role_vars(path):
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    assert '{%' not in text, '%s holds a Jinja program: make it a filter plugin' % os.path.relpath(path, ROOT)


def test_there_are_role_vars():
    assert len(VARS_FILES) >= 2
