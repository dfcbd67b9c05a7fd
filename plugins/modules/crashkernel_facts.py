#!/usr/bin/python
# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: crashkernel_facts
short_description: Gather the crashkernel reservation and kdump readiness of a host
version_added: 0.1.0
author: fleet.kdump contributors (@fleet-kdump)
description:
  - Reads C(/proc), C(/sys), C(/etc), C(/boot) and C(/var/lib/dpkg) and returns the C(crashkernel=) values of the running
    kernel, the boot configuration and C(/boot/grub/grub.cfg), what they reserve on this RAM, what the kernel really
    reserved, whether a capture kernel is loaded, and plain-language problems.
  - The C(crashkernel=) arithmetic follows the kernel (C(kernel/crash_core.c) of 6.1, C(kernel/crash_reserve.c) of 6.12), the same
    code as the P(fleet.kdump.crashkernel_reservation#filter) filter, with the semantics of the release that reads the command
    line, x86_64 rules (see C(docs/crashkernel.md)). The running release for RV(ansible_facts.crashkernel.expected_bytes); the
    release GRUB boots next (RV(ansible_facts.crashkernel.next_boot_release)) for RV(ansible_facts.crashkernel.configured_expected_bytes).
    For example C(crashkernel=foo crashkernel=256M,high) reserves 256 MiB on Linux 6.1 (x86 falls back to C(,high) when the plain
    value is invalid) and nothing on 6.7 and later (C(,high) counts only when there is no plain value at all).
  - Files are read under O(root) only. Symbolic links are followed while they stay inside O(root); a file reached through a
    link that leaves it, or that is not a regular file (a FIFO, a device), is not read and is named in
    RV(ansible_facts.crashkernel.problems).
  - C(/etc/default/kdump-tools) and C(/etc/default/grub) (plus C(/etc/default/grub.d/*.cfg)) are parsed as data, never sourced
    or executed; only plain assignments with C($NAME) expansion are understood and anything else is reported in RV(ansible_facts.crashkernel.problems).
  - The kdump state is decided from sysfs and the configuration files, not from C(kdump-config) exit codes.
  - Recommends a C(crashkernel=) size for the host from its RAM, CPU count, kernel, kdump initrd size and the smallest
    reservations measured by real crashes in the collection's VM lab, plus a safety margin
    (RV(ansible_facts.crashkernel.recommended_spec), with the reasoning in RV(ansible_facts.crashkernel.recommended_reasoning)).
  - Reports the panic policy (which kernel failures end in a panic, and so in a dump) from C(/proc/sys) and the
    sysctl configuration, and flags where it differs from the policy the P(fleet.kdump.kdump#role) role set
    (RV(ansible_facts.crashkernel.panic_policy)).
  - Changes nothing.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
attributes:
  check_mode:
    support: full
  diff_mode:
    support: N/A
    details: The module changes nothing.
  facts:
    support: full
  platform:
    platforms: posix
options:
  root:
    description:
      - Directory the host's files are read under, for offline images and tests.
      - Every path (C(/proc/cmdline), C(/sys/kernel/kexec_crash_size), C(/etc/default/kdump-tools), ...) is resolved below it.
    type: path
    default: /
  checksum_paths:
    description:
      - Absolute paths of files (resolved under O(root)) to return the SHA-256 of, in RV(checksums).
      - The P(fleet.kdump.kdump#role) role compares them with the checksums its last full run recorded (its fast path), in
        the same call that reads the kdump state.
    type: list
    elements: path
    default: []
    version_added: 0.2.0
notes:
  - Without root privileges C(/proc/iomem) shows zero addresses; RV(ansible_facts.crashkernel.ram_bytes) then falls back to
    C(MemTotal), which is lower than the figure the kernel compares.
  - RV(ansible_facts.crashkernel.expected_bytes) follows x86_64. Where the crash kernel region lands (below or above 4 GiB, and so
    whether a low region is reserved too) is predicted from the C(System RAM) ranges of C(/proc/iomem); without them (not root)
    a value below the RAM counts as placed below 4 GiB.
seealso:
  - plugin: fleet.kdump.crashkernel_reservation
    plugin_type: filter
"""

EXAMPLES = r"""
---
- name: Gather crashkernel facts
  fleet.kdump.crashkernel_facts:

- name: Fail when kdump is not ready
  ansible.builtin.assert:
    that: ansible_facts.crashkernel.kdump_state == 'ready'
    fail_msg: "{{ ansible_facts.crashkernel.kdump_state_reason }}: {{ ansible_facts.crashkernel.problems | join('; ') }}"

- name: Read the kdump state and checksum the kdump-tools configuration in the same call
  fleet.kdump.crashkernel_facts:
    checksum_paths:
      - /etc/default/kdump-tools
  register: kdump_state

- name: Read an offline image
  fleet.kdump.crashkernel_facts:
    root: /mnt/image
"""

RETURN = r"""
checksums:
  description:
    - Hex SHA-256 of each file of O(checksum_paths), keyed by the path as given.
    - V(null) for a path that is missing, unreadable or not a regular file (a directory, FIFO or device is never read);
      symbolic links are followed.
  returned: always
  type: dict
  sample: {"/etc/default/kdump-tools": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
  version_added: 0.2.0
ansible_facts:
  description: Facts to add to C(ansible_facts).
  returned: always
  type: dict
  contains:
    crashkernel:
      description: The crashkernel and kdump state of the host.
      returned: always
      type: dict
      contains:
        cmdline:
          description: Content of C(/proc/cmdline); V(null) when missing.
          type: str
          returned: always
          sample: BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/vda1 ro quiet crashkernel=384M-:128M
        cmdline_spec:
          description: Value of the last plain C(crashkernel=) of C(/proc/cmdline) (the one the kernel uses); V(null) if none.
          type: str
          returned: always
          sample: 384M-:128M
        cmdline_high_spec:
          description: Value of the last C(crashkernel=...,high) of C(/proc/cmdline), suffix included; V(null) if none.
          type: str
          returned: always
          sample: 512M,high
        cmdline_low_spec:
          description: Value of the last C(crashkernel=...,low) of C(/proc/cmdline), suffix included; V(null) if none.
          type: str
          returned: always
          sample: 256M,low
        ram_bytes:
          description: RAM compared by the kernel, the sum of the top-level C(System RAM) ranges of C(/proc/iomem), else C(MemTotal).
          type: int
          returned: always
          sample: 2130640896
        ram_source:
          description: Where RV(ansible_facts.crashkernel.ram_bytes) comes from; V(null) when neither file is readable.
          type: str
          returned: always
          choices: [iomem, meminfo]
          sample: iomem
        kernel_release:
          description: Running kernel release (C(/proc/sys/kernel/osrelease)).
          type: str
          returned: always
          sample: 6.1.0-13-amd64
        ram_rounded:
          description: Whether this kernel rounds the RAM up to 128 MiB before matching ranges (Linux 6.0 and later).
          type: bool
          returned: always
          sample: true
        next_boot_release:
          description:
            - Release of the kernel GRUB boots next, whose semantics apply to the boot configuration
              (RV(ansible_facts.crashkernel.configured_expected_bytes)).
            - The entry named by C(next_entry) of C(/boot/grub/grubenv) (C(grub-reboot)), else by the C(set default=) of
              C(/boot/grub/grub.cfg) (C(saved_entry) for C(GRUB_DEFAULT=saved)); else the newest C(/boot/vmlinuz-*); else the running one.
          type: str
          returned: always
          sample: 6.12.48+deb13-amd64
        next_boot_release_source:
          description: Where RV(ansible_facts.crashkernel.next_boot_release) was found; V(null) when it is unknown.
          type: str
          returned: always
          choices: [grub.cfg, /boot, running]
          sample: grub.cfg
        expected_bytes:
          description:
            - What C(/sys/kernel/kexec_crash_size) should read with the running command line, release and RAM.
            - Since Linux 6.5 it counts the low region below 4 GiB too, which goes with a region above 4 GiB (C(,high), or a plain
              value that does not fit below 4 GiB).
            - V(0) when the kernel reserves nothing (an invalid value, no range matching, no room); the reason is in
              RV(ansible_facts.crashkernel.problems). V(null) without any C(crashkernel=) or without a RAM figure.
          type: int
          returned: always
          sample: 134217728
        reserved_bytes:
          description: Bytes the kernel reserved (C(/sys/kernel/kexec/crash_size), else C(/sys/kernel/kexec_crash_size)); V(null)
            when the kernel has neither.
          type: int
          returned: always
          sample: 134217728
        reserved_low_bytes:
          description: Size of the low region when C(/proc/iomem) shows two C(Crash kernel) regions, else V(0); V(null) when
            C(/proc/iomem) is unreadable or shows zero addresses.
          type: int
          returned: always
          sample: 0
        kexec_loaded:
          description: Whether a capture kernel is loaded (C(/sys/kernel/kexec/crash_loaded) or C(/sys/kernel/kexec_crash_loaded));
            V(null) when the kernel has no kexec.
          type: bool
          returned: always
          sample: true
        configured_cmdline:
          description: The command line C(update-grub) would generate for normal entries from C(/etc/default/grub) and
            C(/etc/default/grub.d/*.cfg); V(null) when none of those files exists.
          type: str
          returned: always
          sample: root=/dev/vda1 quiet crashkernel=384M-:128M
        configured_spec:
          description: Plain C(crashkernel=) value the next boot uses according to the grub configuration; V(null) if none.
          type: str
          returned: always
          sample: 384M-:128M
        configured_high_spec:
          description: C(crashkernel=...,high) value of the grub configuration; V(null) if none.
          type: str
          returned: always
          sample: null
        configured_low_spec:
          description: C(crashkernel=...,low) value of the grub configuration; V(null) if none.
          type: str
          returned: always
          sample: null
        configured_expected_bytes:
          description: What C(/sys/kernel/kexec_crash_size) should read after the next boot (the boot configuration, with
            the semantics of RV(ansible_facts.crashkernel.next_boot_release)), as RV(ansible_facts.crashkernel.expected_bytes).
          type: int
          returned: always
          sample: 134217728
        grub_cfg_spec:
          description: Plain C(crashkernel=) value on the C(linux) line of the entry GRUB boots next; V(null) if absent.
          type: str
          returned: always
          sample: 384M-:128M
        grub_update_required:
          description: Whether C(/boot/grub/grub.cfg) disagrees with the grub configuration (C(update-grub) is pending).
          type: bool
          returned: always
          sample: false
        reboot_required:
          description: Whether the configured C(crashkernel=) values differ from the running ones (compared normalised,
            a missing value counts as a difference).
          type: bool
          returned: always
          sample: false
        kdump_installed:
          description: Whether C(/usr/sbin/kdump-config) exists.
          type: bool
          returned: always
          sample: true
        kdump_state:
          description: V(ready) when a capture kernel is loaded; V(disabled) when C(USE_KDUMP) is empty or V(0).
          type: str
          returned: always
          choices: [ready, not ready, disabled, not installed]
          sample: ready
        kdump_state_reason:
          description: The reason for RV(ansible_facts.crashkernel.kdump_state), in plain words.
          type: str
          returned: always
          sample: no crashkernel= on the kernel command line
        kdump_settings:
          description: Assignments of C(/etc/default/kdump-tools), parsed as data; a non-empty C(FTP_PASSWORD) reads V(********).
          type: dict
          returned: always
          sample: {"USE_KDUMP": "1", "KDUMP_COREDIR": "/var/crash"}
        kdump_tools_version:
          description: Version of the installed C(kdump-tools) package according to dpkg; V(null) when not installed.
          type: str
          returned: always
          sample: 1:1.8.1
        makedumpfile_installed:
          description: Whether C(/usr/bin/makedumpfile) exists.
          type: bool
          returned: always
          sample: true
        sysrq:
          description: Value of C(/proc/sys/kernel/sysrq); V(null) when missing.
          type: int
          returned: always
          sample: 438
        efi:
          description: Whether the host booted through UEFI (C(/sys/firmware/efi) exists).
          type: bool
          returned: always
          sample: true
        secure_boot:
          description: Whether Secure Boot is on as C(kdump-config) tests it (efivars C(SecureBoot) is 1 and C(SetupMode) is 0).
          type: bool
          returned: always
          sample: false
        lockdown:
          description: Selected kernel lockdown mode (C(/sys/kernel/security/lockdown)); V(null) when absent.
          type: str
          returned: always
          sample: none
        kexec_file_load_required:
          description: Whether only C(kexec_file_load) (C(kexec -s)) can load a capture kernel (Secure Boot or lockdown).
          type: bool
          returned: always
          sample: false
        boot_id:
          description: Value of C(/proc/sys/kernel/random/boot_id), to tell a reboot happened.
          type: str
          returned: always
          sample: 0f3c6b7e-5d0a-4a53-9f43-0d8c2f8a2b11
        cpu_count:
          description: Number of processors in C(/proc/cpuinfo); V(null) when missing.
          type: int
          returned: always
          sample: 2
        recommended_spec:
          description:
            - C(crashkernel=) size recommended for this host, what the P(fleet.kdump.kdump#role) role writes for
              O(fleet.kdump.kdump#role:main:kdump_crashkernel=auto); V(null) when the RAM size is unknown.
            - The smallest reservation that gave a complete dump in the VM lab for this kernel series and RAM, more for a
              larger kdump initrd or a capture kernel without C(nr_cpus=1), plus a margin of 16 MiB or 10%, rounded up to 16 MiB.
          type: str
          returned: always
          sample: 128M
        recommended_bytes:
          description: RV(ansible_facts.crashkernel.recommended_spec) in bytes; V(null) when there is no recommendation.
          type: int
          returned: always
          sample: 134217728
        recommended_reasoning:
          description: How RV(ansible_facts.crashkernel.recommended_spec) was reached, one step per line, with the numbers.
          type: list
          elements: str
          returned: always
          sample:
            - "kernel 6.1.0-50-amd64: measured series 6.1 (Debian 12, kernel 6.1.0-50-amd64, kdump-tools 1:1.8.1, QEMU guests with 1 vCPU)"
            - "112 MiB + 16 MiB safety margin (16 MiB or 10%, the larger), rounded up to 16 MiB: 128M"
        panic_policy:
          description:
            - The panic policy of the host. Sysctl values are integers, V(null) when the kernel or the file has none.
          type: dict
          returned: always
          contains:
            live:
              description:
                - Values in C(/proc/sys) of C(kernel.panic), C(kernel.panic_on_oops), C(kernel.panic_on_warn),
                  C(kernel.hung_task_panic), C(kernel.softlockup_panic), C(kernel.hardlockup_panic),
                  C(kernel.unknown_nmi_panic), C(kernel.panic_on_io_nmi), C(kernel.panic_on_unrecovered_nmi), and of the
                  detectors behind them (C(kernel.hung_task_timeout_secs), C(kernel.watchdog), C(kernel.soft_watchdog),
                  C(kernel.nmi_watchdog), C(kernel.watchdog_thresh)).
              type: dict
              sample: {"kernel.panic": 10, "kernel.panic_on_oops": 1, "kernel.panic_on_warn": 0}
            managed:
              description:
                - The policy the P(fleet.kdump.kdump#role) role set, read from its file C(/etc/sysctl.d/90-fleet-kdump-panic.conf);
                  V(null) when the file does not exist.
              type: dict
              sample: {"kernel.panic": 10, "kernel.panic_on_oops": 1, "kernel.panic_on_unrecovered_nmi": 1}
            boot:
              description:
                - The values the next boot applies, merging the C(sysctl.d) directories as C(systemd-sysctl) does;
                  V(null) where no file sets the sysctl (the kernel's default stays).
              type: dict
              sample: {"kernel.panic": 10, "kernel.panic_on_warn": null}
            capture:
              description:
                - The policy sysctls C(/etc/kdump/sysctl.conf) sets, which kdump-tools applies last in the capture kernel.
              type: dict
              sample: {"kernel.hung_task_panic": 0}
            capture_initrd_current:
              description:
                - Whether the kdump initrd of the running kernel was built with the current C(/etc/kdump/sysctl.conf)
                  (C(/var/lib/kdump/latest_sysctls-<release>)); V(null) when either file is missing.
              type: bool
              sample: true
            panics_on:
              description:
                - The failure classes the live values turn into a panic, among V(oops) (an oops or C(BUG())), V(warn),
                  V(hung_task), V(softlockup), V(hardlockup), V(unknown_nmi), V(unrecovered_nmi) and V(io_nmi).
              type: list
              elements: str
              sample: [oops, unknown_nmi, unrecovered_nmi]
            drift:
              description:
                - Sysctls whose live value or next-boot value differs from RV(ansible_facts.crashkernel.panic_policy.managed).
              type: list
              elements: str
              sample: []
        problems:
          description: Findings in plain language; empty when nothing looks wrong.
          type: list
          elements: str
          returned: always
          sample:
            - "crashkernel=384M-:128M reserves nothing on 256 MiB of RAM"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleet.kdump.plugins.module_utils._checksums import ChecksumError, checksums
from ansible_collections.fleet.kdump.plugins.module_utils._host_state import gather
from ansible_collections.fleet.kdump.plugins.module_utils._panic_policy import read_panic_policy


def main():
    module = AnsibleModule(
        argument_spec={
            'root': {'type': 'path', 'default': '/'},
            'checksum_paths': {'type': 'list', 'elements': 'path', 'default': []},
        },
        supports_check_mode=True,
    )
    root = module.params['root']
    try:
        sums = checksums(root, module.params['checksum_paths'])
    except ChecksumError as exc:
        module.fail_json(msg=str(exc))
    facts = gather(root)
    facts['panic_policy'], problems = read_panic_policy(root, facts['kernel_release'], facts['kexec_loaded'])
    facts['problems'].extend(problems)
    module.exit_json(changed=False, checksums=sums, ansible_facts={'crashkernel': facts})


if __name__ == '__main__':
    main()
