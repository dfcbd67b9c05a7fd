#!/usr/bin/env python
# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crashkernel right-sizing by real crashes in the VM lab.

For each guest RAM size, one lab guest (its own run dir and ports) is configured once with the
fleet.kdump.kdump role (local target), then bisected: each probe writes crashkernel=<N>M, reboots,
checks the kernel reserved exactly that and loaded the capture kernel, crashes the guest with sysrq and
checks a complete dump came out (dmesg with the sysrq line, a flattened dump that ends with
makedumpfile's end marker). The smallest working size is crashed a second time to confirm it.

The capture kernel gets panic=10 on top of the package default command line, so one that runs out of
memory reboots instead of hanging; one that hangs anyway is reset after --crash-timeout seconds.

Writes bench/results/crashkernel-sizing.json (every probe, the minimum per size, the distro defaults),
which plugins/module_utils/_crashkernel_sizing.py is checked against.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time

from ansible_collections.fleet.kdump.plugins.module_utils._crashkernel import reservation
from ansible_collections.fleet.kdump.plugins.module_utils._crashkernel_sizing import recommend
from lab_driver import SYSRQ_CRASH, Lab

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, 'results', 'crashkernel-sizing.json')
GUEST = 'fleet1'
GRUB_FILE = '/etc/default/grub.d/kdump-tools.cfg'
CAPTURE_APPEND = 'reset_devices systemd.unit=kdump-tools-dump.service nr_cpus=1 irqpoll usbcore.nousb panic=10'
DISTRO_DEFAULTS = {'Debian 12': '384M-:128M', 'Debian 13': '512M-:192M'}
# What the capture kernel's console says when memory ran out: reported with a failed probe.
OOM_SIGNS = re.compile(r'Out of memory|oom-kill|invoked oom-killer|Kernel panic[^\n]*|Initramfs unpacking failed[^\n]*'
                       r'|not syncing[^\n]*')
FLAT_END = b'\xff' * 16
MIB = 1024 * 1024


