#!/usr/bin/python
# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: local_dump_query
short_description: Check the dumps kdump-tools saved on the host itself, with the collector's own checks
version_added: 0.2.0
author: fleet.kdump contributors (@fleet-kdump)
description:
  - For hosts whose dumps stay local (no SSH or NFS target), answers what M(fleet.kdump.collector_query) answers for the
    collector's hosts, with the same code. The collector program's C(local-status) reads
    C(KDUMP_COREDIR/<YYYYMMDDHHMM>/) and checks each dump as C(kdump-collector index) does (completeness, makedumpfile's
    end marker, format, the saved dmesg and its crash).
  - The action plugin ships the collector program of this collection to the host for the one call (a zip archive in
    Ansible's temporary directory, removed afterwards) and runs it with the module's Python. Nothing is installed.
options:
  coredir:
    description: kdump-tools' C(KDUMP_COREDIR) on the host.
    type: path
    default: /var/crash
  since:
    description:
      - Only dumps at or after this time (ISO 8601; UTC when no zone is given). kdump-tools stamps dumps to the minute.
    type: str
  expect:
    description:
      - The crash-test kind the dump must show, for example V(sysrq). Without it, any complete dump answers.
    type: str
  host:
    description:
      - Name the answer is given under in RV(hosts). The action plugin sets the inventory name.
    type: str
  package:
    description:
      - A C(kdump_collector) package directory or zip archive on the host to run. The action plugin ships the
        collection's own and sets this; give it only to run another copy.
    type: path
  root:
    description:
      - Directory under which O(coredir) is resolved, for tests and offline images.
    type: path
    default: /
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
    details: The action plugin ships the collector program for the call.
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: The query only reads; it runs in check mode too.
  diff_mode:
    support: none
  platform:
    platforms: debian
notes:
  - After a crash the host has rebooted, so every dump is final and C(settled) is always true.
  - Run it with C(become) (root), C(KDUMP_COREDIR) is root's.
seealso:
  - module: fleet.kdump.collector_query
"""

EXAMPLES = r"""
---
- name: Check the dump of the sysrq crash in /var/crash
  fleet.kdump.local_dump_query:
    coredir: /var/crash
    since: "{{ crash_started }}"
    expect: sysrq
  register: kdump_dump

- name: Fail with the reason when there is none
  ansible.builtin.assert:
    that: kdump_dump.found
    fail_msg: "{{ kdump_dump.hosts[inventory_hostname].why }}"
"""

RETURN = r"""
hosts:
  description:
    - The answer for the host, under O(host); the same keys as RV(fleet.kdump.collector_query#module:hosts).
      C(dumps[].id) is V(null) and C(dumps[].path) the dump directory on the host.
  returned: always
  type: dict
found:
  description: A complete dump (of the O(expect) kind) is in O(coredir) since O(since).
  returned: always
  type: bool
  sample: true
settled:
  description: Always true here.
  returned: always
  type: bool
  sample: true
since:
  description: O(since) as the program understood it (UTC).
  returned: always
  type: str
  sample: '2026-11-26T12:16:00Z'
expect:
  description: O(expect).
  returned: always
  type: str
  sample: sysrq
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleet.kdump.plugins.module_utils._collector import Collector, status_args, summary
from ansible_collections.fleet.kdump.plugins.module_utils._host_files import host_path


def main():
    module = AnsibleModule(
        argument_spec=dict(
            coredir=dict(type='path', default='/var/crash'),
            since=dict(type='str'),
            expect=dict(type='str'),
            host=dict(type='str'),
            package=dict(type='path'),
            root=dict(type='path', default='/'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not params['package']:
        module.fail_json(msg='package is not set: run the module through its action plugin (fleet.kdump.local_dump_query), '
                             'which ships the collector program, or give a kdump_collector package on the host')
    args = status_args(params) + ['--coredir', host_path(params['root'], params['coredir'])]
    if params['host']:
        args += ['--host', params['host']]
    answer = summary(Collector.from_package(module, params['package']).run('local-status', *args))
    answer.pop('indexed')
    module.exit_json(changed=False, **answer)


if __name__ == '__main__':
    main()
