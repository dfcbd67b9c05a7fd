# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the lab driver (labkit) that need no VM: planning, QEMU network arguments, inventory, pid safety."""

from __future__ import annotations

import json
import os
import socket

import pytest

from labkit import fleetlab as fleetlab_cli
from labkit import guests


@pytest.fixture
def fleetlab(tmp_path, monkeypatch):
    """The guest machinery with its run dir in a temporary directory."""
    monkeypatch.setattr(guests, "RUN_DIR", str(tmp_path))
    return guests


def plan(fl, ports):
    state = {"guests": {}}
    used = set()
    col = fl.plan_guest(state, fl.COLLECTOR, "collector", fl.COLLECTOR_NET, 1024, 1, used)
    f1 = fl.plan_guest(state, "fleet1", "fleet", fl.FLEET_NET_BASE + 1, 1024, 1, used)
    f2 = fl.plan_guest(state, "fleet2", "fleet", fl.FLEET_NET_BASE + 2, 1024, 1, used)
    return state, col, f1, f2


def test_plan_addresses_and_distinct_ports(fleetlab):
    col, f1, f2 = plan(fleetlab, None)[1:]
    assert (col["net"], col["ip"], col["gateway"]) == ("10.0.2.0/24", "10.0.2.15", "10.0.2.2")
    assert (f1["net"], f1["collector_address"]) == ("10.0.11.0/24", "10.0.11.100")
    assert f2["ip"] == "10.0.12.15"
    ports = [col["ssh_port"], col["nfs_port"], f1["ssh_port"], f2["ssh_port"]]
    assert len(set(ports)) == 4 and min(ports) >= fleetlab.PORT_BASE


def test_busy_port_is_skipped(fleetlab, monkeypatch):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    monkeypatch.setattr(fleetlab, "PORT_BASE", port)
    try:
        assert fleetlab.next_port(set()) > port
    finally:
        busy.close()


def test_netdev_loopback_only(fleetlab):
    col, f1 = plan(fleetlab, None)[1:3]
    c = fleetlab.netdev(col, col)
    assert "restrict=on" in c and "hostfwd=tcp:127.0.0.1:%d-:22" % col["ssh_port"] in c
    assert "hostfwd=tcp:127.0.0.1:%d-:2049" % col["nfs_port"] in c and "guestfwd" not in c
    f = fleetlab.netdev(f1, col)
    assert "net=10.0.11.0/24" in f
    assert "guestfwd=tcp:10.0.11.100:22-cmd:nc -N 127.0.0.1 %d" % col["ssh_port"] in f
    assert "guestfwd=tcp:10.0.11.100:2049-cmd:nc -N 127.0.0.1 %d" % col["nfs_port"] in f
    # every hostfwd binds loopback
    assert all(p.startswith("hostfwd=tcp:127.0.0.1:") for p in f.split(",") if p.startswith("hostfwd"))


def test_inventory_ini_and_yaml(fleetlab, tmp_path, capsys):
    state = plan(fleetlab, None)[0]
    fleetlab.save_state(state)

    class Args:
        output = None
        format = "ini"
    fleetlab_cli.cmd_inventory(Args)
    text = (tmp_path / "inventory.ini").read_text()
    assert "[kdump_collector]\nkdump-collector ansible_host=127.0.0.1" in text
    assert ("ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
            " -o ServerAliveInterval=5 -o ServerAliveCountMax=3'") in text
    assert "lab_collector_address=10.0.12.100" in text
    Args.format = "yaml"
    fleetlab_cli.cmd_inventory(Args)
    doc = json.loads((tmp_path / "inventory.yml").read_text())
    fleet = doc["all"]["children"]["kdump_fleet"]["hosts"]
    assert sorted(fleet) == ["fleet1", "fleet2"]
    assert fleet["fleet1"]["ansible_port"] == state["guests"]["fleet1"]["ssh_port"]
    assert fleet["fleet1"]["lab_gateway"] == "10.0.11.2"


def test_guest_pid_refuses_foreign_process(fleetlab, tmp_path):
    """A pid file pointing at some other process (here: this test) is never treated as the guest."""
    f1 = plan(fleetlab, None)[2]
    os.makedirs(f1["dir"])
    with open(f1["pid_file"], "w") as f:
        f.write(str(os.getpid()))
    assert fleetlab.guest_pid(f1) is None
    assert fleetlab.stop_guest(f1, 1) is False
