# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""labkit: the fleet.kdump VM lab (QEMU guests that really crash), behind the lab/fleetlab and lab/smoke commands."""
