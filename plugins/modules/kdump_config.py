#!/usr/bin/python
# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kdump_config
short_description: Manage /etc/default/kdump-tools and apply it to the loaded capture kernel
version_added: 0.1.0
author: fleet.kdump contributors (@fleet-kdump)
description:
  - Sets or removes variables in the kdump-tools defaults file of Debian and Ubuntu, keeping comments and every unmanaged line byte for byte.
  - Every known variable is validated against what C(kdump-config) really does with it, and the whole request is validated before
    anything is written.
  - Values are written as C(KEY="value") with C(\\), C("), C(`) and C($) backslash-escaped, so that both C(sh) (which sources the file) and
    systemd's C(EnvironmentFile=) read back exactly the value and execute nothing.
  - An existing assignment is replaced in place (the last one, which wins when the file is sourced; earlier duplicates are removed).
    A new variable goes right after its commented template line (for example C(#KDUMP_COMPRESSION=)) when there is one, else at the end.
  - The existing file is read with the POSIX shell grammar (quotes, backslashes, continuations, comments, here-documents, C($(...)),
    compound commands, functions), never executed. A managed variable can be changed only where it is a plain top-level
    assignment on a line of its own (C(KEY=value) or C(export KEY=value), a comment allowed). When the variable is assigned
    anywhere else (inside C(if), C(while), C(until), C(for), C(case), C({ }), C(( )) or a function body, before a command word,
    through C(${KEY=...}), by C(for), C(readonly) or C(unset), with a value that spans several lines, on a line continued with
    a backslash, or together with other commands or variables), or looks assigned inside a here-document or a multi-line string,
    the module fails, names the lines and changes nothing.
  - A value that needs expansion (C($), backquotes, C(~)) is never evaluated; it counts as different from any requested value and is
    replaced when its variable is managed. A comment after a managed assignment is dropped when the line is rewritten, because systemd
    would read it as part of the value.
  - Before anything is written, in check mode too, the new content is proved by the shells that will source it. It must hold nothing
    that runs, writes or blocks when sourced (only assignments, comments, the C(:), C(true), C(false), C([), C(test), C(export),
    C(readonly) and C(unset) builtins, and compound commands of them; a file that runs other commands is refused); C(dash -n) and
    C(bash -n) must accept it; and sourced under C(env -i) with C(set -a) in an empty directory, in dash and in bash, it must set
    every variable exactly as before except the managed ones, which must hold exactly their new values, print nothing on stderr and
    create no file. Without bash on the host the proof uses dash only, with a warning. RV(proved_with) names the shells.
  - Optionally loads, reloads or unloads the capture kernel when the change needs it (O(reload)).
options:
  path:
    description:
      - The kdump-tools defaults file, resolved under O(root).
      - Created with mode V(0644) when missing and there is something to set.
      - Symbolic links on the way (the file itself or a directory) are followed only while they stay inside O(root). A link whose
        target is inside O(root) is written through, the file it points to being replaced atomically (a new file renamed over it, in
        its directory), the link stays. A link that leads outside O(root) is refused with an error, and nothing outside O(root) is
        read or shown. A path that is not a regular file (a FIFO, a directory) is refused.
    type: path
    default: /etc/default/kdump-tools
  allow_environment_keys:
    description:
      - Names of environment variables the playbook means to set in the file, which O(settings) refuses otherwise.
      - The file is sourced by root's shell and exported by systemd to the kdump-tools services (C(EnvironmentFile=)), so a key such as
        C(PATH), C(LD_PRELOAD), C(LD_LIBRARY_PATH), C(IFS), C(BASH_ENV), C(ENV), C(PS4), C(SHELLOPTS), C(BASHOPTS), C(CDPATH) or
        C(GLOBIGNORE) changes what kdump-config and the programs it starts do. The refused names are those of the shells (POSIX sh,
        dash, bash), the C library and dynamic linker (every C(LD_*), C(LC_*), C(MALLOC_*), C(GCONV_PATH), C(GLIBC_TUNABLES), C(TZ),
        C(TMPDIR)...), every C(BASH_*), and those ssh and the compressors read (C(SSH_ASKPASS), C(XZ_OPT), C(GZIP)...).
    type: list
    elements: str
    default: []
  settings:
    description:
      - Variables to set, C(KEY) to value. A V(null) value removes every active assignment of the variable.
      - Values may be strings, integers or (for V(USE_KDUMP) and V(KDUMP_DUMP_DMESG) only) booleans, which become V(1)/V(0).
      - An empty string is accepted for every variable except V(USE_KDUMP); kdump-config then applies its own default.
      - V(USE_KDUMP) and V(KDUMP_DUMP_DMESG) are V(0) or V(1). V(KDUMP_NUM_DUMPS) is an integer >= 0. V(NFS_TIMEO), V(NFS_RETRANS),
        V(SSH_KDUMP_RETRY) and V(NFS_MOUNT_RETRY) are integers >= 1. V(FTP_PORT) is 1 to 65535.
      - V(KDUMP_KERNEL), V(KDUMP_INITRD), V(KDUMP_COREDIR), V(SSH_KEY) and V(KDUMP_CONFIG) are absolute paths of the characters
        C(A-Z a-z 0-9 . _ / + -), because kdump-config uses them unquoted, also in remote commands.
      - V(KDUMP_COMPRESSION) is one of V(bzip2), V(gzip), V(lz4), V(xz). V(HOSTTAG) is V(ip) or V(hostname).
      - V(SSH) is C(user@host) (host name, IPv4 or C([IPv6])). V(NFS) is C(host:/export/path). V(FTP) is C(host[:path]).
      - V(KDUMP_FAIL_CMD) is one absolute executable path followed by plain arguments. kdump-tools runs it without a shell, so shell
        syntax would not work; use a script.
      - V(MAKEDUMP_ARGS) and V(KDUMP_KEXEC_ARGS) are option words made of letters, digits and C(._/+=:,@%-).
      - V(KDUMP_CMDLINE) and V(KDUMP_CMDLINE_APPEND) are kernel command line words without C(" ` $ \ ; | & < > ( )), because kdump-config
        evaluates the command line when it loads the capture kernel. V(KDUMP_CMDLINE_APPEND) must keep
        C(systemd.unit=kdump-tools-dump.service), otherwise the capture kernel boots to C(default.target) and saves nothing.
      - Other variable names are C([A-Z_][A-Z0-9_]*) (the whole name, so a name ending in a newline is refused) and take any printable
        text without newlines.
      - Names the shell, the dynamic linker or the programs kdump-config runs read from the environment are refused unless listed in
        O(allow_environment_keys); removing one (V(null)) is always allowed.
      - The value of V(FTP_PASSWORD) is masked in results and diffs.
    type: dict
    default: {}
  backup:
    description:
      - Create a backup file with a timestamp before changing the file.
    type: bool
    default: false
  reload:
    description:
      - Make the running kernel match the file, reading the C(crash_loaded) sysfs file (C(/sys/kernel/kexec/crash_loaded) or the legacy
        C(/sys/kernel/kexec_crash_loaded)).
      - With V(USE_KDUMP=1) and nothing loaded, runs C(kdump-config load). With a capture kernel loaded and a changed load-time variable
        (V(USE_KDUMP), V(KDUMP_KERNEL), V(KDUMP_INITRD), V(KDUMP_CMDLINE), V(KDUMP_CMDLINE_APPEND), V(KDUMP_KEXEC_ARGS), V(KDUMP_CONFIG)),
        runs C(kdump-config reload). With V(USE_KDUMP) other than V(1) and a capture kernel loaded, runs C(kdump-config unload).
      - Dump-time variables (targets, compression, makedumpfile options...) are read from the root file system when the dump is taken and
        need no reload.
      - The exit code of kdump-config is not trusted; the module fails unless sysfs shows the expected state afterwards.
      - The commands act on the running system, so use this with O(root=/).
    type: bool
    default: false
  root:
    description:
      - Directory under which O(path) and the C(/sys) files are resolved. Use it to manage an offline image.
    type: path
    default: /
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode no kdump-config command runs, not even C(show), because every invocation creates the dump directory.
  diff_mode:
    support: full
  platform:
    platforms: debian
notes:
  - Only the kdump-tools layout of Debian and Ubuntu is supported.
seealso:
  - module: fleet.kdump.sysrq_test
"""

EXAMPLES = r"""
---
- name: Send dumps to the collector over SSH, compressed
  fleet.kdump.kdump_config:
    settings:
      USE_KDUMP: true
      SSH: kdump@collector.example.com
      SSH_KEY: /root/.ssh/kdump_id_ed25519
      KDUMP_COMPRESSION: xz
      HOSTTAG: hostname
    backup: true

- name: Change the capture kernel command line and reload the capture kernel
  fleet.kdump.kdump_config:
    settings:
      KDUMP_CMDLINE_APPEND: reset_devices systemd.unit=kdump-tools-dump.service nr_cpus=1 irqpoll usbcore.nousb nokaslr
    reload: true

- name: Set a PATH for the programs kdump-config runs (refused unless listed)
  fleet.kdump.kdump_config:
    settings:
      PATH: /usr/local/sbin:/usr/sbin:/usr/bin
    allow_environment_keys: [PATH]

- name: Disable kdump and unload the capture kernel
  fleet.kdump.kdump_config:
    settings:
      USE_KDUMP: 0
      NFS: null
    reload: true
"""

RETURN = r"""
settings:
  description:
    - Effective value of every variable the file sets after the change (the last assignment wins).
    - A value the file sets through shell expansion is returned as its source text, and one set anywhere but a plain top-level
      assignment as its line. V(FTP_PASSWORD) is masked.
  returned: always
  type: dict
  sample: {"USE_KDUMP": "1", "KDUMP_KERNEL": "/var/lib/kdump/vmlinuz", "KDUMP_COREDIR": "/var/crash", "KDUMP_COMPRESSION": "xz"}
proved_with:
  description: The shells that sourced the new content before it was written (see the description).
  returned: when the content changed (in check mode too)
  type: list
  elements: str
  sample: [dash, bash]
changed_keys:
  description: Variables whose effective value changed (set, changed or removed).
  returned: always
  type: list
  elements: str
  sample: ["KDUMP_COMPRESSION"]
backup_file:
  description: Name of the backup file.
  returned: when O(backup=true) and the file changed
  type: str
  sample: /etc/default/kdump-tools.12345.2026-11-26@14:00:00~
reloaded:
  description: Whether a kdump-config load, reload or unload ran (in check mode, would run).
  returned: always
  type: bool
  sample: true
reload_action:
  description: The kdump-config action that ran (in check mode, would run).
  returned: always
  type: str
  choices: [none, load, reload, unload]
  sample: reload
kdump_show:
  description:
    - Parsed C(kdump-config show) after the change. Besides the keys below it holds every C(KEY value) line of the output, for example
      C(DUMP_MODE), C(USE_KDUMP), C(KDUMP_COREDIR), C(SSH), C(NFS), C(HOSTTAG), and C(crashkernel_addr).
  returned: when O(reload=true), kdump-config is installed and not in check mode
  type: dict
  contains:
    current_state:
      description: The C(current state) line, for example V(ready to kdump) or V(Not ready to kdump).
      type: str
      sample: ready to kdump
    ready:
      description: Whether the current state is ready.
      type: bool
      sample: true
    kexec_command:
      description: The last recorded kexec command, when there is one.
      type: str
      sample: /sbin/kexec -p --command-line="..." --initrd=/var/lib/kdump/initrd.img /var/lib/kdump/vmlinuz
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleet.kdump.plugins.module_utils._kdump_config import DEFAULT_PATH, KdumpConfig


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default=DEFAULT_PATH),
            settings=dict(type='dict', default={}),
            backup=dict(type='bool', default=False),
            reload=dict(type='bool', default=False),
            root=dict(type='path', default='/'),
            allow_environment_keys=dict(type='list', elements='str', default=[], no_log=False),
        ),
        supports_check_mode=True,
    )
    KdumpConfig(module).run()


if __name__ == '__main__':
    main()
