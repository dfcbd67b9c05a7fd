#!/usr/bin/python
# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: collector_record
short_description: Record the outcome of a crash test in the kdump collector's index
version_added: 0.2.0
author: fleet.kdump contributors (@fleet-kdump)
description:
  - Runs on the collector (C(delegate_to) its host) and records one crash test through the collector program,
    C(kdump-collector record), found through the configuration file the P(fleet.kdump.collector#role) role writes.
    C(kdump-collector list-tests) and C(show) list the records; the report and the metrics count them.
  - Every run adds a record (C(changed) is always true); in check mode nothing is recorded.
options:
  host:
    description: Inventory name of the host that was crashed.
    type: str
    required: true
  outcome:
    description: Result of the crash test.
    type: str
    choices: [ok, failed]
    required: true
  kernel:
    description: Kernel release the host crashed with.
    type: str
  config_hash:
    description: Hash of the kdump configuration the test exercised.
    type: str
  dump_id:
    description:
      - Id of the indexed dump the test produced (C(dump.id) of the host in the
        RV(fleet.kdump.collector_query#module:hosts) of M(fleet.kdump.collector_query)).
    type: int
  detail:
    description: Free text, for example why the test failed.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - fleet.kdump.collector
attributes:
  check_mode:
    support: full
    details: Nothing is recorded; C(changed) is true.
  diff_mode:
    support: none
  platform:
    platforms: debian
seealso:
  - module: fleet.kdump.collector_query
"""

EXAMPLES = r"""
---
- name: Record the crash test of this host on the collector
  fleet.kdump.collector_record:
    host: "{{ inventory_hostname }}"
    outcome: ok
    kernel: "{{ ansible_facts['kernel'] }}"
    dump_id: "{{ kdump_dump.hosts[inventory_hostname].dump.id }}"
  delegate_to: "{{ groups['kdump_collector'] | first }}"
"""

RETURN = r"""
id:
  description: Id of the record; V(null) in check mode.
  returned: always
  type: int
  sample: 7
record:
  description: The record as stored (C(id), C(time), C(host), C(outcome), C(kernel), C(config_hash), C(dump_id), C(detail)).
  returned: when recorded (not in check mode)
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleet.kdump.plugins.module_utils._collector import DEFAULT_CONFIG, Collector

# module option -> kdump-collector record option
OPTIONAL = (('kernel', '--kernel'), ('config_hash', '--config-hash'), ('dump_id', '--dump-id'), ('detail', '--detail'))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type='str', required=True),
            outcome=dict(type='str', choices=['ok', 'failed'], required=True),
            kernel=dict(type='str'),
            config_hash=dict(type='str'),
            dump_id=dict(type='int'),
            detail=dict(type='str'),
            config=dict(type='path', default=DEFAULT_CONFIG),
            root=dict(type='path', default='/'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not params['host']:
        module.fail_json(msg='host must name the host that was crashed, got an empty name')
    collector = Collector.from_config(module, params['root'], params['config'])
    if module.check_mode:
        module.exit_json(changed=True, id=None)
    args = ['--json', '--host', params['host'], '--outcome', params['outcome']]
    for name, flag in OPTIONAL:
        if params[name] is not None:
            args += [flag, params[name]]
    record = collector.run('record', *args)
    module.exit_json(changed=True, id=record.get('id'), record=record)


if __name__ == '__main__':
    main()
