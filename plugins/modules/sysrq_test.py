#!/usr/bin/python
# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sysrq_test
short_description: Crash the kernel on purpose to prove that kdump captures a dump
version_added: 0.1.0
author: fleet.kdump contributors (@fleet-kdump)
description:
  - Runs a preflight that tells whether a crash now would produce a dump, and returns every check it made.
  - Only with O(confirm=true), outside check mode and with every check passing, arms the crash. The module writes a state file,
    starts a detached C(sh) that sleeps O(delay) seconds, runs C(sync) and writes the trigger (C(c) to C(/proc/sysrq-trigger) for
    O(kind=sysrq)), and returns at once. The host panics a few seconds later (up to RV(panic_within) more for a hung task or a
    soft lockup), the capture kernel saves the dump and the host reboots.
  - O(kind) other than V(sysrq) proves the host's panic policy (P(fleet.kdump.kdump#role) role, C(kdump_panic_*) variables).
    The failure is raised by the collection's C(fleet_crashkind) test module, which the role's C(crashkind) entry point builds
    and loads, and it ends in a panic only when the policy says so.
  - Follow it with M(ansible.builtin.wait_for_connection) and compare RV(boot_id) with the boot id after the reboot.
  - Never changes C(kernel.sysrq), because that sysctl only gates the keyboard and root can always write C(/proc/sysrq-trigger).
  - 'The checks: C(kdump_enabled) (kdump-tools installed and V(USE_KDUMP=1)), C(capture_kernel_loaded) (sysfs C(crash_loaded)),
    C(reservation_present) (sysfs C(crash_size) > 0), C(makedumpfile_installed), C(dump_target) (the local directory exists, or the
    SSH key file exists, or NFS/FTP is set), C(crash_kind) (see O(kind)), C(free_space) (local target only, see O(min_free_bytes)),
    C(load_average) (see O(max_load)), C(no_test_running) (no state file C(/run/fleet-kdump/sysrq_test.json) from the current boot).'
