#!/usr/bin/env python
# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmarks of kdump-collector, printing ratios measured in this run.

1. ingest: `receive` (SSH forced command, dd path) vs plain `dd` of the same bytes from the same file;
   goal: throughput ratio >= 0.95. receive pays ~60 ms once per request (Python start), so the stream is
   2 GiB by default, the size of a compressed dump of a large server.
2. index: full index of 10,000 synthetic dumps (goal <= 10 s), then an incremental pass after 10 new
   dumps arrive (goal <= 5 % of the full pass).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROG = os.path.join(HERE, '..', 'roles', 'collector', 'files', 'kdump_collector')
FIXTURE = os.path.join(HERE, '..', 'tests', 'unit', 'collector', 'fixtures', 'dmesg-sysrq-6.1.txt')
MIB = 1024 * 1024


def timed(argv, source, env=None):
    """Seconds to push source through argv on stdin (a file: a cat | pipe only added scheduling noise on small hosts)."""
    start = time.perf_counter()
    with open(source, 'rb') as stdin:
        subprocess.run(argv, stdin=stdin, env=env, check=True)
    return time.perf_counter() - start


def bench_ingest(work, size_mib, rounds):
    """Both sides write to the same filesystem; tmpfs when there is one, so disk writeback noise does not decide."""
    if os.access('/dev/shm', os.W_OK):
        work = tempfile.mkdtemp(prefix='kdump-collector-bench-', dir='/dev/shm')
    try:
        return ingest_rounds(work, size_mib, rounds)
    finally:
        if work.startswith('/dev/shm/'):
            shutil.rmtree(work, ignore_errors=True)


def ingest_rounds(work, size_mib, rounds):
    source = os.path.join(work, 'source.bin')
    block = os.urandom(MIB)
    with open(source, 'wb') as handle:
        for _index in range(size_mib):
            handle.write(block)
    root = os.path.join(work, 'ingest')
    raw, rcv = [], []
    for num in range(rounds):
        target = os.path.join(work, 'raw.bin')
        env = dict(os.environ, SSH_ORIGINAL_COMMAND='dd of=/var/crash/b-2026112600%02d/dump-incomplete' % num)
        sides = [(raw, ['dd', 'bs=1M', 'iflag=fullblock', 'status=none', 'of=' + target], None),
                 (rcv, [sys.executable, PROG, 'receive', '--root', work, '--host', 'ingest', '--tag', 'b'], env)]
        # Alternate which side goes first, so neither always meets the other's leftover page cache work.
        for times, argv, side_env in sides[::1 if num % 2 else -1]:
            times.append(timed(argv, source, side_env))
            # Only one copy besides the source at a time: tmpfs is RAM.
            if os.path.exists(target):
                os.unlink(target)
            shutil.rmtree(root, ignore_errors=True)
    ratio = min(raw) / min(rcv)
    print('ingest (%s): %d MiB, raw dd %.3f s (%.0f MiB/s), receive %.3f s (%.0f MiB/s), best of %d' % (
        work, size_mib, min(raw), size_mib / min(raw), min(rcv), size_mib / min(rcv), rounds))
    print('ingest throughput ratio receive/dd: %.3f (goal >= 0.95) %s' % (ratio, 'OK' if ratio >= 0.95 else 'MISSED'))
    # What a request costs before its first byte moves: a mkdir through receive, same interpreter.
    env = dict(os.environ, SSH_ORIGINAL_COMMAND='mkdir -p /var/crash/b-202611260000')
    startup = min(timed([sys.executable, PROG, 'receive', '--root', work, '--host', 'ingest', '--tag', 'b'], os.devnull, env)
                  for _index in range(5))
    print('ingest: receive costs %.3f s per request before the stream starts; streaming ratio without it: %.3f' % (
        startup, min(raw) / max(min(rcv) - startup, 1e-9)))
    return ratio >= 0.95


