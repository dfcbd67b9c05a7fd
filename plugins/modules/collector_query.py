#!/usr/bin/python
# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: collector_query
short_description: Ask the kdump collector whether a host's dump arrived, is complete and holds the expected crash
version_added: 0.2.0
author: fleet.kdump contributors (@fleet-kdump)
description:
  - Runs on the collector (C(delegate_to) its host) and asks the collector program, C(kdump-collector crash-status), about
    the dumps of each host in O(hosts) indexed since O(since). The program is found through the configuration file the
    P(fleet.kdump.collector#role) role writes; the module never reads the index or a dump itself.
  - Per host it returns the dumps with their state, reason, kernel and signature (and the crash triage's C(title),
    C(kind), C(guilty_frame) and C(corrupted) where the index has them), and a verdict in RV(hosts). Its C(found) is
    true when a complete dump showing the crash of kind O(expect) (or any complete dump, without O(expect)) is indexed,
    and its C(why) says why or why not in one line.
  - What a complete dump and a crash kind look like is the collector program's knowledge, in one place.
options:
  hosts:
    description:
      - Inventory names of the fleet hosts to answer for, as the collector files their dumps.
    type: list
    elements: str
    required: true
  since:
    description:
      - Only dumps at or after this time (ISO 8601; UTC when no zone is given). kdump-tools stamps dumps to the minute.
    type: str
  expect:
    description:
      - The crash-test kind the dump must show, for example V(sysrq) (C(echo c > /proc/sysrq-trigger)). The program
        refuses a kind it does not know.
      - Without it, any complete dump answers.
    type: str
  last:
    description:
      - Only the newest O(last) dumps of each host (since O(since)); the verdict is on those. V(1) asks whether the
        host's latest dump is complete.
    type: int
  refresh:
    description:
      - Run an index pass first (before every question, with O(wait)), with the collector's own settings (its root, NFS
        directories and tag map), so a dump that arrived a moment ago is answered for. Not in check mode.
    type: bool
    default: false
  wait:
    description:
      - Seconds to keep asking, every O(sleep) seconds, while a host has neither a dump that answers nor a settled one
        (no dump yet, or one still being received). V(0) asks once. Not in check mode.
      - The module never fails for a dump that is missing or bad; RV(found) and the hosts' C(why) say so.
    type: int
    default: 0
  sleep:
    description: Seconds between two questions while waiting (O(wait)).
    type: int
    default: 10
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - fleet.kdump.collector
attributes:
  check_mode:
    support: full
    details: The query changes nothing; in check mode O(refresh) is not done.
  diff_mode:
    support: none
  platform:
    platforms: debian
seealso:
  - module: fleet.kdump.collector_record
  - module: fleet.kdump.local_dump_query
  - name: The collector
    description: docs/collector.md of the collection, the kdump-collector man page (C(man kdump-collector)).
    link: https://example.invalid/fleet/kdump/docs/collector.md
"""

EXAMPLES = r"""
---
- name: Wait up to 5 minutes for the collector's verdict on the dump of the sysrq crash of this host
  fleet.kdump.collector_query:
    hosts: ["{{ inventory_hostname }}"]
    since: "{{ crash_started }}"
    expect: sysrq
    refresh: true
    wait: 300
  delegate_to: "{{ groups['kdump_collector'] | first }}"
  register: kdump_dump

- name: Fail with the collector's reason when it did not arrive
  ansible.builtin.assert:
    that: kdump_dump.found
    fail_msg: "{{ kdump_dump.hosts[inventory_hostname].why }}"
"""

RETURN = r"""
hosts:
  description: The answer for each host of O(hosts), by name.
  returned: always
  type: dict
  contains:
    found:
      description: A complete dump (of the O(expect) kind) is indexed since O(since).
      type: bool
      sample: true
    settled:
      description:
        - Waiting longer cannot change C(found) (a dump arrived and is complete, empty, pruned, missing or cut short).
          False while no dump or a dump still being received is indexed.
      type: bool
      sample: true
    why:
      description: The verdict in one line.
      type: str
      sample: 'dump 12 of 2026-11-26T12:16:00Z is complete (dump.202611261216, 38211584 bytes, makedumpfile-flattened) and
        shows a crash triggered through /proc/sysrq-trigger (echo c): sysrq: Trigger a crash'
    dump:
      description: The newest dump that answers (same keys as an element of C(dumps)); V(null) when none does.
      type: dict
    dumps:
      description:
        - Every dump of the host since O(since), oldest first, with the keys C(id), C(host), C(stamp), C(time), C(state)
          (V(complete), V(incomplete), V(empty), V(pruned) or V(missing)), C(dump_name), C(dump_bytes), C(dump_format),
          C(dmesg_bytes), C(kernel), C(reason), C(signature), C(error), C(path), and C(title), C(kind), C(guilty_frame),
          C(corrupted) when the index has the crash triage.
      type: list
      elements: dict
found:
  description: C(found) is true for every host of RV(hosts).
  returned: always
  type: bool
  sample: true
settled:
  description: C(settled) is true for every host of RV(hosts).
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
indexed:
  description: Counts of the index pass (C(new), C(updated), C(unchanged), C(missing), C(errors)) when O(refresh) ran one.
  returned: always
  type: dict
  sample: {new: 1, updated: 0, unchanged: 4, missing: 0, errors: 0}
attempts:
  description: How many times the collector was asked.
  returned: always
  type: int
  sample: 1
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleet.kdump.plugins.module_utils._collector import DEFAULT_CONFIG, Collector, status_args, until_settled


def main():
    module = AnsibleModule(
        argument_spec=dict(
            hosts=dict(type='list', elements='str', required=True),
            since=dict(type='str'),
            expect=dict(type='str'),
            last=dict(type='int'),
            refresh=dict(type='bool', default=False),
            wait=dict(type='int', default=0),
            sleep=dict(type='int', default=10),
            config=dict(type='path', default=DEFAULT_CONFIG),
            root=dict(type='path', default='/'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not params['hosts'] or not all(params['hosts']):
        module.fail_json(msg='hosts must name at least one host, and no empty name; got %r' % (params['hosts'],))
    if params['wait'] < 0 or params['sleep'] < 1:
        module.fail_json(msg='wait must be 0 or more and sleep at least 1 second; got wait=%d, sleep=%d' % (params['wait'], params['sleep']))
    collector = Collector.from_config(module, params['root'], params['config'])
    args = status_args(params)
    if params['last'] is not None:
        args += ['--last', params['last']]
    for host in params['hosts']:
        args += ['--host', host]
    if params['refresh'] and not module.check_mode:
        args.append('--index')
    wait = 0 if module.check_mode else params['wait']
    module.exit_json(changed=False, **until_settled(lambda: collector.run('crash-status', *args), wait, params['sleep']))


if __name__ == '__main__':
    main()
