# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fleet.kdump.collector_name: whether the collector accepts a value as a host name or tag (docs in the .yml file)."""

from __future__ import annotations

from ansible_collections.fleet.kdump.plugins.module_utils._collector_names import is_name


class TestModule:
    """Names kdump-collector receive accepts."""

    def tests(self):
        return {'collector_name': is_name}
