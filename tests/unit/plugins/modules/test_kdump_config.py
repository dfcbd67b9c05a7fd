# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.fleet.kdump.tests.unit.module_runner import run_module

from ansible_collections.fleet.kdump.plugins.modules import kdump_config

BASE = '# kdump-tools configuration\nUSE_KDUMP=1\nKDUMP_COREDIR="/var/crash"\n#KDUMP_COMPRESSION=\n#SSH="<user at server>"\n'
SHOW_READY = 'DUMP_MODE:\t\tkdump\nUSE_KDUMP:\t\t1\ncurrent state:    ready to kdump\n\nkexec command:\n  /sbin/kexec -p x\n'
SHOW_NOT_READY = 'DUMP_MODE:\t\tkdump\nUSE_KDUMP:\t\t0\ncurrent state:    Not ready to kdump\n\nkexec command:\n  no kexec command recorded\n'


@pytest.fixture
def root(tmp_path):
    (tmp_path / 'etc/default').mkdir(parents=True)
    (tmp_path / 'etc/default/kdump-tools').write_text(BASE)
    (tmp_path / 'sys/kernel/kexec').mkdir(parents=True)
    return tmp_path


def conf(root):
    return (root / 'etc/default/kdump-tools').read_text()


def run(capsys, args, check_mode=False, diff=False):
    return run_module(capsys, kdump_config.main, args, check_mode, diff)


def set_loaded(root, value):
    (root / 'sys/kernel/kexec/crash_loaded').write_text('%d\n' % value)


@pytest.fixture
def kdump_tools(mocker, root):
    """A fake kdump-config whose load/reload/unload flip the fixture sysfs like the real one (the shells of the proof are real)."""
    calls = []
    real_run_command = AnsibleModule.run_command

    def run_command(self, args, **kwargs):
        if args[0] != '/usr/sbin/kdump-config':
            return real_run_command(self, args, **kwargs)
        calls.append(args[1:])
        assert kwargs['environ_update']['LC_ALL'] == 'C'
        action = args[1]
        if action in ('load', 'reload'):
            set_loaded(root, 1)
        elif action == 'unload':
            set_loaded(root, 0)
        loaded = (root / 'sys/kernel/kexec/crash_loaded').read_text().strip() == '1'
        return 0, SHOW_READY if loaded else SHOW_NOT_READY, ''

    real_get_bin_path = AnsibleModule.get_bin_path

    def get_bin_path(self, name, *args, **kwargs):
        return '/usr/sbin/kdump-config' if name == 'kdump-config' else real_get_bin_path(self, name, *args, **kwargs)

    mocker.patch.object(AnsibleModule, 'get_bin_path', get_bin_path)
    mocker.patch.object(AnsibleModule, 'run_command', run_command)
    return calls


def test_sets_values_and_is_idempotent(capsys, root):
    args = {'root': str(root), 'settings': {'KDUMP_COMPRESSION': 'xz', 'SSH': 'kdump@collector', 'USE_KDUMP': True}}
    result = run(capsys, dict(args))
    assert result['exit_code'] == 0 and result['changed'] is True
    assert result['changed_keys'] == ['KDUMP_COMPRESSION', 'SSH']
    assert result['settings'] == {'USE_KDUMP': '1', 'KDUMP_COREDIR': '/var/crash', 'KDUMP_COMPRESSION': 'xz', 'SSH': 'kdump@collector'}
    assert result['reloaded'] is False and 'kdump_show' not in result
    assert conf(root) == BASE.replace('#KDUMP_COMPRESSION=\n', '#KDUMP_COMPRESSION=\nKDUMP_COMPRESSION="xz"\n') + 'SSH="kdump@collector"\n'
    again = run(capsys, dict(args))
    assert again['changed'] is False and again['changed_keys'] == []


def test_remove_key(capsys, root):
    result = run(capsys, {'root': str(root), 'settings': {'KDUMP_COREDIR': None}})
    assert result['changed'] is True and result['changed_keys'] == ['KDUMP_COREDIR']
    assert 'KDUMP_COREDIR' not in conf(root)
    assert '#KDUMP_COMPRESSION=' in conf(root)


def test_check_mode_and_diff_write_nothing(capsys, root):
    result = run(capsys, {'root': str(root), 'settings': {'USE_KDUMP': 0, 'FTP_PASSWORD': 'hunter2'}}, check_mode=True, diff=True)
    assert result['changed'] is True
    assert conf(root) == BASE
    diff = result['diff']
    assert diff['before'] == BASE
    assert 'USE_KDUMP="0"\n' in diff['after'] and 'USE_KDUMP=1' not in diff['after']
    assert diff['before_header'] == diff['after_header'] == '%s (content)' % (root / 'etc/default/kdump-tools')
    assert 'hunter2' not in json.dumps(result)
    assert result['settings']['FTP_PASSWORD'] == '********'


def test_backup(capsys, root):
    result = run(capsys, {'root': str(root), 'settings': {'HOSTTAG': 'hostname'}, 'backup': True})
    assert result['changed'] is True
    with open(result['backup_file']) as handle:
        assert handle.read() == BASE
    unchanged = run(capsys, {'root': str(root), 'settings': {'HOSTTAG': 'hostname'}, 'backup': True})
    assert 'backup_file' not in unchanged


