# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import time

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.fleet.kdump.tests.unit.module_runner import run_module

from ansible_collections.fleet.kdump.plugins.modules import sysrq_test

BOOT_ID = '3f1c2a9e-6a53-4c8e-9d0b-2b8e3f2a1c44'


def write(root, path, text):
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


@pytest.fixture
def root(tmp_path):
    """A host that is ready to crash: kdump-tools installed, enabled and loaded, 256 MiB reserved, idle."""
    write(tmp_path, 'etc/default/kdump-tools', 'USE_KDUMP=1\nKDUMP_COREDIR="/var/crash"\n')
    write(tmp_path, 'usr/sbin/kdump-config', '#!/bin/sh\n')
    write(tmp_path, 'usr/bin/makedumpfile', '')
    write(tmp_path, 'sys/kernel/kexec/crash_loaded', '1\n')
    write(tmp_path, 'sys/kernel/kexec/crash_size', '268435456\n')
    write(tmp_path, 'proc/cmdline', 'BOOT_IMAGE=/vmlinuz root=/dev/vda ro crashkernel=256M\n')
    write(tmp_path, 'proc/sys/kernel/osrelease', '6.1.0-28-amd64\n')
    write(tmp_path, 'proc/sys/kernel/random/boot_id', BOOT_ID + '\n')
    write(tmp_path, 'proc/loadavg', '0.50 0.40 0.30 1/123 4567\n')
    write(tmp_path, 'proc/cpuinfo', 'processor\t: 0\n\nprocessor\t: 1\n')
    write(tmp_path, 'proc/meminfo', 'MemTotal:        2000000 kB\n')
    write(tmp_path, 'proc/sysrq-trigger', '')
    (tmp_path / 'var/crash').mkdir(parents=True)
    return tmp_path


def run(capsys, args, check_mode=False):
    return run_module(capsys, sysrq_test.main, args, check_mode)


def checks(result):
    return {check['name']: check['ok'] for check in result['checks']}


@pytest.fixture
def popen(mocker):
    """run_command, which arms the crash, mocked: the tests using it must never arm."""
    return mocker.patch.object(AnsibleModule, 'run_command', return_value=(0, '', ''))


def test_preflight_passes_without_arming(capsys, root, popen):
    result = run(capsys, {'root': str(root)})
    assert result['exit_code'] == 0 and result['changed'] is False
    assert result['preflight_ok'] is True
    assert checks(result) == dict.fromkeys(
        ['kdump_enabled', 'capture_kernel_loaded', 'reservation_present', 'makedumpfile_installed', 'dump_target', 'crash_kind',
         'free_space', 'load_average', 'no_test_running'], True)
    assert result['boot_id'] == BOOT_ID and result['kernel_release'] == '6.1.0-28-amd64'
    assert 'nothing was triggered' in result['msg']
    assert 'trigger_time' not in result
    popen.assert_not_called()
    assert not (root / 'run').exists()


@pytest.mark.parametrize('path, text, failed', [
    ('etc/default/kdump-tools', 'USE_KDUMP=0\n', 'kdump_enabled'),
    ('sys/kernel/kexec/crash_loaded', '0\n', 'capture_kernel_loaded'),
    ('sys/kernel/kexec/crash_size', '0\n', 'reservation_present'),
    ('proc/loadavg', '2.50 1.00 1.00 1/1 1\n', 'load_average'),
    ('proc/loadavg', 'garbage\n', 'load_average'),
    ('etc/default/kdump-tools', 'USE_KDUMP=1\nKDUMP_COREDIR=/nonexistent\n', 'dump_target,free_space'),
    ('etc/default/kdump-tools', 'USE_KDUMP=1\nSSH=kdump@collector\n', 'dump_target'),
    ('run/fleet-kdump/sysrq_test.json', json.dumps({'boot_id': BOOT_ID, 'trigger_time_iso': 'x'}), 'no_test_running'),
])
def test_preflight_failures(capsys, root, popen, path, text, failed):
    write(root, path, text)
    result = run(capsys, {'root': str(root)})
    assert result['exit_code'] == 0 and result['changed'] is False
    assert result['preflight_ok'] is False
    assert [name for name, ok in checks(result).items() if not ok] == failed.split(',')
    refused = run(capsys, {'root': str(root), 'confirm': True})
    assert refused['exit_code'] == 1 and refused['failed'] is True
    assert refused['failed_checks'] == failed.split(',') and 'Refusing to crash' in refused['msg']
    assert all(name in refused['msg'] for name in failed.split(','))
    popen.assert_not_called()