class Guest:
    """One lab with one fleet guest of mem_mib RAM."""

    def __init__(self, mem_mib, index, dist):
        self.mem = mem_mib
        self.dist = dist
        self.lab = Lab('sizing-%d' % mem_mib, 11022 + 100 * index, 'sizing %4d MiB' % mem_mib)

    def text(self, command):
        return self.lab.text(GUEST, command)

    def up(self, high_mib):
        self.lab.lab('down', '--clean')  # fresh overlays: a disk left full by an earlier run would fail every probe
        self.lab.up('--fleet', '1', '--mem', str(self.mem), '--dist', self.dist)
        self.lab.log('configuring with fleet.kdump.configure (local target, crashkernel=%dM)' % high_mib)
        extra = {'kdump_target': 'local', 'kdump_crashkernel': '%dM' % high_mib, 'kdump_reboot_ok': True,
                 'kdump_cmdline_append': CAPTURE_APPEND}
        self.lab.playbook('fleet.kdump.configure', '-e', json.dumps(extra), log_name='configure')

    def reboot_with(self, size_mib):
        self.lab.ssh(GUEST, 'printf \'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=%dM"\\n\' > %s '
                     '&& update-grub 2>/dev/null && sync' % (size_mib, GRUB_FILE))
        old = self.lab.boot_id(GUEST)
        self.lab.ssh(GUEST, 'setsid -f systemctl reboot >/dev/null 2>&1 </dev/null')
        if not self.lab.wait_reboot(GUEST, old):
            raise RuntimeError('%s did not come back from a plain reboot' % GUEST)

    def capture_loaded(self):
        """Wait for kdump-tools' load at boot; (reserved bytes, loaded)."""
        for _try in range(60):
            if self.text('systemctl is-active kdump-tools || true') not in ('activating', 'deactivating'):
                break
            time.sleep(3)
        reserved = int(self.text('cat /sys/kernel/kexec_crash_size'))
        return reserved, self.text('cat /sys/kernel/kexec_crash_loaded') == '1'

    def crash(self, timeout):
        """Crash with sysrq; (seconds until back, whether it had to be reset, console text, dirs before)."""
        old = self.lab.boot_id(GUEST)
        free_mib = int(self.text('df --output=avail -B1M /var/crash | tail -1'))
        if free_mib < self.mem // 2:
            raise RuntimeError('only %d MiB free in /var/crash: a failed dump would not say anything about memory' % free_mib)
        before = set(self.text('ls /var/crash').split())
        offset = self.lab.serial_size(GUEST)
        self.lab.ssh(GUEST, SYSRQ_CRASH)
        start = time.time()
        reset = not self.lab.wait_reboot(GUEST, old, timeout)
        if reset:
            self.lab.log('no reboot within %d s: resetting' % timeout)
            self.lab.lab('reset', GUEST)
            if not self.lab.wait_reboot(GUEST, old):
                raise RuntimeError('%s did not come back after a reset' % GUEST)
        return time.time() - start, reset, self.lab.serial_since(GUEST, offset), before

    def dump_outcome(self, before):
        """('complete' or what is wrong, dump bytes) for the dump this crash left in /var/crash."""
        new = sorted(set(self.text('ls /var/crash').split()) - before)
        stamps = [name for name in new if re.fullmatch(r'[0-9]{12}', name)]
        if not stamps:
            return 'no dump', None
        stamp = stamps[-1]
        where = '/var/crash/' + stamp
        files = self.text('ls %s' % where).split()
        dump = '%s/dump.%s' % (where, stamp)
        dmesg = self.lab.ssh(GUEST, 'cat %s/dmesg.%s 2>/dev/null || true' % (where, stamp)).decode(errors='replace')
        size = int(self.text('stat -c %%s %s 2>/dev/null || echo 0' % dump))
        tail = self.lab.ssh(GUEST, 'tail -c 16 %s 2>/dev/null || true' % dump)
        self.lab.ssh(GUEST, 'rm -rf %s' % shlex.quote(where))
        if 'sysrq: Trigger a crash' not in dmesg:
            return 'no sysrq line in dmesg (files: %s)' % ' '.join(files), size
        if not size:
            return 'empty dump', size
        if tail != FLAT_END:
            return 'dump cut short (no makedumpfile end marker)', size
        return 'complete', size

    def probe(self, size_mib, crash_timeout):
        self.lab.log('probe crashkernel=%dM' % size_mib)
        self.reboot_with(size_mib)
        reserved, loaded = self.capture_loaded()
        result = {'crashkernel_mib': size_mib, 'reserved_bytes': reserved}
        if reserved != size_mib * 1024 * 1024:
            raise RuntimeError('crashkernel=%dM reserved %d bytes: the probe would not measure what it says' % (
                size_mib, reserved))
        if not loaded:
            result.update(outcome='capture kernel not loaded', ok=False,
                          detail=self.text('kdump-config status 2>&1 | tail -3 || true'))
        else:
            seconds, reset, console, before = self.crash(crash_timeout)
            outcome, size = self.dump_outcome(before)
            signs = sorted(set(m.group(0).strip() for m in OOM_SIGNS.finditer(console)))[:4]
            result.update(outcome=outcome + (' (hung; reset)' if reset else ''), ok=outcome == 'complete' and not reset,
                          dump_bytes=size, crash_to_back_seconds=round(seconds), console_signs=signs)
        self.lab.log('crashkernel=%dM: %s' % (size_mib, result['outcome']))
        return result

    def facts(self):
        release = self.text('uname -r')
        return {'kernel': release,
                'kdump_initrd_bytes': int(self.text('stat -L -c %%s /var/lib/kdump/initrd.img-%s' % release)),
                'kdump_tools': self.text("dpkg-query -W -f '${Version}' kdump-tools"),
                'mem_total_kib': int(self.text("awk '/^MemTotal/ {print $2}' /proc/meminfo"))}


def bisect(guest, low, high, step, crash_timeout):
    """Smallest working size in (low, high] in steps of `step`; high is raised until it works."""
    probes = []
    while True:
        probes.append(guest.probe(high, crash_timeout))
        if probes[-1]['ok']:
            break
        low, high = high, high * 2
        if high > 1024:
            raise RuntimeError('no crashkernel up to 1024M gave a complete dump')
    while high - low > step:
        mid = (low + high) // 2 // step * step
        probes.append(guest.probe(mid, crash_timeout))
        if probes[-1]['ok']:
            high = mid
        else:
            low = mid
    confirm = guest.probe(high, crash_timeout)
    probes.append(confirm)
    return probes, (high if confirm['ok'] else None), low


