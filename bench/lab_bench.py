#!/usr/bin/env python
# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmarks in the VM lab, each a ratio against a baseline measured in the same run on the same guest.

P1 re-run cost: wall time of `fleet.kdump.configure --limit fleet1` on a host it already configured,
   divided by the floor: bench/floor.yml (fact gathering plus one module call) on the same host.
   Goal <= 3.0, and the re-run changes nothing.
P4 crash downtime: sysrq crash -> the host answers on SSH again and its dump is indexed on the collector,
   divided by a plain `systemctl reboot` -> SSH of the same guest. Goal <= 2.5. The serial console is
   timestamped as it is written, which splits the downtime into capture kernel boot, dump, reboot.

Starts its own lab (collector + fleet1, run dir /var/tmp/fleet-kdump-bench) and stops it at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import threading
import time

from lab_driver import ROOT, SYSRQ_CRASH, Lab

HOST = 'fleet1'
COLLECTOR = 'kdump-collector'
FLOOR = os.path.join(ROOT, 'bench', 'floor.yml')
RECAP = re.compile(r'^%s\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)' % HOST, re.M)
# Serial console milestones, in the order they appear.
CRASH_MARKS = (('crash', r'sysrq: Trigger a crash'), ('capture_kernel', r'Linux version'),
               ('dump_start', r'kdump-tools\[\d+\]: Starting kdump-tools'), ('dump_saved', r'saved vmcore'),
               ('restart', r'reboot: Restarting system'), ('kernel', r'Linux version'))
REBOOT_MARKS = (('restart', r'reboot: Restarting system'), ('kernel', r'Linux version'))


class SerialClock(threading.Thread):
    """Stamps, with the controller's clock, the first line matching each mark (in order) written from now on."""

    def __init__(self, path, marks):
        super().__init__(daemon=True)
        self.path, self.marks, self.seen = path, [(n, re.compile(r)) for n, r in marks], {}
        self.offset = os.path.getsize(path)
        self.stop = threading.Event()

    def run(self):
        pending, index = '', 0
        with open(self.path, 'rb') as handle:
            handle.seek(self.offset)
            while not self.stop.is_set() and index < len(self.marks):
                chunk = handle.read()
                if not chunk:
                    time.sleep(0.1)
                    continue
                now = time.time()
                pending += chunk.decode(errors='replace')
                *lines, pending = pending.split('\n')
                for line in lines:
                    if index < len(self.marks) and self.marks[index][1].search(line):
                        self.seen[self.marks[index][0]] = now
                        index += 1


def recap(log_path):
    with open(log_path) as handle:
        found = RECAP.findall(handle.read())
    if not found:
        raise RuntimeError('no PLAY RECAP line for %s in %s' % (HOST, log_path))
    ok, changed, unreachable, failed, skipped = (int(value) for value in found[-1])
    return {'ok': ok, 'changed': changed, 'unreachable': unreachable, 'failed': failed, 'skipped': skipped}


def timed_playbook(lab, playbook, name):
    start = time.perf_counter()
    log = lab.playbook(playbook, '--limit', HOST, log_name=name)
    return time.perf_counter() - start, recap(log)


def p1_rerun(lab, rounds):
    floors, reruns, counts = [], [], None
    for num in range(rounds):
        seconds, _counts = timed_playbook(lab, FLOOR, 'floor-%d' % num)
        floors.append(seconds)
        seconds, counts = timed_playbook(lab, 'fleet.kdump.configure', 'rerun-%d' % num)
        reruns.append(seconds)
        lab.log('P1 round %d: floor %.1f s, configure re-run %.1f s (changed=%d)' % (
            num + 1, floors[-1], seconds, counts['changed']))
        if counts['changed'] or counts['failed']:
            raise RuntimeError('the re-run of configure changed or failed something: %s' % counts)
    floor, rerun = statistics.median(floors), statistics.median(reruns)
    return {'ratio': round(rerun / floor, 2), 'goal': 3.0, 'rerun_seconds': round(rerun, 1),
            'floor_seconds': round(floor, 1), 'rounds': rounds, 'tasks': counts['ok'] + counts['skipped'],
            'executed': counts['ok'], 'skipped': counts['skipped'], 'changed': counts['changed']}


def complete_dumps(lab):
    rows = json.loads(lab.text(COLLECTOR, 'kdump-collector list --json --host %s' % HOST) or '[]')
    return {row['id'] for row in rows if row.get('state') == 'complete'}


