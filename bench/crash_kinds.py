#!/usr/bin/env python
# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Crash kinds proven in the VM lab: every failure of the fleet_crashkind test module (an oops, BUG(), WARN(), a hung
task, a soft lockup), the NMI button and sysrq, each with the panic policy that makes it panic and without it.

With the policy the failure must end in a complete dump indexed on the collector: the row has the seconds from the
trigger to the indexed dump and the title the collector gave it (its `title` field, or its `reason` where the index has
no title yet: `title_source` says which). Without it the host must not panic: the row quotes the line the kernel
reported the failure with and confirms the boot id did not change; its seconds run from the trigger to that check.

The policy comes from the fleet.kdump.kdump role (the default, then kdump_panic_on_warn, kdump_hung_task_panic and
kdump_softlockup_panic on), except for the rows that need kernel.panic_on_oops or kernel.panic_on_unrecovered_nmi off:
kdump-tools sets panic_on_oops=1 whenever it loads, and the role's default turns the NMI switch on, so those rows turn
them off by hand on the running kernel. Crashes go through fleet.kdump.sysrq_test (kind option), so its preflight is
checked too: it passes with the policy and refuses without it.

Starts its own lab (collector + fleet1; FLEET_KDUMP_RUN and FLEET_KDUMP_PORT_BASE when set) and stops it at the end.
Writes bench/results/crash-kinds.json (a list of {kind, policy, dumped, seconds, title, ...}); about an hour under TCG.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

from lab_driver import ROOT, Lab

HOST = 'fleet1'
COLLECTOR = 'kdump-collector'
PLAYBOOK = os.path.join(ROOT, 'bench', 'crash_kind.yml')
RESULTS = os.path.join(ROOT, 'bench', 'results', 'crash-kinds.json')
TRIGGER = '/proc/fleet_crashkind'
POLICY_ON = {'kdump_panic_on_warn': True, 'kdump_hung_task_panic': True, 'kdump_softlockup_panic': True}
# The line the kernel reports each failure with.
REPORTS = {
    'sysrq': r'sysrq: Trigger a crash',
    'oops': r'BUG: kernel NULL pointer dereference[^\n]*',
    'bug': r'kernel BUG at [^\n]*fleet_crashkind\.c[^\n]*',
    'warn': r'WARNING: CPU: \d+ PID: \d+ at [^\n]*fleet_crashkind_warn[^\n]*',
    'hung_task': r'INFO: task fleet_crashkind:\d+ blocked for more than \d+ seconds\.',
    'softlockup': r'BUG: soft lockup - CPU#\d+ stuck for \d+s![^\n]*',
    'nmi': r'Uhhuh\. NMI received for unknown reason [0-9a-f]+ on CPU \d+\.',
}
# The sysctl each kind needs on (None: sysrq panics whatever the policy).
SWITCH = {'sysrq': None, 'oops': 'kernel.panic_on_oops', 'bug': 'kernel.panic_on_oops', 'warn': 'kernel.panic_on_warn',
          'hung_task': 'kernel.hung_task_panic', 'softlockup': 'kernel.softlockup_panic',
          'nmi': 'kernel.panic_on_unrecovered_nmi'}
DETECTOR = {'hung_task': 'kernel.hung_task_timeout_secs', 'softlockup': 'kernel.watchdog_thresh'}


