# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Options of the modules that run the collector program on the collector."""

    DOCUMENTATION = r"""
options:
  config:
    description:
      - The collector's configuration file, written by P(fleet.kdump.collector#role); it names the program.
    type: path
    default: /etc/fleet-kdump/collector.json
  root:
    description:
      - Directory under which O(config) and the program it names are resolved, for tests.
    type: path
    default: /
notes:
  - Run it on the collector (C(delegate_to)) with C(become) (root) or as the dump account; the index is not readable by
    other accounts. Started as root, the program becomes the dump account before it opens the index.
"""
