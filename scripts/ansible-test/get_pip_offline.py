# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for ansible-test's get-pip-<version>.py.

ansible-test --venv downloads get-pip from a host these machines cannot reach. It runs the script
with pip's install arguments; we bootstrap pip from the interpreter's own ensurepip wheel, then hand
the same arguments to that pip, which reaches the package index through the machine's pip config.
"""
import ensurepip
import os
import subprocess
import sys

saved = dict(os.environ)
ensurepip.bootstrap()
# ensurepip points PIP_CONFIG_FILE at /dev/null; the real install needs the machine's index config.
os.environ.clear()
os.environ.update(saved)
# --no-setuptools/--no-wheel are get-pip's own flags (it would otherwise add those packages): drop them.
args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + args))
