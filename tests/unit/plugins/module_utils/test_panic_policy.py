# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest
import yaml
from hypothesis import given, strategies as st

from ansible_collections.fleet.kdump.plugins.module_utils import _panic_policy as pp

ROLE_VARS = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'kdump', 'vars', 'main.yml')
# A Debian 12 guest with kdump loaded and the role's default policy (values read in the VM lab).
LIVE = {'kernel.panic': 10, 'kernel.panic_on_oops': 1, 'kernel.panic_on_warn': 0, 'kernel.hung_task_panic': 0,
        'kernel.softlockup_panic': 0, 'kernel.hardlockup_panic': 0, 'kernel.unknown_nmi_panic': 0,
        'kernel.panic_on_io_nmi': 0, 'kernel.panic_on_unrecovered_nmi': 1, 'kernel.hung_task_timeout_secs': 120,
        'kernel.watchdog': 1, 'kernel.soft_watchdog': 1, 'kernel.nmi_watchdog': 0, 'kernel.watchdog_thresh': 10}
DEFAULT_POLICY = '\n'.join('%s=%d' % (key, LIVE[key]) for key in pp.POLICY_KEYS) + '\n'
KVER = '6.1.0-50-amd64'


def write(root, path, text):
    target = root / path.lstrip('/')
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


@pytest.fixture
def host(tmp_path):
    """A host where the role set its default policy and nothing else disagrees."""
    for key, value in LIVE.items():
        write(tmp_path, pp.proc_path(key), '%d\n' % value)
    write(tmp_path, pp.ROLE_FILE, DEFAULT_POLICY)
    write(tmp_path, '/usr/lib/sysctl.d/50-default.conf', 'kernel.sysrq = 0x01b6\nkernel.core_uses_pid = 1\n')
    write(tmp_path, '/etc/sysctl.conf', '#kernel.panic = 0\n')
    os.symlink('../sysctl.conf', str(tmp_path / 'etc/sysctl.d/99-sysctl.conf'))
    capture = 'vm.nr_hugepages=0\nvm.nr_hugepages_mempolicy=0\n'
    write(tmp_path, pp.CAPTURE_FILE, capture)
    write(tmp_path, pp.LATEST_SYSCTLS % KVER, capture)
    return tmp_path


def test_role_file_is_the_roles_own():
    with open(ROLE_VARS) as handle:
        assert yaml.safe_load(handle)['__kdump_panic_file'] == pp.ROLE_FILE


def test_consistent_host(host):
    policy, problems = pp.read_panic_policy(str(host), KVER)
    assert problems == []
    assert policy['live'] == LIVE
    assert policy['managed'] == policy['boot'] == dict((key, LIVE[key]) for key in pp.POLICY_KEYS)
    assert policy['capture'] == {} and policy['capture_initrd_current'] is True
    assert policy['panics_on'] == ['oops', 'unknown_nmi', 'unrecovered_nmi']
    assert policy['drift'] == []


def test_no_role_policy(tmp_path):
    policy, problems = pp.read_panic_policy(str(tmp_path), None)
    assert policy['managed'] is None and policy['drift'] == [] and problems == []
    assert set(policy['live'].values()) == {None} and set(policy['boot'].values()) == {None}
    assert policy['panics_on'] == [] and policy['capture_initrd_current'] is None


@pytest.mark.parametrize('path, text, live, boot, problem', [
    (pp.proc_path('kernel.panic'), '0\n', 0, 10, 'kernel.panic is 0 but the fleet.kdump panic policy (%s) sets 10: it was changed at '
     'run time; run the fleet.kdump.kdump role again' % pp.ROLE_FILE),
    ('/etc/sysctl.conf', 'kernel.panic = 0\n', 10, 0, '/etc/sysctl.d/99-sysctl.conf sets kernel.panic=0 after %s: the next boot '
     'does not apply the panic policy' % pp.ROLE_FILE),
])
def test_drift(host, path, text, live, boot, problem):
    write(host, path, text)
    policy, problems = pp.read_panic_policy(str(host), KVER)
    assert (policy['live']['kernel.panic'], policy['boot']['kernel.panic']) == (live, boot)
    assert policy['drift'] == ['kernel.panic'] and problems == [problem]


def test_an_earlier_file_does_not(host):
    write(host, '/etc/sysctl.d/10-local.conf', 'kernel.panic = 0\nkernel.panic_on_warn=1\n')
    policy, problems = pp.read_panic_policy(str(host), KVER)
    assert policy['boot']['kernel.panic'] == 10 and policy['drift'] == [] and problems == []


