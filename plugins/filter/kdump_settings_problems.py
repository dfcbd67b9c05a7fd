# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.kdump_settings_problems: what fleet.kdump.kdump_config would refuse in a settings dict."""

from __future__ import annotations

DOCUMENTATION = r"""
name: kdump_settings_problems
version_added: 0.2.0
author: fleet.kdump contributors (@fleet-kdump)
short_description: What fleet.kdump.kdump_config would refuse in a set of /etc/default/kdump-tools settings
description:
  - Runs the validation of M(fleet.kdump.kdump_config) (the same code) on the controller, so a play can refuse bad
    input before it changes any host. The P(fleet.kdump.kdump#role) role checks the settings its variables resolve to
    with it.
  - Each message names the variable, the rejected value and the form it must have; V(FTP_PASSWORD) is masked.
options:
  _input:
    description: Variables as given to the O(fleet.kdump.kdump_config#module:settings) option, C(KEY) to value (V(null) removes).
    type: dict
    required: true
seealso:
  - module: fleet.kdump.kdump_config
"""

EXAMPLES = r"""
- name: Refuse invalid settings before changing anything
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ {'KDUMP_COMPRESSION': 'zip', 'USE_KDUMP': 1} | fleet.kdump.kdump_settings_problems }}"
"""

RETURN = r"""
_value:
  description: One message per invalid variable; empty when M(fleet.kdump.kdump_config) accepts every value.
  type: list
  elements: str
  sample: ["KDUMP_COMPRESSION: invalid value 'zip'; expected one of bzip2, gzip, lz4, xz"]
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.fleet.kdump.plugins.module_utils._kdump_config import validate_settings


def kdump_settings_problems(settings):
    """The error messages of kdump_config's validation for `settings`; empty when it would accept them."""
    if not isinstance(settings, Mapping):
        raise AnsibleFilterError('kdump_settings_problems: input must be a dict of settings, got %s' % type(settings).__name__)
    return validate_settings(dict(settings))[1]


class FilterModule:
    """kdump-tools settings validation on the controller."""

    def filters(self):
        return {'kdump_settings_problems': kdump_settings_problems}
