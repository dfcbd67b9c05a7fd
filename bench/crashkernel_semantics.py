#!/usr/bin/env python
# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crashkernel= semantics by kernel release, measured on real kernels in the VM lab.

One 4 GiB guest per distribution (Debian 12: 6.1, Debian 13: 6.12), each in its own run dir and ports.
For every command line of CASES the guest gets the crashkernel= words through GRUB (a grub.d file and
update-grub); fleet.kdump.crashkernel_facts runs before the reboot (configured_expected_bytes, for the
release GRUB boots next) and after it (expected_bytes for the running release), and the kernel's own
figure is read from /sys/kernel/kexec_crash_size. /proc/iomem is kept with each row, so the unit tests
check the parser against every measurement offline (tests/unit/plugins/module_utils/test_crashkernel_rules.py).

Writes bench/results/crashkernel-semantics.json and prints the table of docs/crashkernel.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import subprocess
import sys
import threading

from lab_driver import ROOT, Lab

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, 'results', 'crashkernel-semantics.json')
GUEST = 'fleet1'
GRUB_FILE = '/etc/default/grub.d/99-crashkernel-semantics.cfg'
MIB = 1 << 20
# The crashkernel= words appended to the command line, each with what it shows.
CASES = [
    ('crashkernel=256M', 'simple size'),
    ('crashkernel=1G-4G:192M,4G-:320M', 'ranges: 4095.5 MiB rounds up to 4 GiB (end exclusive)'),
    ('crashkernel=512M-2G:64M,2G-3G:128M', 'ranges with a gap: no range matches'),
    ('crashkernel=128M crashkernel=192M', 'duplicate: the last one counts'),
    ('crashkernel=8G', 'size above RAM'),
    ('crashkernel=3G', 'size below RAM with no free block that large'),
    ('crashkernel=1G-:5G', 'range size not below RAM: invalid'),
    ('crashkernel=4G-1G:64M', 'end <= start: invalid'),
    ('crashkernel=foo crashkernel=256M,high', 'garbage plain value with ,high'),
    ('crashkernel=1G-2G:128M crashkernel=192M,high', 'plain value reserving 0 with ,high'),
    ('crashkernel=192M crashkernel=256M,high', 'plain value wins over ,high'),
    ('crashkernel=256M,high', ',high alone: above 4 GiB, with a low region'),
    ('crashkernel=384M,high crashkernel=128M,low', ',high with ,low'),
    ('crashkernel=256M,high crashkernel=junk,low', ',high with an invalid ,low'),
    ('crashkernel=128M,low', ',low alone'),
    ('crashkernel=160M crashkernel=64M,cma', ',cma after a plain value (6.16+ only)'),
]


class Guest:
    def __init__(self, dist, port_base):
        self.dist = dist
        self.lab = Lab('lab-hostmods-%s' % dist, port_base, 'semantics %s' % dist)

    def text(self, command):
        return self.lab.text(GUEST, command)

    def facts(self):
        """fleet.kdump.crashkernel_facts run on the guest by ansible (the collection of this checkout)."""
        env = dict(self.lab.env, PATH=os.path.join(ROOT, '.venv', 'bin') + os.pathsep + self.lab.env['PATH'],
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.venv', 'collections'), ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
                   ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_HOST_KEY_CHECKING='0')
        out = subprocess.run(['ansible', GUEST, '-i', self.lab.inventory, '-m', 'fleet.kdump.crashkernel_facts'], env=env,
                             cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, check=True, timeout=600)
        result = json.loads(out.stdout)['plays'][0]['tasks'][0]['hosts'][GUEST]
        return result['ansible_facts']['crashkernel']

    def set_cmdline(self, words):
        self.lab.ssh(GUEST, 'printf \'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT %s"\\n\' > %s && update-grub 2>/dev/null && sync'
                     % (words, GRUB_FILE))

    def reboot(self):
        old = self.lab.boot_id(GUEST)
        self.lab.ssh(GUEST, 'setsid -f systemctl reboot >/dev/null 2>&1 </dev/null')
        if not self.lab.wait_reboot(GUEST, old):
            raise RuntimeError('%s did not come back from a reboot' % GUEST)

    def measure(self, words, what):
        self.lab.log(words)
        self.set_cmdline(words)
        before = self.facts()
        self.reboot()
        after = self.facts()
        row = {
            'words': words, 'what': what, 'cmdline': after['cmdline'], 'kernel_release': after['kernel_release'],
            'next_boot_release': before['next_boot_release'], 'ram_bytes': after['ram_bytes'],
            'configured_expected_bytes': before['configured_expected_bytes'], 'expected_bytes': after['expected_bytes'],
            'kexec_crash_size': int(self.text('cat /sys/kernel/kexec_crash_size')),
            'iomem': self.text('cat /proc/iomem'),
            'dmesg': [line for line in self.text('dmesg').splitlines() if 'crashkernel' in line.lower()],
        }
        self.lab.log('%s: predicted %s, measured %d' % (words, row['expected_bytes'], row['kexec_crash_size']))
        return row