class Bench:
    def __init__(self, lab):
        self.lab = lab
        self.rows = []
        self.timings = {}

    # --- the guest --------------------------------------------------------------------------------------------------

    def sysctl(self, key, value=None):
        if value is not None:
            self.lab.ssh(HOST, 'sysctl -q -w %s=%d' % (key, value))
        return int(self.lab.text(HOST, 'cat /proc/sys/%s' % key.replace('.', '/')))

    def clock_offset(self):
        """Guest clock minus controller clock, in seconds (sysrq_test reports the trigger time in guest time)."""
        before = time.time()
        guest = float(self.lab.text(HOST, 'date +%s.%N'))
        return guest - (before + time.time()) / 2

    def reports(self, kind):
        """The kernel log lines reporting `kind` so far in this boot (None while the guest does not answer)."""
        try:
            text = self.lab.ssh(HOST, 'dmesg', check=False).decode(errors='replace')
        except subprocess.TimeoutExpired:
            return None
        return re.findall(REPORTS[kind], text) if text else None

    def sysrq_test(self, kind, confirm):
        """Run bench/crash_kind.yml (load the module, run sysrq_test); the module's result."""
        path = os.path.join(self.lab.run_dir, 'sysrq_test-%s.json' % kind)
        self.lab.playbook(PLAYBOOK, '-e', json.dumps({'kind': kind, 'confirm': confirm, 'result_file': path,
                                                      'crash_host': HOST}), log_name='crash_kind-%s' % kind)
        with open(path) as handle:
            return json.load(handle)

    def policy_text(self, kind):
        """The live values that decide whether `kind` panics."""
        switch = SWITCH[kind]
        if switch is None:
            return 'none needed (sysrq "c" panics)'
        keys = [switch] + ([DETECTOR[kind]] if kind in DETECTOR else []) + (['kernel.unknown_nmi_panic'] if kind == 'nmi' else [])
        return ', '.join('%s=%d' % (key, self.sysctl(key)) for key in keys)

    # --- the rows ---------------------------------------------------------------------------------------------------

    def crash(self, kind, set_by):
        """A kind with its policy: trigger it, wait for the reboot and the indexed dump."""
        self.lab.log('%s with its policy: crash' % kind)
        policy = self.policy_text(kind)
        known = set(self.lab.collector_dumps(HOST, COLLECTOR))
        old = self.lab.boot_id(HOST)
        offset = self.clock_offset()
        within = 0
        if kind == 'nmi':
            start = time.time()
            self.lab.lab('nmi', HOST)
            preflight = 'not applicable (the NMI comes from outside the guest)'
        else:
            result = self.sysrq_test(kind, True)
            if not result.get('changed'):
                raise RuntimeError('sysrq_test refused %s with its policy: %s' % (kind, result.get('msg')))
            start, within = result['trigger_time'] - offset, result['panic_within']
            preflight = 'passed: %s' % [c['detail'] for c in result['checks'] if c['name'] == 'crash_kind'][0]
        row = {'kind': kind, 'policy': policy, 'set_by': set_by, 'preflight': preflight}
        if not self.lab.wait_reboot(HOST, old, timeout=int(within) + 1200):
            self.lab.lab('reset', HOST, check=False)
            self.lab.wait_reboot(HOST, old, timeout=900)
            return self.add(row, dumped=False, seconds=round(time.time() - start), title=None,
                            error='the guest did not come back within %d s; reset' % (within + 1200))
        back = time.time()
        while True:
            new = dict((key, value) for key, value in self.lab.collector_dumps(HOST, COLLECTOR).items()
                       if key not in known and value.get('state') == 'complete')
            if new or time.time() - back > 300:
                break
            time.sleep(1)
        if not new:
            return self.add(row, dumped=False, seconds=round(time.time() - start), title=None,
                            error='the guest rebooted but no new complete dump was indexed within 300 s')
        dump = new[max(new)]
        title = dump.get('title') or dump.get('reason')
        return self.add(row, dumped=True, seconds=round(time.time() - start, 1), title=title,
                        title_source=('title' if dump.get('title') else 'reason') if title else None,
                        reason=dump.get('reason'), signature=dump.get('signature'), rip=dump.get('rip'),
                        dump_bytes=dump.get('dump_bytes'), reboot_seconds=round(back - start, 1))

    def survive(self, kind, set_by, by_hand=None):
        """A kind without its policy: the preflight refuses it; raised anyway, the kernel reports it and carries on."""
        self.lab.log('%s without its policy: must not panic' % kind)
        restore = {}
        for key, value in (by_hand or {}).items():
            restore[key] = self.sysctl(key)
            self.sysctl(key, value)
        policy = self.policy_text(kind)
        row = {'kind': kind, 'policy': policy, 'set_by': set_by}
        seen = len(self.reports(kind) or [])
        old = self.lab.boot_id(HOST)
        hold = 0
        if kind == 'nmi':
            start = time.time()
            self.lab.lab('nmi', HOST)
            row['preflight'] = 'not applicable (the NMI comes from outside the guest)'
        else:
            result = self.sysrq_test(kind, False)
            check = [c for c in result['checks'] if c['name'] == 'crash_kind'][0]
            if check['ok']:
                raise RuntimeError('sysrq_test would crash with %s although its policy is off: %s' % (kind, check['detail']))
            row['preflight'] = 'refused: %s' % check['detail']
            hold = result['panic_within']
            text = '%s %d' % (kind, hold) if hold else kind
            start = time.time()
            # Detached: an oops kills the writer, a soft lockup holds it.
            self.lab.ssh(HOST, "setsid -f sh -c 'printf %%s \"%s\" > %s' >/dev/null 2>&1 </dev/null" % (text, TRIGGER))
        lines = None
        while time.time() - start < hold + 120:
            found = self.reports(kind)
            if found is not None and len(found) > seen:
                lines = found[seen:]
                break
            time.sleep(5)
        observed = time.time() - start
        # A panic follows the report at once; the guest must still answer, in the same boot, once the hold is over.
        time.sleep(max(20, hold - observed + 10))
        same_boot = self.lab.boot_id(HOST) == old
        for key, value in restore.items():
            self.sysctl(key, value)
        if not same_boot or lines is None:
            why = 'the guest rebooted' if not same_boot else 'the kernel never reported it'
            raise RuntimeError('%s without its policy: %s' % (kind, why))
        return self.add(row, dumped=False, seconds=round(time.time() - start, 1), title=None, observed=lines[0],
                        report_seconds=round(observed, 1))

    def add(self, row, **fields):
        row.update(fields)
        self.rows.append(row)
        self.lab.log('%s: %s' % (row['kind'], json.dumps(row)))
        # Progress survives a failed run.
        with open(os.path.join(self.lab.run_dir, 'crash-kinds.partial.json'), 'w') as handle:
            json.dump({'rows': self.rows, 'timings': self.timings}, handle, indent=1)
        return row

    # --- the run ----------------------------------------------------------------------------------------------------

    def configure(self, name, extra):
        start = time.time()
        self.lab.playbook('fleet.kdump.configure', '-e', json.dumps(extra), log_name='configure-%s' % name)
        self.timings['configure_%s_seconds' % name] = round(time.time() - start)

    def build_module(self):
        """First load (headers, build, install, load), then the compile alone again."""
        used = self.disk_used_mib()
        start = time.time()
        self.sysrq_test('sysrq', False)
        self.timings['module_first_load_seconds'] = round(time.time() - start)
        self.timings['module_first_load_disk_mib'] = self.disk_used_mib() - used
        start = time.time()
        self.lab.ssh(HOST, 'cd /usr/local/src/fleet_crashkind && make clean >/dev/null && make >/dev/null')
        self.timings['module_compile_seconds'] = round(time.time() - start)

    def disk_used_mib(self):
        return int(self.lab.text(HOST, 'df -m --output=used / | tail -1'))

    def run(self, kinds):
        self.configure('default', {})
        self.build_module()
        # Role defaults: warn, hung tasks and soft lockups only reported; oops, BUG() and the NMI button dump.
        for kind in ('warn', 'hung_task', 'softlockup'):
            if kind in kinds:
                self.survive(kind, 'role default (off)')
        for kind, switch in (('oops', 'kernel.panic_on_oops'), ('bug', 'kernel.panic_on_oops'),
                             ('nmi', 'kernel.panic_on_unrecovered_nmi')):
            if kind in kinds:
                self.survive(kind, 'by hand on the running kernel', {switch: 0})
        for kind, set_by in (('sysrq', 'nothing'), ('oops', 'kdump-tools at load (and the role)'),
                             ('bug', 'kdump-tools at load (and the role)'), ('nmi', 'role default (on)')):
            if kind in kinds:
                self.crash(kind, set_by)
        if {'warn', 'hung_task', 'softlockup'} & set(kinds):
            self.configure('policy_on', POLICY_ON)
            for kind in ('warn', 'hung_task', 'softlockup'):
                if kind in kinds:
                    self.crash(kind, 'role (kdump_%s: true)' % SWITCH[kind].split('.')[1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    p.add_argument('--kinds', default=','.join(REPORTS), help='comma-separated subset of %s' % ', '.join(REPORTS))
    p.add_argument('--keep', action='store_true', help='leave the lab running')
    p.add_argument('--output', default=RESULTS)
    args = p.parse_args(argv)
    kinds = [kind for kind in args.kinds.split(',') if kind]
    unknown = set(kinds) - set(REPORTS)
    if unknown:
        p.error('unknown kinds: %s' % ', '.join(sorted(unknown)))
    lab = Lab('crashkinds', int(os.environ.get('FLEET_KDUMP_PORT_BASE', '12222')), 'crash kinds',
              run_dir=os.environ.get('FLEET_KDUMP_RUN'))
    bench = Bench(lab)
    start = time.time()
    try:
        lab.lab('down', '--clean', check=False)  # fresh overlays: the first configure is the first
        lab.up('--collector', '--fleet', '1')
        kernel = lab.text(HOST, 'uname -r')
        bench.run(kinds)
    finally:
        if not args.keep:
            lab.down()
    for row in bench.rows:
        row['kernel'] = kernel
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, 'w') as handle:
        json.dump(bench.rows, handle, indent=1)
        handle.write('\n')
    print('%-10s %-7s %8s  %-60s %s' % ('KIND', 'DUMPED', 'SECONDS', 'POLICY', 'TITLE (or the kernel\'s report)'))
    for row in bench.rows:
        print('%-10s %-7s %8s  %-60s %s' % (row['kind'], row['dumped'], row['seconds'], row['policy'][:60],
                                            row['title'] or row.get('observed') or row.get('error')))
    print('lab timings: %s; whole run %d s' % (json.dumps(bench.timings, sort_keys=True), time.time() - start))
    print('written: %s' % args.output)
    proven = all(row['dumped'] == (not row['set_by'].startswith(('role default (off)', 'by hand'))) for row in bench.rows)
    return 0 if proven and not any(row.get('error') for row in bench.rows) else 1


if __name__ == '__main__':
    sys.exit(main())
