# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Preflight and arming of a deliberate kernel crash to test kdump: sysrq "c" (echo c > /proc/sysrq-trigger),
or one of the failures of the collection's fleet_crashkind test module (an oops, BUG(), WARN(), a hung task, a soft
lockup), which end in a panic only when the host's panic policy says so.

The crash is armed in a detached session (sleep, sync, write the trigger) so that the module can
return its result before the machine goes down. kernel.sysrq is never touched: it only gates the
keyboard, root may always write /proc/sysrq-trigger.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
import time

from ansible_collections.fleet.kdump.plugins.module_utils._host_files import HostFiles, OutsideRoot, real_path
from ansible_collections.fleet.kdump.plugins.module_utils._host_state import gather, read_text, use_kdump
from ansible_collections.fleet.kdump.plugins.module_utils._panic_policy import KIND_CLASS, kind_panics, kind_seconds, read_live

STATE_FILE = '/run/fleet-kdump/sysrq_test.json'
TRIGGER = '/proc/sysrq-trigger'
# The test module's file (roles/kdump/files/fleet_crashkind): reading it lists its kinds, writing "<kind> [seconds]" triggers one.
CRASHKIND_TRIGGER = '/proc/fleet_crashkind'
KINDS = ('sysrq',) + tuple(kind for kind, _klass in KIND_CLASS)
# The longest a lasting failure may be held, as the module enforces it.
KIND_MAX_SECONDS = {'hung_task': 7200, 'softlockup': 300}
MIN_FREE_FLOOR = 256 * 1024 * 1024
DEFAULT_SSH_KEY = '/root/.ssh/kdump_id_rsa'
DEFAULT_COREDIR = '/var/crash'
# Positional parameters keep the paths out of the script text.
ARM_SCRIPT = 'exec </dev/null >/dev/null 2>&1; sleep "$1"; sync; printf %s "$3" > "$2"'


