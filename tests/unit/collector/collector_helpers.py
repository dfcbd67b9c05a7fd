# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers for the kdump-collector tests (a uniquely named module, so no other conftest.py can shadow it)."""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The package directory: `python3 DIR SUBCOMMAND` runs it, as from a checkout and as the role's launcher does.
PROG = os.path.normpath(os.path.join(HERE, '..', '..', '..', 'roles', 'collector', 'files', 'kdump_collector'))
FIXTURES = os.path.join(HERE, 'fixtures')
STAMP = '202611261216'
# The interpreter that runs the program; set KDUMP_COLLECTOR_PYTHON=python3.8 to test the oldest supported one.
PYTHON = os.environ.get('KDUMP_COLLECTOR_PYTHON', sys.executable)


def run(*args, env=None, stdin=None, input_bytes=None, timeout=120, cwd=None):
    """Run kdump-collector with the test's Python (arguments as text, or bytes as they are); return CompletedProcess."""
    full_env = dict(os.environ)
    full_env.pop('SSH_ORIGINAL_COMMAND', None)
    full_env.update(env or {})
    return subprocess.run([PYTHON, PROG] + [a if isinstance(a, bytes) else str(a) for a in args], env=full_env,
                          stdin=stdin, input=input_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          check=False, cwd=cwd)


def receive(root, command, host='h1', tags=('t1',), extra=(), **kwargs):
    args = ['receive', '--root', root, '--host', host]
    for tag in tags:
        args += ['--tag', tag]
    return run(*(args + list(extra)), env={'SSH_ORIGINAL_COMMAND': command}, **kwargs)


def fixture_text(name):
    with open(os.path.join(FIXTURES, name), encoding='utf-8') as handle:
        return handle.read()


def snapshot(base):
    """Every path under base with its type, mode, size and content hash (symlinks not followed)."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(base):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            digest = None
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, 'rb') as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
            state[os.path.relpath(path, base)] = (st.st_mode, st.st_size if digest else 0, digest,
                                                  os.readlink(path) if os.path.islink(path) else None)
    return state


KDUMP = b'KDUMP   ' + b'\0' * 4088
# makedumpfile -F: a 4096-byte header (signature, type 1, version 1; big-endian), data blocks each behind an
# {offset, size} header, and an end header of -1, -1 that only a finished makedumpfile writes.
FLAT_HEADER = b'makedumpfile\0\0\0\0' + struct.pack('>qq', 1, 1) + b'\0' * 4064
FLAT_END = b'\xff' * 16


def flat(*blocks):
    """A complete flattened stream holding blocks (the first one by default a kdump-compressed header) back to back."""
    out, offset = [FLAT_HEADER], 0
    for data in blocks or (KDUMP,):
        out += [struct.pack('>qq', offset, len(data)), data]
        offset += len(data)
    return b''.join(out + [FLAT_END])


FLAT = flat()
ELF = b'\x7fELF\x02\x01\x01' + b'\0' * 4089


def make_entry(base, name, stamp, dmesg=None, dump=None, dump_name=None, extra=None):
    entry = os.path.join(base, '%s-%s' % (name, stamp))
    os.makedirs(entry, exist_ok=True)
    if dmesg is not None:
        with open(os.path.join(entry, 'dmesg.' + stamp), 'wb') as handle:
            handle.write(dmesg.encode() if isinstance(dmesg, str) else dmesg)
    if dump is not None:
        with open(os.path.join(entry, dump_name or 'dump.' + stamp), 'wb') as handle:
            handle.write(dump)
    for fname, data in (extra or {}).items():
        with open(os.path.join(entry, fname), 'wb') as handle:
            handle.write(data)
    return entry
