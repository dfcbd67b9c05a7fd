# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pytest fixtures for the kdump-collector tests."""

from __future__ import annotations

import pytest

from collector_helpers import load_program


@pytest.fixture(scope='session')
def kc():
    """The kdump-collector program loaded as a module, for tests of its functions."""
    return load_program()