def default_min_free(ram_bytes):
    """Free space wanted at a local dump target: a compressed -d 31 dump is a fraction of RAM, never less than 256 MiB."""
    return max(MIN_FREE_FLOOR, (ram_bytes or 0) // 8)


def _setting(settings, key, default=''):
    # kdump-config applies its defaults to unset and empty values alike (${VAR:=default}).
    return settings.get(key) or default


def dump_targets(settings):
    """The targets `kdump-config savecore` writes to, in its order."""
    targets = []
    if _setting(settings, 'FTP'):
        targets.append('ftp')
    if _setting(settings, 'SSH'):
        targets.append('ssh')
    if _setting(settings, 'NFS'):
        targets.append('nfs')
    elif not targets:
        targets.append('local')
    return targets


def _check(name, ok, detail):
    return {'name': name, 'ok': bool(ok), 'detail': detail}


def _target_check(root, settings, targets):
    coredir = _setting(settings, 'KDUMP_COREDIR', DEFAULT_COREDIR)
    files = HostFiles(root)
    problems = []
    found = []
    if 'ftp' in targets:
        found.append('FTP %s' % settings['FTP'])
    if 'ssh' in targets:
        key = _setting(settings, 'SSH_KEY', DEFAULT_SSH_KEY)
        if files.is_file(key):
            found.append('SSH %s with key %s' % (settings['SSH'], key))
        else:
            problems.append('SSH=%s but the key %s does not exist' % (settings['SSH'], key))
    if 'nfs' in targets:
        found.append('NFS %s (mounted on %s at dump time)' % (settings['NFS'], coredir))
    if 'local' in targets:
        if files.is_dir(coredir):
            found.append('local directory %s' % coredir)
        else:
            problems.append('local dump directory %s does not exist' % coredir)
    return _check('dump_target', not problems, '; '.join(problems + files.refused or found))


def _free_space_check(root, settings, min_free):
    coredir = _setting(settings, 'KDUMP_COREDIR', DEFAULT_COREDIR)
    try:
        stat = os.statvfs(real_path(root, coredir)[0])
    except OutsideRoot as exc:
        return _check('free_space', False, str(exc))
    except OSError as exc:
        return _check('free_space', False, 'cannot stat %s: %s' % (coredir, exc.strerror))
    free = stat.f_bavail * stat.f_frsize
    return _check('free_space', free >= min_free, '%d bytes free at %s, %d needed' % (free, coredir, min_free))


def _load_check(root, max_load):
    fields = (read_text(root, '/proc/loadavg') or '').split()
    try:
        load = float(fields[0])
    except (ValueError, IndexError):
        return _check('load_average', False, 'cannot read the load average from /proc/loadavg')
    return _check('load_average', load <= max_load, '1-minute load average %.2f, maximum %.2f' % (load, max_load))


def read_state(root):
    """The state file of the last armed test, or None."""
    text = read_text(root, STATE_FILE)
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return None


def _running_check(root, boot_id):
    if not boot_id:
        return _check('no_test_running', False, 'cannot read the boot id from /proc/sys/kernel/random/boot_id')
    state = read_state(root)
    if state and state.get('boot_id') == boot_id:
        return _check('no_test_running', False, 'a crash test was already armed in this boot for %s (%s)'
                      % (state.get('trigger_time_iso'), STATE_FILE))
    return _check('no_test_running', True, 'no crash test armed in this boot')


def _loaded_detail(facts):
    if facts['kexec_loaded'] is None:
        return 'the kernel exposes no crash_loaded file in sysfs (no kexec support)'
    if facts['kexec_loaded']:
        return 'a capture kernel is loaded'
    if facts['kdump_state'] == 'not ready':
        return 'no capture kernel is loaded: %s' % facts['kdump_state_reason']
    return 'no capture kernel is loaded'


def trigger_of(kind, live):
    """(trigger file, text to write, seconds the failure is held or None, line the crashed kernel's log shows)."""
    if kind == 'sysrq':
        # "SysRq : Trigger a crash" before Linux 5.x
        return TRIGGER, 'c', None, 'sysrq ?: ?Trigger a crash'
    seconds = kind_seconds(kind, live)
    text = kind if seconds is None else '%s %d' % (kind, seconds)
    return CRASHKIND_TRIGGER, text, seconds, 'fleet_crashkind: %s requested' % kind


def _kind_check(root, kind, live):
    if kind != 'sysrq':
        listing = read_text(root, CRASHKIND_TRIGGER)
        if listing is None:
            return _check('crash_kind', False, 'the fleet_crashkind test module is not loaded (no %s): load it with the '
                          'fleet.kdump.kdump role, tasks_from: crashkind' % CRASHKIND_TRIGGER)
        if kind not in listing.split():
            return _check('crash_kind', False, 'the loaded fleet_crashkind module offers %s, not %s: load the version of '
                          'this collection (fleet.kdump.kdump role, tasks_from: crashkind)' % (' '.join(listing.split()), kind))
        seconds = kind_seconds(kind, live)
        if seconds is not None and seconds > KIND_MAX_SECONDS[kind]:
            return _check('crash_kind', False, 'a %s would have to last %d s to be detected on this host, more than the %d s '
                          'the test module allows' % (kind, seconds, KIND_MAX_SECONDS[kind]))
    panics, detail = kind_panics(kind, live)
    return _check('crash_kind', panics, detail)


def preflight(root, facts, max_load, min_free, kind, live):
    """Every check that must pass before crashing the host, as a list of {name, ok, detail}."""
    settings = facts['kdump_settings']
    enabled = use_kdump(settings)
    reserved = facts['reserved_bytes']
    targets = dump_targets(settings)
    checks = [
        _check('kdump_enabled', enabled == '1' and facts['kdump_installed'],
               'USE_KDUMP=%s' % enabled if facts['kdump_installed'] else facts['kdump_state_reason']),
        _check('capture_kernel_loaded', facts['kexec_loaded'] is True, _loaded_detail(facts)),
        _check('reservation_present', bool(reserved),
               '%d bytes reserved for the capture kernel' % reserved if reserved is not None else 'the kernel exposes no crash_size'),
        _check('makedumpfile_installed', facts['makedumpfile_installed'],
               'makedumpfile is installed' if facts['makedumpfile_installed'] else 'makedumpfile is missing: the dump would be empty or raw'),
        _target_check(root, settings, targets),
        _kind_check(root, kind, live),
    ]
    if targets == ['local']:
        checks.append(_free_space_check(root, settings, min_free))
    checks.append(_load_check(root, max_load))
    checks.append(_running_check(root, facts['boot_id']))
    return checks


def _iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).isoformat()