def run(dist, port_base, keep):
    guest = Guest(dist, port_base)
    guest.lab.lab('down', '--clean')
    guest.lab.up('--fleet', '1', '--mem', '4096', '--dist', dist)
    try:
        return [guest.measure(words, what) for words, what in CASES]
    finally:
        if not keep:
            guest.lab.lab('down', '--clean', check=False)


def agrees(row):
    return row['expected_bytes'] is not None and row['expected_bytes'] == row['kexec_crash_size'] == row['configured_expected_bytes']


DISTS = {'bookworm': 'Debian 12', 'trixie': 'Debian 13'}


def print_table(data):
    runs = data['runs']
    kernels = dict((dist, rows[0]['kernel_release']) for dist, rows in runs.items())
    columns = ' | '.join('%s %s: predicted | measured' % (DISTS[dist], kernels[dist]) for dist in sorted(runs))
    print('| command line (4 GiB guest) | what it shows | %s |' % columns)
    print('|---|---|%s' % ('---|---|' * len(runs)))
    by_words = {}
    for dist in sorted(runs):
        for row in runs[dist]:
            by_words.setdefault(row['words'], []).append(row)
    for words, rows in by_words.items():
        cells = ['%s | %s%s' % (_mib(row['expected_bytes']), _mib(row['kexec_crash_size']), '' if agrees(row) else ' **differs**')
                 for row in rows]
        print('| `%s` | %s | %s |' % (words, rows[0]['what'], ' | '.join(cells)))
    for dist in sorted(runs):
        rows = runs[dist]
        print('\n%s (%s): RAM %.1f MiB (System RAM of /proc/iomem), %d/%d rows agree' % (
            DISTS[dist], kernels[dist], rows[0]['ram_bytes'] / MIB, sum(agrees(row) for row in rows), len(rows)))


def _mib(size):
    if size is None:
        return '-'
    return '0' if not size else '%dM' % (size // MIB) if size % MIB == 0 else str(size)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    p.add_argument('--dist', nargs='+', default=['bookworm', 'trixie'], choices=['bookworm', 'trixie'])
    p.add_argument('--port-base', type=int, default=int(os.environ.get('FLEET_KDUMP_PORT_BASE', '11022')))
    p.add_argument('--keep', action='store_true', help='leave the guests running')
    p.add_argument('--output', default=RESULTS)
    p.add_argument('--print', action='store_true', help='only print the table of the recorded results')
    args = p.parse_args(argv)
    if not args.print:
        lock = threading.Lock()

        def measure(pair):
            rows = run(pair[1], args.port_base + 20 * pair[0], args.keep)
            with lock:
                data = {}
                if os.path.exists(args.output):
                    with open(args.output) as handle:
                        data = json.load(handle)
                data.setdefault('runs', {})[pair[1]] = rows
                data['measured'] = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
                data['method'] = __doc__.split('\n\n', 1)[1].strip()
                with open(args.output + '.tmp', 'w') as handle:
                    json.dump(data, handle, indent=1, sort_keys=True)
                    handle.write('\n')
                os.replace(args.output + '.tmp', args.output)

        with concurrent.futures.ThreadPoolExecutor(max_workers=len(args.dist)) as pool:
            list(pool.map(measure, enumerate(args.dist)))
    with open(args.output) as handle:
        data = json.load(handle)
    print_table(data)
    return 0 if all(agrees(row) for rows in data['runs'].values() for row in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
