# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() as Ansible would, for unit tests."""
from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args


def run_module(capsys, main, args, check_mode=False, diff=False):
    """Return the module's JSON result, with its exit code added as 'exit_code'."""
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        main()
    result = json.loads(capsys.readouterr().out)
    result['exit_code'] = exc.value.code
    return result
