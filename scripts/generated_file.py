# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The command line of the scripts that write a committed, generated file: write it, or --check that it is fresh."""

from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))


def main(script, output, render, argv=None):
    """Write output (a path) from render() when it changed; with --check, write nothing and return 1 when it is stale."""
    name = os.path.relpath(output, ROOT)
    parser = argparse.ArgumentParser(description='Write %s (generated; do not edit it).' % name)
    parser.add_argument('--check', action='store_true', help='exit 1 when %s is out of date' % name)
    args = parser.parse_args(argv)
    text = render()
    current = open(output, encoding='utf-8').read() if os.path.exists(output) else None
    if args.check:
        if current != text:
            sys.stderr.write('%s is out of date: run scripts/%s\n' % (name, script))
            return 1
        return 0
    if current != text:
        with open(output, 'w', encoding='utf-8') as handle:
            handle.write(text)
    return 0
