# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Ask the kdump-collector program, never its files: the collector's modules find the program through the
configuration file the collector role writes, run one of its JSON subcommands and return the answer as it is.

What a dump, a panic or a crash kind looks like is the program's knowledge (crash-status, local-status): nothing
here reads an index, a dump directory or a kernel log."""

from __future__ import annotations

import json
import os
import sys
import time

from ansible_collections.fleet.kdump.plugins.module_utils._host_files import host_path

DEFAULT_CONFIG = '/etc/fleet-kdump/collector.json'
MAX_CONFIG_BYTES = 64 * 1024


class Collector:
    """The kdump-collector program a module runs, with the options common to every call."""

    def __init__(self, module, argv, config=None):
        self.module = module
        self.argv = list(argv)
        if config:
            self.argv += ['--config', config]

    @classmethod
    def from_config(cls, module, root, config):
        """The program named by the collector's configuration file (both resolved under root)."""
        path = host_path(root, config)
        try:
            executable = host_path(root, program_of(path))
        except ValueError as exc:
            module.fail_json(msg=str(exc))
        if not os.access(executable, os.X_OK):
            module.fail_json(msg='the collector program %s (from %s) is missing or not executable: run fleet.kdump.collector '
                                 'again' % (executable, path))
        return cls(module, [executable], path)

    @classmethod
    def from_package(cls, module, package):
        """A kdump_collector package directory or zip archive, run with this module's own Python."""
        if not os.path.exists(package):
            module.fail_json(msg='package %s does not exist: give a kdump_collector package directory or zip archive' % package)
        return cls(module, [sys.executable, '-I', package])

    def run(self, command, *args):
        """The JSON answer of `kdump-collector [--config C] COMMAND ARGS...`; a failure ends the module with its message."""
        argv = self.argv + [command] + [str(a) for a in args]
        rc, out, err = self.module.run_command(argv)
        err = (err or '').strip()
        if rc != 0:
            last = err.splitlines()[-1] if err else 'no message'
            self.module.fail_json(msg='kdump-collector %s failed (rc %d): %s' % (command, rc, last), rc=rc, stderr=err, cmd=argv)
        try:
            return json.loads(out)
        except ValueError:
            self.module.fail_json(msg='kdump-collector %s printed no JSON' % command, rc=rc, stdout=out, stderr=err, cmd=argv)


def program_of(path):
    """The "program" of the configuration file at path; ValueError with the fix when there is none."""
    try:
        with open(path, 'rb') as handle:
            data = json.loads(handle.read(MAX_CONFIG_BYTES + 1).decode('utf-8'))
    except (IOError, OSError) as exc:
        raise ValueError('cannot read the collector configuration %s (%s): is this the collector, configured by '
                         'fleet.kdump.collector? Run the task there (delegate_to).' % (path, exc.strerror or exc)) from None
    except ValueError as exc:
        raise ValueError('the collector configuration %s is not JSON (%s): run fleet.kdump.collector again' % (path, exc)) from None
    program = data.get('program') if isinstance(data, dict) else None
    if not isinstance(program, str) or not program.startswith('/'):
        raise ValueError('the collector configuration %s names no program (an absolute "program" path): run '
                         'fleet.kdump.collector again' % path)
    return program


def status_args(params):
    """Options of crash-status and local-status for the module's since and expect."""
    args = ['--json']
    for key in ('since', 'expect'):
        if params.get(key):
            args += ['--' + key, params[key]]
    return args


def summary(answer):
    """The module result of a crash-status or local-status answer: its hosts, and whether every one was found/settled."""
    hosts = answer.get('hosts') or {}
    return {
        'hosts': hosts,
        'found': bool(hosts) and all(h.get('found') for h in hosts.values()),
        'settled': bool(hosts) and all(h.get('settled') for h in hosts.values()),
        'since': answer.get('since'),
        'expect': answer.get('expect'),
        'indexed': answer.get('indexed'),
    }


def until_settled(ask, wait, sleep, clock=time.monotonic, pause=time.sleep):
    """summary() of ask() (a crash-status answer), asked again every sleep seconds for up to wait seconds while a host is
    neither found nor settled; with the number of questions asked."""
    deadline = clock() + wait
    attempts = 0
    while True:
        answer = summary(ask())
        attempts += 1
        left = deadline - clock()
        if left <= 0 or all(h.get('found') or h.get('settled') for h in answer['hosts'].values()):
            answer['attempts'] = attempts
            return answer
        pause(min(sleep, left))
