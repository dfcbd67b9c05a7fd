# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.kdump_settings_problems: what fleet.kdump.kdump_config would refuse in a settings dict (docs in the .yml file)."""

from __future__ import annotations

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
