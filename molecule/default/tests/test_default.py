# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""After converge (both scenarios) and the crash test (default only): fleet guests are dump-ready, and the collector
holds their dumps."""
import json
import os
import re

import pytest

# config_only configures one guest without crashing; a missing name means default, so the crash checks are never lost.
CRASHED = os.environ.get("MOLECULE_SCENARIO_NAME", "default") != "config_only"
FLEET = ["fleet1", "fleet2"] if CRASHED else ["fleet1"]
BIN = "/usr/local/bin/kdump-collector"
DB = "/var/lib/kdump-collector/index.sqlite"


def _on(host):
    return host.backend.get_hostname()


def test_fleet_guest_is_ready(host):
    if _on(host) not in FLEET:
        pytest.skip("fleet guests only")
    assert host.package("kdump-tools").is_installed
    assert host.package("makedumpfile").is_installed
    # kdump_crashkernel: auto (demo/group_vars): the recommendation for a 1 GiB Debian 12 guest, which must not
    # exceed the distribution's default (384M-:128M reserves 128 MiB here) and, with the crash test, must dump.
    assert "crashkernel=128M" in host.file("/proc/cmdline").content_string.split()
    assert int(host.file("/sys/kernel/kexec_crash_size").content_string) == 128 << 20
    assert host.file("/sys/kernel/kexec_crash_loaded").content_string.strip() == "1"
    config = host.file("/etc/default/kdump-tools").content_string
    assert 'SSH="kdump@kdump-collector"' in config


def test_fleet_guest_was_crash_tested(host):
    if _on(host) not in FLEET or not CRASHED:
        pytest.skip("fleet guests after the crash test only")
    fact = json.loads(host.file("/etc/ansible/facts.d/kdump_crash_test.fact").content_string)
    assert fact["outcome"] == "ok"


def test_collector_is_ready_to_receive(host):
    if _on(host) != "kdump-collector":
        pytest.skip("collector only")
    assert host.service("ssh").is_running
    assert host.service("kdump-collector-index.path").is_running
    assert host.service("kdump-collector-index.timer").is_running
    # One key per fleet guest, each pinned to the receive command for its own host and nothing else.
    lines = host.file("/var/lib/kdump-collector-home/.ssh/authorized_keys").content_string.splitlines()
    keys = [line for line in lines if line and not line.startswith("#")]
    assert len(keys) == len(FLEET)
    for name in FLEET:
        mine = [k for k in keys if k.endswith(" kdump@%s" % name)]
        assert len(mine) == 1 and mine[0].startswith("restrict,command=")
        assert re.search(r'command="%s receive --root \S+ --host %s[ "]' % (BIN, name), mine[0])


def test_collector_indexed_every_crash(host):
    if _on(host) != "kdump-collector" or not CRASHED:
        pytest.skip("collector after the crash test only")
    out = host.check_output("runuser -u kdump -- %s list --db %s --json", BIN, DB)
    dumps = json.loads(out)
    for name in FLEET:
        mine = [d for d in dumps if d["host"] == name and d["state"] == "complete"]
        assert mine, "no complete dump from %s in %s" % (name, out)
        assert mine[-1]["reason"] == "sysrq: Trigger a crash"
        assert mine[-1]["title"] == "kernel panic: sysrq triggered crash" and mine[-1]["corrupted"] is False
        assert mine[-1]["dump_format"].startswith("makedumpfile-flattened")
        assert mine[-1]["kernel"]


def test_fast_path_stamp_is_data_matching_the_files(host):
    if _on(host) not in FLEET:
        pytest.skip("fleet guests only")
    stamp = host.file("/etc/ansible/facts.d/kdump_role.fact")
    # Plain data: fact gathering reads it, nothing on the host runs to produce it.
    assert stamp.mode == 0o644 and stamp.user == "root"
    recorded = json.loads(stamp.content_string)
    assert re.fullmatch(r"[0-9a-f]{64}", recorded["inputs"])
    assert recorded["ssh_key"] == ["/root/.ssh/kdump_id_ed25519", "ed25519"]
    assert {"/etc/default/kdump-tools", "/etc/default/grub.d/kdump-tools.cfg", "/root/.ssh/kdump_id_ed25519.pub"} <= set(
        recorded["files"])
    # What crashkernel_facts returned after the last write is what sha256sum reads now.
    for path, checksum in recorded["files"].items():
        assert host.file(path).sha256sum == checksum, path