BOOT_CHATTER = (
    'pci 0000:00:%02x.0: [8086:7000] type 00 class 0x060100',
    'ACPI: PM-Timer IO Port: 0x608',
    'systemd[1]: Started systemd-udevd.service - Rule-based Manager for Device Events and Files.',
    'virtio_blk virtio1: [vda] 6291456 512-byte logical blocks (3.22 GB/3.00 GiB)',
    'audit: type=1400 audit(1764159%03d.120:2): apparmor="STATUS" operation="profile_load" profile="unconfined" name="lsb_release"',
    'EXT4-fs (vda): re-mounted. Quota mode: none.',
    'input: AT Translated Set 2 keyboard as /devices/platform/i8042/serio0/input/input%d',
)


def realistic(text, size=36 * 1024):
    """The fixture padded with boot messages to the ~36 KB dmesg.STAMP that kdump-tools really sends (vm-lab.md)."""
    lines = text.splitlines(True)
    filler, num = [], 0
    while sum(len(line) for line in lines) + sum(len(line) for line in filler) < size:
        message = BOOT_CHATTER[num % len(BOOT_CHATTER)]
        filler.append('[%5d.%06d] %s\n' % (2 + num // 40, num * 7919 % 1000000, message % (num % 100) if '%' in message else message))
        num += 1
    return ''.join(lines[:14] + filler + lines[14:])


def make_dumps(root, hosts, per_host, text, start=0):
    # A flattened header, padding and makedumpfile's end marker: the collector indexes it as complete.
    header = b'makedumpfile\0\0\0\0' + b'\0' * 4080 + b'\xff' * 16
    for host in range(hosts):
        for num in range(start, start + per_host):
            stamp = '2026%02d%02d%02d%02d' % (1 + num // 2000 % 12, 1 + num // 80 % 25, num // 4 % 20, num % 4 * 15)
            entry = os.path.join(root, 'host%03d' % host, 'host%03d-%s' % (host, stamp))
            os.makedirs(entry)
            with open(os.path.join(entry, 'dmesg.' + stamp), 'w', encoding='utf-8') as handle:
                handle.write(text.replace('PID: 812', 'PID: %d' % (num + 100)))
            with open(os.path.join(entry, 'dump.' + stamp), 'wb') as handle:
                handle.write(header)


def run_index(root, db):
    start = time.perf_counter()
    subprocess.run([sys.executable, PROG, 'index', '--root', root, '--db', db], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_help():
    start = time.perf_counter()
    subprocess.run([sys.executable, PROG, '--help'], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def bench_index(work, count):
    with open(FIXTURE, encoding='utf-8') as handle:
        text = realistic(handle.read())
    root = os.path.join(work, 'index-root')
    db = os.path.join(work, 'index.db')
    hosts = 100
    make_dumps(root, hosts, count // hosts, text)
    full = run_index(root, db)
    incremental = []
    for num in range(3):
        make_dumps(root, 10, 1, text, start=count // hosts + num)
        incremental.append(run_index(root, db))
    incremental = min(incremental)
    ratio = incremental / full
    startup = min(run_help() for _index in range(3))
    print('index: full pass over %d dumps (dmesg %d bytes each) %.2f s (goal <= 10 s) %s' % (count, len(text), full, 'OK' if full <= 10 else 'MISSED'))
    print('index: incremental pass with 10 new (best of 3) %.3f s, ratio %.3f (goal <= 0.05) %s' % (
        incremental, ratio, 'OK' if ratio <= 0.05 else 'MISSED'))
    print('index: of which %.3f s is starting Python and loading the program (kdump-collector --help)' % startup)
    return full <= 10 and ratio <= 0.05


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--ingest-mib', type=int, default=2048, help='bytes pushed through each ingest run, in MiB')
    parser.add_argument('--rounds', type=int, default=5, help='ingest runs per side (best is kept)')
    parser.add_argument('--dumps', type=int, default=10000, help='synthetic dumps for the index benchmark')
    parser.add_argument('--workdir', help='scratch directory (default: a new temporary directory, removed afterwards)')
    args = parser.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix='kdump-collector-bench-')
    try:
        results = [bench_ingest(work, args.ingest_mib, args.rounds), bench_index(work, args.dumps)]
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
