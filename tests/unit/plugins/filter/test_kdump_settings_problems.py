# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.fleet.kdump.plugins.filter.kdump_settings_problems import FilterModule
from ansible_collections.fleet.kdump.plugins.module_utils._kdump_config import validate_settings

problems = FilterModule().filters()['kdump_settings_problems']

# What the kdump role resolves its defaults to, for an SSH target.
ROLE_SETTINGS = {
    'USE_KDUMP': 1, 'KDUMP_COREDIR': '/var/crash', 'KDUMP_COMPRESSION': None, 'KDUMP_NUM_DUMPS': None, 'MAKEDUMP_ARGS': None,
    'KDUMP_CMDLINE_APPEND': None, 'KDUMP_FAIL_CMD': None, 'SSH': 'kdump@collector', 'SSH_KEY': '/root/.ssh/kdump_id_ed25519',
    'HOSTTAG': 'hostname', 'NFS': None, 'NFS_TIMEO': None, 'NFS_RETRANS': None, 'FTP': None,
}


def test_the_role_defaults_are_accepted():
    assert problems(ROLE_SETTINGS) == []


@pytest.mark.parametrize('change, message', [
    ({'KDUMP_COMPRESSION': 'zip'}, "KDUMP_COMPRESSION: invalid value 'zip'; expected one of bzip2, gzip, lz4, xz"),
    ({'KDUMP_CMDLINE_APPEND': 'nr_cpus=1'}, 'keep systemd.unit=kdump-tools-dump.service'),
    ({'KDUMP_CMDLINE_APPEND': 'systemd.unit=kdump-tools-dump.service $(reboot)'}, 'found $ ( )'),
    ({'SSH': 'kdump@'}, 'SSH: invalid value'),
    ({'lower': '1'}, "'lower': invalid variable name"),
    ({'FTP_PASSWORD': 'two words'}, "FTP_PASSWORD: invalid value '********'"),
])
def test_kdump_configs_own_messages(change, message):
    found = problems(dict(ROLE_SETTINGS, **change))
    assert len(found) == 1 and message in found[0]
    assert found == validate_settings(dict(ROLE_SETTINGS, **change))[1]


@pytest.mark.parametrize('bad', [None, 'USE_KDUMP=1', ['USE_KDUMP']])
def test_bad_input(bad):
    with pytest.raises(AnsibleFilterError, match='kdump_settings_problems'):
        problems(bad)
