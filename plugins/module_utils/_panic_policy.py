# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The panic policy of a host: which kernel failures end in a panic, and so in a dump, read from /proc/sys and
the sysctl configuration files (never from `sysctl`, so that an offline image under `root` reads the same way).

Three views of the same sysctls: `live` (/proc/sys now), `boot` (what systemd-sysctl applies at the next boot from
the sysctl.d directories) and `managed` (the fleet.kdump.kdump role's own sysctl.d file, the policy it set).
`capture` is /etc/kdump/sysctl.conf, which kdump-tools puts in the kdump initrd and applies last in the capture
kernel, which otherwise reads the same /etc/sysctl.d as the host (it boots the host's root file system).
"""

from __future__ import annotations

import fnmatch
import re

from ansible_collections.fleet.kdump.plugins.module_utils._host_files import host_files
from ansible_collections.fleet.kdump.plugins.module_utils._host_state import read_text

# The role's sysctl.d file (roles/kdump/vars/main.yml __kdump_panic_file names the same path). It sorts before
# 99-sysctl.conf, Debian's link to /etc/sysctl.conf, which stays the host administrator's last word.
ROLE_FILE = '/etc/sysctl.d/90-fleet-kdump-panic.conf'
CAPTURE_FILE = '/etc/kdump/sysctl.conf'
# kdump-config load copies CAPTURE_FILE here when it builds the kdump initrd (check_sysctl_change).
LATEST_SYSCTLS = '/var/lib/kdump/latest_sysctls-%s'
# systemd-sysctl's search path, highest priority first: a file name in an earlier directory hides the same name later.
SYSCTL_DIRS = ('/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d')

# The policy sysctls, in report order.
POLICY_KEYS = ('kernel.panic', 'kernel.panic_on_oops', 'kernel.panic_on_warn', 'kernel.hung_task_panic',
               'kernel.softlockup_panic', 'kernel.hardlockup_panic', 'kernel.unknown_nmi_panic',
               'kernel.panic_on_io_nmi', 'kernel.panic_on_unrecovered_nmi')
# The detectors behind some switches: a switch without its detector never fires.
DETECTOR_KEYS = ('kernel.hung_task_timeout_secs', 'kernel.watchdog', 'kernel.soft_watchdog', 'kernel.nmi_watchdog',
                 'kernel.watchdog_thresh')
# Switches the capture kernel should keep off (/etc/kdump/sysctl.conf): a slow dump, or a WARN from a driver meeting a
# device the crashed kernel left busy, must not end the dump that is being saved.
CAPTURE_OFF_KEYS = ('kernel.panic_on_warn', 'kernel.hung_task_panic', 'kernel.softlockup_panic', 'kernel.hardlockup_panic')

# Failure classes and whether the live values make the kernel panic on them (arch/x86/kernel/nmi.c: an NMI of
# unknown reason panics with unknown_nmi_panic or panic_on_unrecovered_nmi).
CLASSES = (
    ('oops', lambda v: _on(v, 'kernel.panic_on_oops')),
    ('warn', lambda v: _on(v, 'kernel.panic_on_warn')),
    ('hung_task', lambda v: _on(v, 'kernel.hung_task_panic') and _on(v, 'kernel.hung_task_timeout_secs')),
    ('softlockup', lambda v: _on(v, 'kernel.softlockup_panic') and _on(v, 'kernel.watchdog') and _on(v, 'kernel.soft_watchdog')),
    ('hardlockup', lambda v: _on(v, 'kernel.hardlockup_panic') and _on(v, 'kernel.watchdog') and _on(v, 'kernel.nmi_watchdog')),
    ('unknown_nmi', lambda v: _on(v, 'kernel.unknown_nmi_panic') or _on(v, 'kernel.panic_on_unrecovered_nmi')),
    ('unrecovered_nmi', lambda v: _on(v, 'kernel.panic_on_unrecovered_nmi')),
    ('io_nmi', lambda v: _on(v, 'kernel.panic_on_io_nmi')),
)
# The sysctl that decides each class, for messages.
CLASS_SWITCH = {'oops': 'kernel.panic_on_oops', 'warn': 'kernel.panic_on_warn', 'hung_task': 'kernel.hung_task_panic',
                'softlockup': 'kernel.softlockup_panic', 'hardlockup': 'kernel.hardlockup_panic',
                'unknown_nmi': 'kernel.unknown_nmi_panic', 'unrecovered_nmi': 'kernel.panic_on_unrecovered_nmi',
                'io_nmi': 'kernel.panic_on_io_nmi'}

# The crash kinds of sysrq_test besides sysrq (those of the fleet_crashkind test module), and the class each one is.
KIND_CLASS = (('oops', 'oops'), ('bug', 'oops'), ('warn', 'warn'), ('hung_task', 'hung_task'), ('softlockup', 'softlockup'))
KIND_TEXT = {'oops': 'an oops', 'bug': 'a BUG()', 'warn': 'a WARN()', 'hung_task': 'a hung task', 'softlockup': 'a soft lockup'}
# Kernel defaults, for a detector whose sysctl cannot be read.
HUNG_TASK_TIMEOUT_DEFAULT = 120
WATCHDOG_THRESH_DEFAULT = 10

_INT = re.compile(r'-?[0-9]{1,19}')
_GLOB = re.compile(r'[*?\[]')


def _on(values, key):
    return bool(values.get(key))


def _int(text):
    text = text.strip()
    return int(text) if _INT.fullmatch(text) else None


def proc_path(key):
    """/proc/sys path of a sysctl name ('kernel.panic' -> '/proc/sys/kernel/panic')."""
    return '/proc/sys/' + key.replace('.', '/')


def read_live(root='/'):
    """Live values of the policy and detector sysctls: int, or None when the kernel has no such sysctl."""
    values = {}
    for key in POLICY_KEYS + DETECTOR_KEYS:
        text = read_text(root, proc_path(key))
        values[key] = _int(text) if text is not None else None
    return values


def parse_sysctl_conf(text):
    """Assignments of a sysctl.d file as [(name or glob, value text)], in order (sysctl.d(5) syntax)."""
    assignments = []
    for raw in (text or '').splitlines():
        line = raw.strip()
        if not line or line[0] in '#;':
            continue
        key, sep, value = line.partition('=')
        if not sep:
            continue
        key = key.strip().lstrip('-').strip()
        # With '/' as the first separator the name is a /proc/sys path; the policy's names hold no other dots.
        assignments.append((key.replace('/', '.'), value.strip()))
    return assignments


def policy_values(assignments):
    """{key: int or None} for the policy keys the assignments set; explicit names win over globs, as in systemd-sysctl."""
    explicit, globbed = {}, {}
    for key, value in assignments:
        if _GLOB.search(key):
            for name in POLICY_KEYS:
                if fnmatch.fnmatchcase(name, key):
                    globbed[name] = _int(value)
        elif key in POLICY_KEYS:
            explicit[key] = _int(value)
    return dict(globbed, **explicit)


def sysctl_files(root='/'):
    """The sysctl.d files systemd-sysctl applies, in order, as host paths (masked and hidden names left out).

    A name masked by a link to /dev/null, or whose link leads out of `root`, is no regular file and is left out.
    """
    files = host_files(root)
    chosen = {}
    for directory in SYSCTL_DIRS:
        for name in files.list_dir(directory) or ():
            if name.endswith('.conf') and name not in chosen:
                chosen[name] = directory + '/' + name
    return [chosen[name] for name in sorted(chosen) if files.is_file(chosen[name])]


def read_boot(root='/'):
    """({key: value}, {key: file}) of what the next boot applies for each policy key, and which file sets it last."""
    values, sources = {}, {}
    for path in sysctl_files(root):
        found = policy_values(parse_sysctl_conf(read_text(root, path)))
        values.update(found)
        sources.update((key, path) for key in found)
    return values, sources


def _read_file_values(root, path):
    text = read_text(root, path)
    return policy_values(parse_sysctl_conf(text)) if text is not None else None


def panics_on(live):
    """Failure classes that the live values turn into a panic (and so, with kdump loaded, into a dump)."""
    return [name for name, test in CLASSES if test(live)]


def role_variable(key):
    """The fleet.kdump.kdump variable that sets a policy sysctl (None for kernel.panic_on_oops, which kdump-tools owns)."""
    if key == 'kernel.panic':
        return 'kdump_panic_timeout'
    return None if key == 'kernel.panic_on_oops' else 'kdump_' + key.split('.', 1)[1]


def kind_panics(kind, live):
    """(whether the live values make a crash kind panic, why) for sysrq_test's kinds."""
    if kind == 'sysrq':
        return True, 'sysrq "c" panics the kernel whatever the policy'
    klass = dict(KIND_CLASS)[kind]
    switch = CLASS_SWITCH[klass]
    text = KIND_TEXT[kind]
    if live.get(switch) is None:
        return False, 'this kernel has no %s, so %s cannot panic it' % (switch, text)
    if klass in panics_on(live):
        return True, '%s=%s: %s ends in a panic' % (switch, live[switch], text)
    if live[switch]:
        return False, '%s=%s but its detector is off (%s), so %s is never reported' % (
            switch, live[switch], ', '.join('%s=%s' % (key, _show(live.get(key))) for key in _detectors(klass)), text)
    variable = role_variable(switch)
    fix = ('set %s: true in the fleet.kdump.kdump role' % variable if variable else
           'kdump-tools sets it to 1 whenever it loads the capture kernel, so something set it back to 0 since')
    return False, '%s=0: %s is reported and the host carries on without a dump (%s)' % (switch, text, fix)


def _detectors(klass):
    return {'hung_task': ('kernel.hung_task_timeout_secs',), 'softlockup': ('kernel.watchdog', 'kernel.soft_watchdog')}.get(klass, ())


def kind_seconds(kind, live):
    """How long the test module keeps a lasting failure going, so that its detector surely reports it; None for instant kinds.

    khungtaskd looks every hung_task_timeout_secs and reports a task that stayed blocked from one look to the next:
    at most twice the timeout. A soft lockup is a CPU stuck past twice watchdog_thresh, checked every 2/5 of that.
    """
    if kind == 'hung_task':
        timeout = live.get('kernel.hung_task_timeout_secs') or HUNG_TASK_TIMEOUT_DEFAULT
        return 2 * timeout + 30
    if kind == 'softlockup':
        threshold = 2 * (live.get('kernel.watchdog_thresh') or WATCHDOG_THRESH_DEFAULT)
        return threshold + threshold * 2 // 5 + 10
    return None


def capture_initrd_current(root, kernel_release):
    """Whether the kdump initrd of the running kernel was built with the current /etc/kdump/sysctl.conf; None when unknown."""
    if not kernel_release:
        return None
    current = read_text(root, CAPTURE_FILE)
    built = read_text(root, LATEST_SYSCTLS % kernel_release)
    if current is None or built is None:
        return None
    return current == built


def read_panic_policy(root='/', kernel_release=None, loaded=False):
    """(policy facts, problems in plain words) of the host under `root`; `loaded`: a capture kernel is loaded."""
    live = read_live(root)
    managed = _read_file_values(root, ROLE_FILE)
    boot, sources = read_boot(root)
    capture = _read_file_values(root, CAPTURE_FILE) or {}
    policy = {
        'live': live,
        'managed': managed,
        'boot': dict((key, boot.get(key)) for key in POLICY_KEYS),
        'capture': capture,
        'capture_initrd_current': capture_initrd_current(root, kernel_release),
        'panics_on': panics_on(live),
        'drift': [],
    }
    problems = []
    for key, wanted in sorted((managed or {}).items()):
        if live.get(key) != wanted:
            policy['drift'].append(key)
            problems.append('%s is %s but the fleet.kdump panic policy (%s) sets %s: it was changed at run time; run the '
                            'fleet.kdump.kdump role again' % (key, _show(live.get(key)), ROLE_FILE, wanted))
        if boot.get(key) != wanted:
            if key not in policy['drift']:
                policy['drift'].append(key)
            problems.append('%s sets %s=%s after %s: the next boot does not apply the panic policy'
                            % (sources.get(key, 'nothing'), key, _show(boot.get(key)), ROLE_FILE))
    for key in CAPTURE_OFF_KEYS:
        if boot.get(key) and capture.get(key) != 0:
            problems.append('%s=%s also applies in the capture kernel, which reads /etc/sysctl.d from the root file system: '
                            'set %s=0 in %s so that it cannot end the dump being saved' % (key, boot[key], key, CAPTURE_FILE))
    if loaded and policy['capture_initrd_current'] is False:
        problems.append('%s changed after the kdump initrd was built (%s): the capture kernel applies the old values until '
                        'kdump-config reload' % (CAPTURE_FILE, LATEST_SYSCTLS % kernel_release))
    return policy, problems


def _show(value):
    return 'missing' if value is None else str(value)