def test_missing_makedumpfile_and_kdump_tools(capsys, root, popen):
    (root / 'usr/bin/makedumpfile').unlink()
    (root / 'usr/sbin/kdump-config').unlink()
    result = run(capsys, {'root': str(root)})
    failed = [name for name, ok in checks(result).items() if not ok]
    assert failed == ['kdump_enabled', 'makedumpfile_installed']
    assert 'not installed' in result['checks'][0]['detail']


def test_remote_targets_skip_free_space(capsys, root, popen):
    write(root, 'etc/default/kdump-tools', 'USE_KDUMP=1\nSSH=kdump@collector\nSSH_KEY=/root/.ssh/k\nNFS=nfs:/export\n')
    write(root, 'root/.ssh/k', 'key')
    result = run(capsys, {'root': str(root), 'min_free_bytes': '1E'})
    assert result['preflight_ok'] is True
    assert 'free_space' not in checks(result)
    assert 'SSH kdump@collector with key /root/.ssh/k' in result['checks'][4]['detail']


def test_free_space_threshold(capsys, root, popen):
    result = run(capsys, {'root': str(root), 'min_free_bytes': '1E'})
    assert checks(result)['free_space'] is False
    assert '%d needed' % (1 << 60) in [check for check in result['checks'] if check['name'] == 'free_space'][0]['detail']
    assert checks(run(capsys, {'root': str(root), 'min_free_bytes': '1K'}))['free_space'] is True


def test_default_max_load_is_cpu_count(capsys, root, popen):
    write(root, 'proc/loadavg', '1.99 1.00 1.00 1/1 1\n')
    assert checks(run(capsys, {'root': str(root)}))['load_average'] is True
    write(root, 'proc/loadavg', '2.01 1.00 1.00 1/1 1\n')
    assert checks(run(capsys, {'root': str(root)}))['load_average'] is False
    assert checks(run(capsys, {'root': str(root), 'max_load': 8}))['load_average'] is True


def test_state_file_from_previous_boot_is_ignored(capsys, root, popen):
    write(root, 'run/fleet-kdump/sysrq_test.json', json.dumps({'boot_id': 'other-boot'}))
    assert run(capsys, {'root': str(root)})['preflight_ok'] is True


def test_check_mode_never_arms(capsys, root, popen):
    result = run(capsys, {'root': str(root), 'confirm': True}, check_mode=True)
    assert result['changed'] is True and result['preflight_ok'] is True
    popen.assert_not_called()
    assert not (root / 'run').exists()
    write(root, 'sys/kernel/kexec/crash_size', '0\n')
    result = run(capsys, {'root': str(root), 'confirm': True}, check_mode=True)
    assert result['exit_code'] == 0 and result['changed'] is False and 'would be refused' in result['msg']


@pytest.mark.parametrize('args, message', [
    ({'delay': 0}, 'delay must be at least 1'),
    ({'max_load': 0}, 'max_load must be positive'),
    ({'min_free_bytes': -1}, "min_free_bytes=-1 is not a byte size (negative)"),
    ({'min_free_bytes': '20X'}, "min_free_bytes='20X' is not a byte size"),
])
def test_bad_options(capsys, root, popen, args, message):
    args['root'] = str(root)
    args['confirm'] = True
    result = run(capsys, args)
    assert result['failed'] is True and message in result['msg']
    popen.assert_not_called()