def test_bad_value_leaves_file_untouched(capsys, root):
    before = (root / 'etc/default/kdump-tools').read_bytes()
    result = run(capsys, {'root': str(root), 'settings': {'KDUMP_COMPRESSION': 'xz', 'NFS': 'server', 'USE_KDUMP': 'yes'}})
    assert result['exit_code'] == 1 and result['failed'] is True
    assert "NFS: invalid value 'server'; expected host:/absolute/export/path" in result['msg']
    assert "USE_KDUMP: invalid value 'yes'; expected one of 0, 1" in result['msg']
    assert (root / 'etc/default/kdump-tools').read_bytes() == before


def test_creates_missing_file_0644(capsys, root):
    os.unlink(str(root / 'etc/default/kdump-tools'))
    old_umask = os.umask(0o002)
    try:
        result = run(capsys, {'root': str(root), 'settings': {'USE_KDUMP': 1}})
    finally:
        os.umask(old_umask)
    assert result['changed'] is True
    assert conf(root) == 'USE_KDUMP="1"\n'
    assert stat.S_IMODE(os.stat(str(root / 'etc/default/kdump-tools')).st_mode) == 0o644


@pytest.mark.parametrize('check_mode', [False, True])
def test_missing_directory_fails(capsys, tmp_path, check_mode):
    result = run(capsys, {'root': str(tmp_path), 'settings': {'USE_KDUMP': 1}}, check_mode=check_mode)
    assert result['failed'] is True and 'does not exist' in result['msg']


def test_reload_when_loaded_and_load_time_key_changes(capsys, root, kdump_tools):
    set_loaded(root, 1)
    result = run(capsys, {'root': str(root), 'reload': True,
                          'settings': {'KDUMP_CMDLINE_APPEND': 'reset_devices systemd.unit=kdump-tools-dump.service nr_cpus=1'}})
    assert kdump_tools == [['reload'], ['show']]
    assert result['reloaded'] is True and result['reload_action'] == 'reload'
    assert result['kdump_show']['ready'] is True and result['kdump_show']['current_state'] == 'ready to kdump'


def test_no_reload_for_dump_time_key(capsys, root, kdump_tools):
    set_loaded(root, 1)
    result = run(capsys, {'root': str(root), 'reload': True, 'settings': {'KDUMP_COMPRESSION': 'lz4'}})
    assert kdump_tools == [['show']]
    assert result['changed'] is True and result['reloaded'] is False and result['reload_action'] == 'none'
    assert result['kdump_show']['USE_KDUMP'] == '1'


def test_load_when_enabled_and_unloaded(capsys, root, kdump_tools):
    set_loaded(root, 0)
    result = run(capsys, {'root': str(root), 'reload': True, 'settings': {}})
    assert kdump_tools == [['load'], ['show']]
    assert result['changed'] is True and result['reload_action'] == 'load'
    again = run(capsys, {'root': str(root), 'reload': True, 'settings': {}})
    assert again['changed'] is False and again['reloaded'] is False


def test_unload_when_disabled(capsys, root, kdump_tools):
    set_loaded(root, 1)
    result = run(capsys, {'root': str(root), 'reload': True, 'settings': {'USE_KDUMP': False}})
    assert kdump_tools == [['unload'], ['show']]
    assert result['reload_action'] == 'unload' and result['kdump_show']['ready'] is False
    assert 'USE_KDUMP="0"' in conf(root)


def test_check_mode_runs_no_command(capsys, root, kdump_tools):
    set_loaded(root, 1)
    result = run(capsys, {'root': str(root), 'reload': True, 'settings': {'USE_KDUMP': 0}}, check_mode=True)
    assert kdump_tools == []
    assert result['changed'] is True and result['reload_action'] == 'unload' and 'kdump_show' not in result
    assert conf(root) == BASE


def test_failed_load_is_detected_from_sysfs(capsys, root, mocker):
    set_loaded(root, 0)
    mocker.patch.object(AnsibleModule, 'get_bin_path', return_value='/usr/sbin/kdump-config')
    mocker.patch.object(AnsibleModule, 'run_command', return_value=(0, 'failed to load kdump kernel ... failed!', ''))
    result = run(capsys, {'root': str(root), 'reload': True, 'settings': {}})
    assert result['failed'] is True
    assert result['msg'] == 'kdump-config load did not leave a capture kernel loaded'
    assert result['rc'] == 0 and 'failed to load' in result['stdout']


def test_reload_without_kdump_config(capsys, root, mocker):
    set_loaded(root, 0)
    mocker.patch.object(AnsibleModule, 'get_bin_path', return_value=None)
    result = run(capsys, {'root': str(root), 'reload': True, 'settings': {}})
    assert result['failed'] is True and 'not installed' in result['msg']


def test_foreign_bytes_and_crlf_survive(capsys, root):
    original = b'# caf\xe9 latin-1 comment\r\nUSE_KDUMP=1\n'
    (root / 'etc/default/kdump-tools').write_bytes(original)
    result = run(capsys, {'root': str(root), 'settings': {'HOSTTAG': 'ip'}}, diff=True)
    assert result['changed'] is True
    assert (root / 'etc/default/kdump-tools').read_bytes() == original + b'HOSTTAG="ip"\n'
    assert result['diff']['before'] == '# caf\ufffd latin-1 comment\r\nUSE_KDUMP=1\n'


def test_a_directory_is_refused(capsys, root):
    (root / 'etc/default/kdump-tools').unlink()
    (root / 'etc/default/kdump-tools').mkdir()
    result = run(capsys, {'root': str(root), 'settings': {'HOSTTAG': 'ip'}})
    assert result['failed'] is True and 'is not a regular file' in result['msg'] and 'left untouched' in result['msg']