class SysrqTest(object):
    """Run the preflight and, when confirmed, arm the crash."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.root = self.params['root']

    def run(self):
        facts = gather(self.root)
        max_load = self.params['max_load']
        if max_load is None:
            max_load = float(facts['cpu_count'] or os.cpu_count() or 1)
        min_free = self.params['min_free_bytes']
        if min_free is None:
            min_free = default_min_free(facts['ram_bytes'])
        kind = self.params['kind']
        live = read_live(self.root)
        checks = preflight(self.root, facts, max_load, min_free, kind, live)
        failed = [check['name'] for check in checks if not check['ok']]
        trigger, text, seconds, marker = trigger_of(kind, live)
        result = {
            'changed': False, 'checks': checks, 'preflight_ok': not failed, 'kind': kind,
            'boot_id': facts['boot_id'], 'kernel_release': facts['kernel_release'],
            'panic_within': seconds or 0, 'dmesg_marker': marker,
        }
        if not self.params['confirm']:
            result['msg'] = 'Preflight %s; nothing was triggered because confirm is false' % ('passed' if not failed else 'failed')
            self.module.exit_json(**result)
        if failed:
            details = '; '.join('%s: %s' % (check['name'], check['detail']) for check in checks if not check['ok'])
            if self.module.check_mode:
                result['msg'] = 'Check mode: the crash would be refused, failed checks: %s' % details
                self.module.exit_json(**result)
            self.module.fail_json(msg='Refusing to crash the host, failed checks: %s' % details, failed_checks=failed, **result)
        if self.module.check_mode:
            result.update(changed=True, msg='Check mode: the preflight passed, the crash would be armed')
            self.module.exit_json(**result)
        result.update(self._arm(facts, trigger, text))
        within = ' within %d more seconds' % seconds if seconds else ''
        result.update(changed=True, msg='Crash armed (%s): the kernel panics in %d seconds%s' % (kind, self.params['delay'], within))
        self.module.exit_json(**result)

    def _arm(self, facts, trigger, text):
        delay = self.params['delay']
        trigger_time = time.time() + delay
        state = {
            'boot_id': facts['boot_id'], 'kernel_release': facts['kernel_release'], 'delay': delay, 'kind': self.params['kind'],
            'trigger_time': trigger_time, 'trigger_time_iso': _iso(trigger_time),
        }
        self._write_state(state)
        setsid = self.module.get_bin_path('setsid', required=True)
        shell = self.module.get_bin_path('sh', required=True)
        # setsid -f returns at once and leaves sh in a new session; sh first lets go of the inherited descriptors
        # (run_command's pipes, the connection's stdin), so the crash outlives this process and its connection.
        rc, out, err = self.module.run_command(
            [setsid, '-f', shell, '-c', ARM_SCRIPT, 'sysrq_test', str(delay), self._inside(trigger), text], cwd='/')
        if rc != 0:
            os.unlink(self._inside(STATE_FILE))
            self.module.fail_json(msg='Could not arm the crash', rc=rc, stdout=out, stderr=err)
        return {'trigger_time': trigger_time, 'trigger_time_iso': state['trigger_time_iso'], 'armed_after': delay,
                'state_file': STATE_FILE}

    def _inside(self, path):
        """The host path of `path` under root, links followed inside it; fails for one that leads outside."""
        try:
            return real_path(self.root, path)[0]
        except OutsideRoot as exc:
            self.module.fail_json(msg='Refused: %s' % exc)

    def _state_directory(self):
        """The directory of STATE_FILE under root, created where missing below its deepest existing (real) ancestor."""
        directory, missing = os.path.dirname(STATE_FILE), []
        while True:
            try:
                real = real_path(self.root, directory)[0]
                break
            except FileNotFoundError:
                directory, name = os.path.split(directory)
                missing.insert(0, name)
            except OutsideRoot as exc:
                self.module.fail_json(msg='Refused: %s' % exc)
        path = os.path.join(real, *missing)
        os.makedirs(path, 0o755, exist_ok=True)
        return path

    def _write_state(self, state):
        directory = self._state_directory()
        path = os.path.join(directory, os.path.basename(STATE_FILE))
        fd, tmp = tempfile.mkstemp(dir=directory)
        with os.fdopen(fd, 'w') as handle:
            json.dump(state, handle)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