def test_confirm_arms_a_detached_crash(capsys, root):
    started = time.time()
    result = run(capsys, {'root': str(root), 'confirm': True, 'delay': 1})
    assert time.time() - started < 1, 'the module must not wait for the crash'
    assert result['exit_code'] == 0 and result['changed'] is True
    assert result['armed_after'] == 1 and result['boot_id'] == BOOT_ID
    assert started + 1 <= result['trigger_time'] <= time.time() + 1
    assert result['trigger_time_iso'].endswith('+00:00')
    state = json.loads((root / 'run/fleet-kdump/sysrq_test.json').read_text())
    assert state['boot_id'] == BOOT_ID and state['delay'] == 1 and state['trigger_time'] == result['trigger_time']
    trigger = root / 'proc/sysrq-trigger'
    assert trigger.read_text() == ''
    deadline = time.time() + 15
    while trigger.read_text() != 'c' and time.time() < deadline:
        time.sleep(0.1)
    assert trigger.read_text() == 'c'
    # The armed test now blocks a second one in the same boot.
    again = run(capsys, {'root': str(root)})
    assert checks(again)['no_test_running'] is False


def test_arm_command_is_detached(capsys, root, popen):
    result = run(capsys, {'root': str(root), 'confirm': True, 'delay': 7})
    assert result['changed'] is True
    args, kwargs = popen.call_args
    assert args[0][1] == '-f' and args[0][0].endswith('/setsid')
    assert args[0][3:] == ['-c', 'exec </dev/null >/dev/null 2>&1; sleep "$1"; sync; printf %s "$3" > "$2"', 'sysrq_test', '7',
                           str(root / 'proc/sysrq-trigger'), 'c']
    assert kwargs['cwd'] == '/'


def test_arm_failure_removes_state(capsys, root, popen):
    popen.return_value = (1, '', 'setsid: failed to execute sh')
    result = run(capsys, {'root': str(root), 'confirm': True})
    assert result['failed'] is True and result['stderr'] == 'setsid: failed to execute sh'
    assert not (root / 'run/fleet-kdump/sysrq_test.json').exists()


def test_loaded_check_explains(capsys, root, popen):
    write(root, 'sys/kernel/kexec/crash_loaded', '0\n')
    detail = run(capsys, {'root': str(root)})['checks'][1]['detail']
    assert detail.startswith('no capture kernel is loaded: ')
    (root / 'sys/kernel/kexec/crash_loaded').unlink()
    detail = run(capsys, {'root': str(root)})['checks'][1]['detail']
    assert 'no kexec support' in detail


def policy(root, **values):
    """The live panic policy of the host: kdump-tools' panic_on_oops=1 and the kernel's detector defaults, then `values`."""
    live = {'panic_on_oops': 1, 'panic_on_warn': 0, 'hung_task_panic': 0, 'softlockup_panic': 0, 'hung_task_timeout_secs': 120,
            'watchdog': 1, 'soft_watchdog': 1, 'watchdog_thresh': 10}
    live.update(values)
    for name, value in live.items():
        write(root, 'proc/sys/kernel/%s' % name, '%d\n' % value)


def crashkind(root, kinds='oops bug warn hung_task softlockup'):
    write(root, 'proc/fleet_crashkind', kinds + '\n')


def kind_check(result):
    return [check for check in result['checks'] if check['name'] == 'crash_kind'][0]


def test_sysrq_needs_no_policy(capsys, root, popen):
    result = run(capsys, {'root': str(root)})
    assert kind_check(result) == {'name': 'crash_kind', 'ok': True, 'detail': 'sysrq "c" panics the kernel whatever the policy'}
    assert result['kind'] == 'sysrq' and result['panic_within'] == 0 and result['dmesg_marker'] == 'sysrq ?: ?Trigger a crash'


