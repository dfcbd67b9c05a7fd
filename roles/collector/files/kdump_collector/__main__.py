# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Entry point when the package directory itself is run: `python3 -I .../kdump_collector SUBCOMMAND ...`."""

import os
import sys


def run():
    if not __package__ and os.path.isdir(sys.path[0]):
        # Run as a directory, the directory is sys.path[0]: its parent goes there instead, so the modules
        # import as the kdump_collector package (never twice, as package and as top-level modules). Run as a zip
        # archive holding this file beside the package (fleet.kdump.local_dump_query ships it so), the archive stays.
        sys.path[0] = os.path.dirname(os.path.abspath(sys.path[0]))
    from kdump_collector.cli import main  # pylint: disable=import-outside-toplevel
    return main()


sys.exit(run())
