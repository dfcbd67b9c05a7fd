# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hypothesis budgets: `ci` (the default, what `make test` runs: short and reproducible) and `fuzz` (`make fuzz`: long, random).

HYPOTHESIS_PROFILE chooses; a test that starts shells per example asks for a share of the budget with `examples()`.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILES = {'ci': 60, 'fuzz': 4000}
settings.register_profile('ci', max_examples=PROFILES['ci'], deadline=None, database=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile('fuzz', max_examples=PROFILES['fuzz'], deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = os.environ.get('HYPOTHESIS_PROFILE', 'ci')
settings.load_profile(PROFILE)


def examples(share):
    """Settings for `share` (0 to 1) of the profile's examples: tests that start shells cost 50 to 100 ms an example."""
    return settings(max_examples=max(10, int(PROFILES.get(PROFILE, PROFILES['ci']) * share)))
