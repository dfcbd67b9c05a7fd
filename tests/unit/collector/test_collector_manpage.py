# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kdump-collector.1 is generated from the command line (scripts/gen-man-page.py) and committed: it must be fresh."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import shutil
import subprocess

import pytest

from collector_helpers import HERE, run
from kdump_collector import __version__, cli, config

ROOT = os.path.normpath(os.path.join(HERE, '..', '..', '..'))


@pytest.fixture(scope='module')
def gen():
    path = os.path.join(ROOT, 'scripts', 'gen-man-page.py')
    loader = importlib.machinery.SourceFileLoader('gen_man_page', path)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader('gen_man_page', loader))
    loader.exec_module(module)
    return module


def test_committed_page_is_fresh(gen):
    with open(gen.OUTPUT, encoding='utf-8') as handle:
        assert handle.read() == gen.render(), 'run scripts/gen-man-page.py'
    assert gen.main(['--check']) == 0


def test_every_command_option_and_setting_documented(gen):
    page = gen.render()
    commands = cli.build_parser()._subparsers._group_actions[0].choices  # pylint: disable=protected-access
    for name, cmd in commands.items():
        assert '.SS %s' % name.replace('-', '\\-') in page
        for action in cmd._actions:  # pylint: disable=protected-access
            for flag in action.option_strings:
                if flag not in ('-h', '--help'):
                    assert '\\fB%s\\fR' % flag.replace('-', '\\-') in page, (name, flag)
    for key, _text in config.describe():
        assert '\\fB%s\\fR' % key.replace('-', '\\-') in page
    assert '"kdump\\-collector %s"' % __version__ in page


@pytest.mark.skipif(shutil.which('groff') is None, reason='groff is not installed')
def test_page_renders_without_warnings(gen):
    result = subprocess.run(['groff', '-man', '-Tutf8', '-ww', '-z', gen.OUTPUT], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stderr == ''


def test_version():
    result = run('--version')
    assert result.returncode == 0 and result.stdout.decode() == 'kdump-collector %s\n' % __version__