def test_kind_needs_the_module(capsys, root, popen):
    policy(root)
    result = run(capsys, {'root': str(root), 'kind': 'oops', 'confirm': True})
    assert result['failed'] is True and result['failed_checks'] == ['crash_kind']
    assert 'the fleet_crashkind test module is not loaded (no /proc/fleet_crashkind)' in result['msg']
    assert 'tasks_from: crashkind' in result['msg']
    popen.assert_not_called()
    crashkind(root, 'oops bug')
    detail = kind_check(run(capsys, {'root': str(root), 'kind': 'warn'}))['detail']
    assert detail.startswith('the loaded fleet_crashkind module offers oops bug, not warn')


@pytest.mark.parametrize('kind, values, detail', [
    ('warn', {}, 'kernel.panic_on_warn=0: a WARN() is reported and the host carries on without a dump (set kdump_panic_on_warn: '
     'true in the fleet.kdump.kdump role)'),
    ('hung_task', {}, 'kernel.hung_task_panic=0: a hung task is reported and the host carries on without a dump (set '
     'kdump_hung_task_panic: true in the fleet.kdump.kdump role)'),
    ('softlockup', {'softlockup_panic': 1, 'soft_watchdog': 0}, 'kernel.softlockup_panic=1 but its detector is off '
     '(kernel.watchdog=1, kernel.soft_watchdog=0), so a soft lockup is never reported'),
    ('oops', {'panic_on_oops': 0}, 'kernel.panic_on_oops=0: an oops is reported and the host carries on without a dump '
     '(kdump-tools sets it to 1 whenever it loads the capture kernel, so something set it back to 0 since)'),
    ('hung_task', {'hung_task_panic': 1, 'hung_task_timeout_secs': 3600}, 'a hung_task would have to last 7230 s to be detected '
     'on this host, more than the 7200 s the test module allows'),
])
def test_kind_refused_without_its_policy(capsys, root, popen, kind, values, detail):
    policy(root, **values)
    crashkind(root)
    result = run(capsys, {'root': str(root), 'kind': kind, 'confirm': True})
    assert result['failed'] is True and result['failed_checks'] == ['crash_kind']
    assert kind_check(result)['detail'] == detail
    popen.assert_not_called()


@pytest.mark.parametrize('kind, values, text, within', [
    ('oops', {}, 'oops', 0),
    ('bug', {}, 'bug', 0),
    ('warn', {'panic_on_warn': 1}, 'warn', 0),
    ('hung_task', {'hung_task_panic': 1}, 'hung_task 270', 270),
    ('hung_task', {'hung_task_panic': 1, 'hung_task_timeout_secs': 30}, 'hung_task 90', 90),
    ('softlockup', {'softlockup_panic': 1}, 'softlockup 38', 38),
])
def test_kind_armed_with_its_policy(capsys, root, popen, kind, values, text, within):
    policy(root, **values)
    crashkind(root)
    result = run(capsys, {'root': str(root), 'kind': kind, 'confirm': True, 'delay': 3})
    assert result['changed'] is True and result['preflight_ok'] is True
    assert result['kind'] == kind and result['panic_within'] == within
    assert result['dmesg_marker'] == 'fleet_crashkind: %s requested' % kind
    assert ('within %d more seconds' % within in result['msg']) == bool(within)
    args = popen.call_args[0][0]
    assert args[-3:] == ['3', str(root / 'proc/fleet_crashkind'), text]
    assert json.loads((root / 'run/fleet-kdump/sysrq_test.json').read_text())['kind'] == kind


def test_kind_is_checked(capsys, root, popen):
    result = run(capsys, {'root': str(root), 'kind': 'panic', 'confirm': True})
    assert result['failed'] is True and 'kind' in result['msg']
    popen.assert_not_called()


def test_kind_really_written(capsys, root):
    """The detached writer puts exactly the kind's text into the module's file."""
    policy(root, hung_task_panic=1)
    crashkind(root)
    run(capsys, {'root': str(root), 'kind': 'hung_task', 'confirm': True, 'delay': 1})
    trigger = root / 'proc/fleet_crashkind'
    deadline = time.time() + 15
    while trigger.read_text() != 'hung_task 270' and time.time() < deadline:
        time.sleep(0.1)
    assert trigger.read_text() == 'hung_task 270'