def test_sysctl_d_precedence(host):
    # /etc hides the same name in /usr/lib; /dev/null masks; names sort across directories.
    write(host, '/usr/lib/sysctl.d/95-vendor.conf', 'kernel.panic_on_warn = 1\n')
    os.symlink('/dev/null', str(host / 'etc/sysctl.d/95-vendor.conf'))
    write(host, '/run/sysctl.d/96-run.conf', 'kernel/hung_task_panic = 1\n')
    write(host, '/usr/lib/sysctl.d/97-glob.conf', 'kernel.*lockup_panic = 1\n-kernel.softlockup_panic = 0\n')
    assert pp.sysctl_files(str(host)) == ['/usr/lib/sysctl.d/50-default.conf', pp.ROLE_FILE, '/run/sysctl.d/96-run.conf',
                                          '/usr/lib/sysctl.d/97-glob.conf', '/etc/sysctl.d/99-sysctl.conf']
    boot, sources = pp.read_boot(str(host))
    assert boot['kernel.panic_on_warn'] == 0
    assert boot['kernel.hung_task_panic'] == 1 and sources['kernel.hung_task_panic'] == '/run/sysctl.d/96-run.conf'
    # An explicit name beats a glob wherever it comes (systemd-sysctl).
    assert boot['kernel.softlockup_panic'] == 0 and boot['kernel.hardlockup_panic'] == 1


def test_symlinks_stay_under_root(host, tmp_path_factory):
    outside = tmp_path_factory.mktemp('outside') / 'evil.conf'
    outside.write_text('kernel.panic = 0\n')
    os.symlink(str(outside), str(host / 'etc/sysctl.d/98-abs.conf'))
    boot, _sources = pp.read_boot(str(host))
    assert boot['kernel.panic'] == 10
    loop = host / 'etc/sysctl.d/97-loop.conf'
    os.symlink('97-loop.conf', str(loop))
    assert '/etc/sysctl.d/97-loop.conf' not in pp.sysctl_files(str(host))


def test_optional_triggers_need_capture_overrides(host):
    write(host, pp.ROLE_FILE, DEFAULT_POLICY.replace('kernel.hung_task_panic=0', 'kernel.hung_task_panic=1'))
    write(host, pp.proc_path('kernel.hung_task_panic'), '1\n')
    policy, problems = pp.read_panic_policy(str(host), KVER)
    assert 'hung_task' in policy['panics_on']
    assert problems == ['kernel.hung_task_panic=1 also applies in the capture kernel, which reads /etc/sysctl.d from the root '
                        'file system: set kernel.hung_task_panic=0 in /etc/kdump/sysctl.conf so that it cannot end the dump '
                        'being saved']
    write(host, pp.CAPTURE_FILE, 'vm.nr_hugepages=0\nkernel.hung_task_panic=0\n')
    policy, problems = pp.read_panic_policy(str(host), KVER)
    assert policy['capture'] == {'kernel.hung_task_panic': 0}
    assert policy['capture_initrd_current'] is False and problems == []
    # Only a loaded capture kernel carries an initrd that can be stale.
    policy, problems = pp.read_panic_policy(str(host), KVER, loaded=True)
    assert problems == ['/etc/kdump/sysctl.conf changed after the kdump initrd was built (/var/lib/kdump/latest_sysctls-%s): '
                        'the capture kernel applies the old values until kdump-config reload' % KVER]


@pytest.mark.parametrize('changes, classes', [
    ({}, ['oops', 'unknown_nmi', 'unrecovered_nmi']),
    ({'kernel.panic_on_oops': 0, 'kernel.panic_on_unrecovered_nmi': 0}, []),
    ({'kernel.panic_on_unrecovered_nmi': 0, 'kernel.unknown_nmi_panic': 1}, ['oops', 'unknown_nmi']),
    ({'kernel.hung_task_panic': 1}, ['oops', 'hung_task', 'unknown_nmi', 'unrecovered_nmi']),
    ({'kernel.hung_task_panic': 1, 'kernel.hung_task_timeout_secs': 0}, ['oops', 'unknown_nmi', 'unrecovered_nmi']),
    ({'kernel.softlockup_panic': 1, 'kernel.hardlockup_panic': 1}, ['oops', 'softlockup', 'unknown_nmi', 'unrecovered_nmi']),
    ({'kernel.softlockup_panic': 1, 'kernel.watchdog': 0}, ['oops', 'unknown_nmi', 'unrecovered_nmi']),
    ({'kernel.hardlockup_panic': 1, 'kernel.nmi_watchdog': 1, 'kernel.panic_on_io_nmi': 1, 'kernel.panic_on_warn': 1},
     ['oops', 'warn', 'hardlockup', 'unknown_nmi', 'unrecovered_nmi', 'io_nmi']),
])
def test_panics_on(changes, classes):
    assert pp.panics_on(dict(LIVE, **changes)) == classes