def measure(mem_mib, index, args):
    guest = Guest(mem_mib, index, args.dist)
    start = time.time()
    try:
        guest.up(args.high)
        facts = guest.facts()
        probes, smallest, largest_failed = bisect(guest, args.low, args.high, args.step, args.crash_timeout)
    finally:
        if not args.keep:
            guest.lab.down()
    guest.lab.log('smallest complete dump at %sM (largest failing %dM), %d probes, %.0f min' % (
        smallest, largest_failed, len(probes), (time.time() - start) / 60))
    return dict(facts, ram_mib=mem_mib, smallest_ok_mib=smallest, largest_failed_mib=largest_failed,
                step_mib=args.step, probes=probes)


def record(path, dist, point):
    data = {}
    if os.path.exists(path):
        with open(path) as handle:
            data = json.load(handle)
    data.update(method=__doc__.split('\n\n', 1)[1].strip(), distro_defaults=DISTRO_DEFAULTS,
                capture_cmdline_append=CAPTURE_APPEND)
    series = data.setdefault('series', {}).setdefault(series_of(point['kernel']), {'points': []})
    point['measured'] = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    series['points'] = sorted([old for old in series['points'] if old['ram_mib'] != point['ram_mib']] + [point],
                              key=lambda entry: entry['ram_mib'])
    # Each guest builds its own kdump initrd (a few bytes apart): the series keeps the largest.
    series.update(kernel=point['kernel'], kdump_tools=point['kdump_tools'], dist=dist,
                  kdump_initrd_bytes=max(entry['kdump_initrd_bytes'] for entry in series['points']))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + '.tmp', 'w') as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.write('\n')
    os.replace(path + '.tmp', path)


def series_of(release):
    return '.'.join(release.split('.')[:2])


def print_table(data):
    rows = [('kernel', 'RAM', 'smallest OK', 'largest failed', 'probes', 'auto', 'distro defaults reserve')]
    for name, series in sorted(data['series'].items()):
        for point in series['points']:
            ram = point['ram_mib'] * MIB
            auto = recommend(ram, 1, series['kernel'], series['kdump_initrd_bytes'], None)['spec']
            defaults = ', '.join('%s %dM' % (distro, reservation(spec, ram) // MIB)
                                 for distro, spec in sorted(data['distro_defaults'].items()))
            rows.append((name, '%dM' % point['ram_mib'], '%sM' % point['smallest_ok_mib'],
                         '%dM' % point['largest_failed_mib'], str(len(point['probes'])), auto, defaults))
    for row in rows:
        print('%-7s %-6s %-12s %-15s %-7s %-6s %s' % row)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    p.add_argument('--mem', type=int, nargs='+', default=[1024, 2048, 4096], help='guest RAM sizes, MiB')
    p.add_argument('--dist', default='bookworm', choices=['bookworm', 'trixie'])
    p.add_argument('--low', type=int, default=48, help='MiB assumed too small (not probed unless reached)')
    p.add_argument('--high', type=int, default=128, help='MiB probed first (raised until a dump is complete)')
    p.add_argument('--step', type=int, default=8, help='resolution, MiB')
    p.add_argument('--crash-timeout', type=int, default=600, help='seconds before a hung guest is reset')
    p.add_argument('--parallel', type=int, default=2, help='guests at once (TCG: one host core each)')
    p.add_argument('--keep', action='store_true', help='leave the guests running')
    p.add_argument('--output', default=RESULTS)
    p.add_argument('--print', action='store_true', help='only print the table of the recorded results')
    args = p.parse_args(argv)
    if args.print:
        with open(args.output) as handle:
            print_table(json.load(handle))
        return 0
    lock = threading.Lock()

    def measure_and_record(pair):
        """Each size is written to the results as soon as it is measured: a later failure loses nothing."""
        try:
            point = measure(pair[1], pair[0], args)
        except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            print('[sizing %d MiB] failed: %s' % (pair[1], exc), flush=True)
            return False
        with lock:
            record(args.output, args.dist, point)
        return bool(point['smallest_ok_mib'])

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.parallel) as pool:
        done = list(pool.map(measure_and_record, enumerate(args.mem)))
    if os.path.exists(args.output):
        with open(args.output) as handle:
            print_table(json.load(handle))
    return 0 if all(done) else 1


if __name__ == '__main__':
    sys.exit(main())