def crash_once(lab):
    known = complete_dumps(lab)
    old = lab.boot_id(HOST)
    clock = SerialClock(lab.serial_path(HOST), CRASH_MARKS)
    clock.start()
    lab.ssh(HOST, SYSRQ_CRASH)
    if not lab.wait_reboot(HOST, old):
        raise RuntimeError('%s did not come back from the crash' % HOST)
    back = time.time()
    while not complete_dumps(lab) - known:
        if time.time() - back > 300:
            raise RuntimeError('no new complete dump of %s indexed' % HOST)
        time.sleep(1)
    indexed = time.time()
    clock.stop.set()
    marks = clock.seen
    if 'crash' not in marks:
        raise RuntimeError('the serial console never showed the sysrq crash')
    start = marks['crash']
    phases = {}
    for (name, _regex), (prev, _prev_regex) in zip(CRASH_MARKS[1:], CRASH_MARKS):
        if name in marks and prev in marks:
            phases['%s_to_%s' % (prev, name)] = round(marks[name] - marks[prev], 1)
    phases['kernel_to_ssh'] = round(back - marks.get('kernel', back), 1)
    phases['ssh_to_indexed'] = round(indexed - back, 1)
    return indexed - start, phases


def reboot_once(lab):
    old = lab.boot_id(HOST)
    clock = SerialClock(lab.serial_path(HOST), REBOOT_MARKS)
    clock.start()
    start = time.time()
    lab.ssh(HOST, 'setsid -f systemctl reboot >/dev/null 2>&1 </dev/null')
    if not lab.wait_reboot(HOST, old):
        raise RuntimeError('%s did not come back from a plain reboot' % HOST)
    back = time.time()
    clock.stop.set()
    marks = clock.seen
    return back - start, {'shutdown': round(marks.get('restart', start) - start, 1),
                          'restart_to_kernel': round(marks.get('kernel', back) - marks.get('restart', start), 1),
                          'kernel_to_ssh': round(back - marks.get('kernel', back), 1)}


def p4_downtime(lab, rounds):
    crashes, reboots = [], []
    for num in range(rounds):
        seconds, phases = reboot_once(lab)
        reboots.append((seconds, phases))
        lab.log('P4 round %d: plain reboot %.0f s %s' % (num + 1, seconds, phases))
        seconds, phases = crash_once(lab)
        crashes.append((seconds, phases))
        lab.log('P4 round %d: crash to indexed dump %.0f s %s' % (num + 1, seconds, phases))
    crash = statistics.median(seconds for seconds, _phases in crashes)
    reboot = statistics.median(seconds for seconds, _phases in reboots)
    settings = lab.text(HOST, "grep -E '^(MAKEDUMP_ARGS|KDUMP_CMDLINE_APPEND|KDUMP_COMPRESSION)=' "
                              "/etc/default/kdump-tools || true")
    return {'ratio': round(crash / reboot, 2), 'goal': 2.5, 'crash_seconds': round(crash), 'reboot_seconds': round(reboot),
            'rounds': rounds, 'crash_phases': [phases for _seconds, phases in crashes],
            'reboot_phases': [phases for _seconds, phases in reboots], 'kdump_settings': settings.splitlines()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    p.add_argument('--rounds', type=int, default=3, help='P1 rounds (medians are compared)')
    p.add_argument('--crash-rounds', type=int, default=2, help='P4 rounds')
    p.add_argument('--keep', action='store_true', help='leave the lab running')
    p.add_argument('--output', default=os.path.join(ROOT, 'build', 'bench', 'lab.json'))
    args = p.parse_args(argv)
    lab = Lab('bench', 12022, 'bench')
    try:
        lab.lab('down', '--clean', check=False)  # fresh overlays: the first configure must really be the first
        lab.up('--collector', '--fleet', '1')
        lab.log('configuring the lab (first run of fleet.kdump.configure)')
        start = time.perf_counter()
        lab.playbook('fleet.kdump.configure', log_name='configure-first')
        first = time.perf_counter() - start
        results = {'first_configure_seconds': round(first), 'P1': p1_rerun(lab, args.rounds),
                   'P4': p4_downtime(lab, args.crash_rounds)}
    finally:
        if not args.keep:
            lab.down()
    p1, p4 = results['P1'], results['P4']
    p1_met = p1['ratio'] <= p1['goal'] and p1['changed'] == 0
    p4_met = p4['ratio'] <= p4['goal']
    print('P1 re-run cost: %.2f x floor (goal <= 3.0, nothing changed) %s: configure re-run %.1f s vs floor %.1f s; '
          '%d tasks, %d executed, %d skipped, %d changed' % (
              p1['ratio'], 'OK' if p1_met else 'MISSED', p1['rerun_seconds'], p1['floor_seconds'], p1['tasks'],
              p1['executed'], p1['skipped'], p1['changed']))
    print('P4 crash downtime: %.2f x plain reboot (goal <= 2.5) %s: crash to indexed dump %d s vs reboot %d s; phases %s' % (
        p4['ratio'], 'OK' if p4_met else 'MISSED', p4['crash_seconds'], p4['reboot_seconds'],
        json.dumps(p4['crash_phases'][-1])))
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, 'w') as handle:
        json.dump(results, handle, indent=1, sort_keys=True)
        handle.write('\n')
    print('written: %s' % args.output)
    return 0 if p1_met and p4_met else 1


if __name__ == '__main__':
    sys.exit(main())
