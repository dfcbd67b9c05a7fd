# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A collector laid out under a root directory as the collector role lays it out (configuration file, launcher of this
checkout's program, dump root), and dump directories as kdump-tools leaves them: for the tests of the modules and
roles that ask the collector."""

from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.normpath(os.path.join(HERE, '..', '..', 'roles', 'collector', 'files', 'kdump_collector'))
FIXTURES = os.path.join(HERE, 'collector', 'fixtures')
STAMP = '202611261216'
# makedumpfile -F: header, no data, and the end marker only a finished makedumpfile writes.
FLAT = b'makedumpfile\0\0\0\0' + b'\0\0\0\0\0\0\0\x01' * 2 + b'\0' * 4064 + b'\xff' * 16
CUT = FLAT[:-16]


def sysrq_dmesg():
    with open(os.path.join(FIXTURES, 'dmesg-sysrq-6.1.txt'), encoding='utf-8') as handle:
        return handle.read()


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb' if isinstance(data, bytes) else 'w') as handle:
        handle.write(data)
    os.chmod(path, mode)


def dump_dir(base, stamp=STAMP, dump=FLAT, dmesg=True):
    """One dump directory: dump.<stamp> (a finished flattened dump by default) and the dmesg of a sysrq crash."""
    write(os.path.join(base, 'dump.' + stamp), dump)
    if dmesg:
        write(os.path.join(base, 'dmesg.' + stamp), sysrq_dmesg())
    return base


def collector(root):
    """Configuration file and launcher under root; returns the dump root (ROOT/<host>/<tag>-<stamp>/)."""
    dumps = os.path.join(root, 'var/lib/kdump-collector/dumps')
    os.makedirs(dumps, exist_ok=True)
    write(os.path.join(root, 'usr/local/bin/kdump-collector'), '#!/bin/sh\nexec %s -I %s "$@"\n' % (sys.executable, PACKAGE), 0o755)
    write(os.path.join(root, 'etc/fleet-kdump/collector.json'), json.dumps({
        'program': '/usr/local/bin/kdump-collector', 'root': dumps, 'db': os.path.join(root, 'var/lib/kdump-collector/index.sqlite')}))
    return dumps