@pytest.mark.parametrize('kind, changes, panics, detail', [
    ('sysrq', {'kernel.panic_on_oops': 0}, True, 'sysrq "c" panics the kernel whatever the policy'),
    ('oops', {}, True, 'kernel.panic_on_oops=1: an oops ends in a panic'),
    ('bug', {'kernel.panic_on_oops': 0}, False, 'kernel.panic_on_oops=0: a BUG() is reported and the host carries on without a dump '
     '(kdump-tools sets it to 1 whenever it loads the capture kernel, so something set it back to 0 since)'),
    ('warn', {}, False, 'kernel.panic_on_warn=0: a WARN() is reported and the host carries on without a dump '
     '(set kdump_panic_on_warn: true in the fleet.kdump.kdump role)'),
    ('warn', {'kernel.panic_on_warn': 1}, True, 'kernel.panic_on_warn=1: a WARN() ends in a panic'),
    ('hung_task', {'kernel.hung_task_panic': 1, 'kernel.hung_task_timeout_secs': 0}, False,
     'kernel.hung_task_panic=1 but its detector is off (kernel.hung_task_timeout_secs=0), so a hung task is never reported'),
    ('softlockup', {'kernel.softlockup_panic': None}, False, 'this kernel has no kernel.softlockup_panic, so a soft lockup '
     'cannot panic it'),
])
def test_kind_panics(kind, changes, panics, detail):
    assert pp.kind_panics(kind, dict(LIVE, **changes)) == (panics, detail)


def test_kind_seconds():
    assert pp.kind_seconds('oops', LIVE) is None
    assert pp.kind_seconds('hung_task', LIVE) == 270
    assert pp.kind_seconds('hung_task', dict(LIVE, **{'kernel.hung_task_timeout_secs': None})) == 270
    assert pp.kind_seconds('hung_task', dict(LIVE, **{'kernel.hung_task_timeout_secs': 30})) == 90
    assert pp.kind_seconds('softlockup', LIVE) == 38
    assert pp.kind_seconds('softlockup', dict(LIVE, **{'kernel.watchdog_thresh': 60})) == 178


def test_role_variables():
    assert [pp.role_variable(key) for key in pp.POLICY_KEYS] == [
        'kdump_panic_timeout', None, 'kdump_panic_on_warn', 'kdump_hung_task_panic', 'kdump_softlockup_panic',
        'kdump_hardlockup_panic', 'kdump_unknown_nmi_panic', 'kdump_panic_on_io_nmi', 'kdump_panic_on_unrecovered_nmi']


@pytest.mark.parametrize('text, values', [
    ('kernel.panic=10\n', {'kernel.panic': 10}),
    ('  kernel.panic =  -1  \n', {'kernel.panic': -1}),
    ('# kernel.panic=1\n; kernel.panic=2\n', {}),
    ('kernel.panic=10\nkernel.panic=20\n', {'kernel.panic': 20}),
    ('kernel.panic = ten\n', {'kernel.panic': None}),
    ('kernel.panic = 99999999999999999999\n', {'kernel.panic': None}),
    ('kernel.panic\n', {}),
    ('kernel.panics = 1\nkernel.panic_on_oops.x = 1\n', {}),
    ('kernel.panic_on_*=1\n', {'kernel.panic_on_oops': 1, 'kernel.panic_on_warn': 1, 'kernel.panic_on_io_nmi': 1,
                               'kernel.panic_on_unrecovered_nmi': 1}),
])
def test_policy_values(text, values):
    assert pp.policy_values(pp.parse_sysctl_conf(text)) == values


@given(st.text())
def test_parser_never_fails_and_reads_only_policy_keys(text):
    values = pp.policy_values(pp.parse_sysctl_conf(text))
    assert set(values) <= set(pp.POLICY_KEYS)
    assert all(value is None or -10 ** 19 < value < 10 ** 19 for value in values.values())


@given(st.dictionaries(st.sampled_from(pp.POLICY_KEYS), st.integers(-2 ** 31, 2 ** 31 - 1)),
       st.lists(st.sampled_from(['# comment', '', 'vm.swappiness = 10', 'net/ipv4/ip_forward=1'])))
def test_written_values_read_back(values, noise):
    lines = noise + ['%s = %d' % item for item in values.items()]
    assert pp.policy_values(pp.parse_sysctl_conf('\n'.join(lines))) == values
