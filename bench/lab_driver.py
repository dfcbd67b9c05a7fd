# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A VM lab of the benchmarks: its own run dir and ports, driven through lab/fleetlab and ansible-playbook."""

from __future__ import annotations

import json
import os
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLEETLAB = os.path.join(ROOT, 'lab', 'fleetlab')
SYSRQ_CRASH = "sync; setsid -f sh -c 'sleep 2; echo c > /proc/sysrq-trigger' >/dev/null 2>&1 </dev/null"


class Lab:
    def __init__(self, name, port_base, label, run_dir=None):
        self.label = label
        self.run_dir = run_dir or '/var/tmp/fleet-kdump-%s' % name
        self.env = dict(os.environ, FLEET_KDUMP_RUN=self.run_dir, FLEET_KDUMP_PORT_BASE=str(port_base))
        self.inventory = os.path.join(self.run_dir, 'inventory.yml')

    def log(self, text):
        print('[%s %s] %s' % (self.label, time.strftime('%H:%M:%S'), text), flush=True)

    def lab(self, *args, check=True):
        out = subprocess.run([FLEETLAB] + list(args), env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             universal_newlines=True, check=False)
        if check and out.returncode:
            raise RuntimeError('fleetlab %s failed (%d)' % (' '.join(args), out.returncode))
        return out

    def up(self, *args):
        self.lab('up', *args)
        self.lab('inventory', '--format', 'yaml', '-o', self.inventory)

    def down(self):
        self.lab('down', check=False)

    def playbook(self, playbook, *args, log_name=None):
        """Run ansible-playbook on this lab; its output goes to RUN_DIR/<log_name>.log, which is returned."""
        env = dict(self.env, PATH=os.path.join(ROOT, '.venv', 'bin') + os.pathsep + self.env['PATH'],
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.venv', 'collections'))
        path = os.path.join(self.run_dir, '%s.log' % (log_name or os.path.basename(playbook)))
        with open(path, 'w') as log:
            subprocess.run(['ansible-playbook', '-i', self.inventory, '-i', os.path.join(ROOT, 'demo', 'hosts.yml'),
                            playbook] + list(args), env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                           stderr=subprocess.STDOUT, check=True)
        return path

    def ssh(self, host, command, check=True):
        # stdin from /dev/null: ssh would otherwise leave a shared stdin non-blocking, which ansible-playbook refuses.
        out = subprocess.run([FLEETLAB, 'ssh', host, '--', command], env=self.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, timeout=300)
        if check and out.returncode:
            raise RuntimeError('%s: %r failed: %s' % (host, command, out.stderr.decode(errors='replace').strip()))
        return out.stdout

    def text(self, host, command):
        return self.ssh(host, command).decode(errors='replace').strip()

    def boot_id(self, host):
        return self.text(host, 'cat /proc/sys/kernel/random/boot_id')

    def wait_reboot(self, host, old, timeout=900):
        return self.lab('wait-reboot', host, '--boot-id', old, '--timeout', str(timeout), check=False).returncode == 0

    def serial_path(self, host):
        return os.path.join(self.run_dir, host, 'serial.log')

    def serial_size(self, host):
        return os.path.getsize(self.serial_path(host))

    def serial_since(self, host, offset):
        with open(self.serial_path(host), 'rb') as handle:
            handle.seek(offset)
            return handle.read().decode(errors='replace').replace('\r', '')

    def collector_dumps(self, host, collector='kdump-collector'):
        """The collector's index rows of `host` (kdump-collector list --json), by id."""
        rows = json.loads(self.text(collector, 'runuser -u kdump -- /usr/local/bin/kdump-collector list --json '
                                               '--db /var/lib/kdump-collector/index.sqlite --host %s' % host) or '[]')
        return {row['id']: row for row in rows}