options:
  kind:
    description:
      - How to crash the host.
      - V(sysrq) writes C(c) to C(/proc/sysrq-trigger), which panics the kernel whatever its panic policy.
      - The others write to C(/proc/fleet_crashkind), the file of the collection's test module. V(oops) dereferences a NULL
        pointer and V(bug) runs C(BUG()) (both panic with C(kernel.panic_on_oops=1)), V(warn) runs C(WARN()) (C(kernel.panic_on_warn)),
        V(hung_task) blocks a kernel thread until the hung task detector reports it (C(kernel.hung_task_panic); up to twice
        C(kernel.hung_task_timeout_secs)), V(softlockup) keeps a CPU busy with preemption off until the soft lockup detector
        reports it (C(kernel.softlockup_panic); twice C(kernel.watchdog_thresh) and a little more).
      - The C(crash_kind) check refuses a kind when the module is not loaded, or when the live panic policy would only
        report the failure and let the host carry on, so a refused kind names the setting that is missing.
    type: str
    choices: [sysrq, oops, bug, warn, hung_task, softlockup]
    default: sysrq
  confirm:
    description:
      - Really crash the host. With V(false) only the preflight runs and nothing is triggered.
      - With V(true) and a failing preflight the module fails and arms nothing.
    type: bool
    default: false
  delay:
    description:
      - Seconds between the module's return and the crash. Leave enough time for the result to reach the controller.
    type: int
    default: 5
  max_load:
    description:
      - Highest 1-minute load average (C(/proc/loadavg)) at which the host may be crashed. A busier host has work to lose and
        a dump that takes longer.
      - Defaults to the number of CPUs of the host (C(processor) lines of C(/proc/cpuinfo)), that is a host that is not saturated.
    type: float
  min_free_bytes:
    description:
      - Free bytes needed in the local dump directory (C(KDUMP_COREDIR)) when the dump is local (no SSH, NFS or FTP).
      - A number of bytes or a size with a unit such as V(20G) or V(512M) (K, M, G, T, P, E are powers of 1024; see
        P(fleet.kdump.to_bytes#filter)).
      - Defaults to the larger of 256 MiB and one eighth of the RAM, an estimate of a compressed C(makedumpfile -d 31) dump.
    type: raw
  root:
    description:
      - Directory under which C(/proc), C(/sys), C(/etc), C(/run) and the dump directory are resolved, for tests and offline images.
    type: path
    default: /
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode only the preflight runs; C(changed) tells whether the crash would be armed.
  diff_mode:
    support: none
  platform:
    platforms: debian
notes:
  - The connection to the host drops when it crashes; run the task with a O(delay) of a few seconds and wait for the reboot afterwards.
  - A kind other than V(sysrq) whose policy is off leaves the host running with the failure reported in its kernel log
    (an oops also kills the writing process and taints the kernel), which is why the preflight refuses it.
  - The crash is armed with C(setsid -f) from util-linux (essential on Debian and Ubuntu), so no C(async) is needed.
seealso:
  - module: fleet.kdump.kdump_config
  - name: Linux Magic System Request Key Hacks
    description: The kernel documentation of /proc/sysrq-trigger.
    link: https://docs.kernel.org/admin-guide/sysrq.html
"""

EXAMPLES = r"""
---
- name: Check that a crash now would be captured
  fleet.kdump.sysrq_test:
  register: kdump_preflight

- name: Crash the host
  fleet.kdump.sysrq_test:
    confirm: true
    delay: 5
  register: kdump_crash

- name: Wait for the capture kernel to save the dump and the host to come back
  ansible.builtin.wait_for_connection:
    delay: 60
    timeout: 900

- name: Read the boot id after the reboot
  ansible.builtin.slurp:
    src: /proc/sys/kernel/random/boot_id
  register: kdump_boot_id

- name: Assert that the host rebooted
  ansible.builtin.assert:
    that: (kdump_boot_id.content | b64decode | trim) != kdump_crash.boot_id

# Another run: prove that a hung task ends in a dump under the host's panic policy.
- name: Build and load the fleet_crashkind test module
  ansible.builtin.include_role:
    name: fleet.kdump.kdump
    tasks_from: crashkind

- name: Block a kernel thread until the hung task detector panics the kernel
  fleet.kdump.sysrq_test:
    kind: hung_task
    confirm: true
  register: kdump_crash

- name: Wait for the detector, the dump and the reboot
  ansible.builtin.wait_for_connection:
    delay: "{{ kdump_crash.panic_within + 60 }}"
    timeout: 1200
"""

RETURN = r"""
checks:
  description: Every preflight check, in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the check.
      type: str
      sample: capture_kernel_loaded
    ok:
      description: Whether the check passed.
      type: bool
      sample: true
    detail:
      description: What was found.
      type: str
      sample: a capture kernel is loaded
preflight_ok:
  description: Whether every check passed.
  returned: always
  type: bool
  sample: true
failed_checks:
  description: Names of the failed checks.
  returned: when O(confirm=true) and the preflight failed
  type: list
  elements: str
  sample: [reservation_present]
kind:
  description: The crash kind of O(kind).
  returned: always
  type: str
  sample: oops
panic_within:
  description:
    - Seconds after the trigger within which the kernel panics, for the kinds whose detector needs time (V(hung_task),
      V(softlockup)); V(0) for the others. Wait that much longer before looking for the reboot.
  returned: always
  type: int
  sample: 270
dmesg_marker:
  description: A regular expression that a line of the crashed kernel's log (the dump's C(dmesg) file) matches for this kind.
  returned: always
  type: str
  sample: 'fleet_crashkind: oops requested'
boot_id:
  description: The boot id before the crash; a different one after the reboot proves the host went down.
  returned: always
  type: str
  sample: 3f1c2a9e-6a53-4c8e-9d0b-2b8e3f2a1c44
kernel_release:
  description: Release of the running kernel.
  returned: always
  type: str
  sample: 6.1.0-28-amd64
trigger_time:
  description: When the crash is due, seconds since the epoch.
  returned: when the crash was armed
  type: float
  sample: 1795701600.25
trigger_time_iso:
  description: When the crash is due, ISO 8601 in UTC.
  returned: when the crash was armed
  type: str
  sample: '2026-11-26T14:00:00.250000+00:00'
armed_after:
  description: Seconds between the return of the module and the crash.
  returned: when the crash was armed
  type: int
  sample: 5
state_file:
  description: The state file recording the armed test (under O(root)); it disappears with the reboot because C(/run) is a tmpfs.
  returned: when the crash was armed
  type: str
  sample: /run/fleet-kdump/sysrq_test.json
msg:
  description: What happened.
  returned: always
  type: str
  sample: 'Preflight passed; nothing was triggered because confirm is false'
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleet.kdump.plugins.module_utils._sizes import SizeError, to_bytes
from ansible_collections.fleet.kdump.plugins.module_utils._sysrq import KINDS, SysrqTest


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kind=dict(type='str', default='sysrq', choices=list(KINDS)),
            confirm=dict(type='bool', default=False),
            delay=dict(type='int', default=5),
            max_load=dict(type='float'),
            min_free_bytes=dict(type='raw'),
            root=dict(type='path', default='/'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params['delay'] < 1:
        module.fail_json(msg='delay must be at least 1 second, got %d' % params['delay'])
    if params['max_load'] is not None and params['max_load'] <= 0:
        module.fail_json(msg='max_load must be positive, got %s' % params['max_load'])
    if params['min_free_bytes'] is not None:
        try:
            params['min_free_bytes'] = to_bytes(params['min_free_bytes'], 'min_free_bytes')
        except SizeError as exc:
            module.fail_json(msg=str(exc))
    SysrqTest(module).run()


if __name__ == '__main__':
    main()
