# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetlab: the command line of the VM lab driver (the guest machinery is in labkit.guests)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time

from labkit import guests


def cmd_up(args):
    state = guests.load_state()
    running = [n for n, g in state["guests"].items() if guests.guest_pid(g)]
    image = guests.ensure_image(args.dist)
    if running and state.get("image", {}).get("dir") != image["dir"]:
        raise guests.LabError("guests %s run on another image (%s); run `fleetlab down` first" % (
            ", ".join(running), state["image"]["dir"]))
    if state.get("image", {}).get("dir") != image["dir"]:
        state["guests"] = {}   # overlays on an old image are stale
    state["image"] = image
    state["dist"] = args.dist
    state["accel"] = guests.probe_accel(image)
    os.makedirs(guests.RUN_DIR, exist_ok=True)
    shutil.copyfile(os.path.join(image["dir"], image["ssh_key"]), guests.key_path())
    os.chmod(guests.key_path(), 0o600)
    shutil.copyfile(os.path.join(image["dir"], image["ssh_key"] + ".pub"), guests.key_path() + ".pub")

    used = {g["ssh_port"] for g in state["guests"].values()} | \
        {g["nfs_port"] for g in state["guests"].values() if "nfs_port" in g}
    wanted = []
    if args.collector or guests.COLLECTOR in state["guests"]:
        wanted.append(guests.plan_guest(state, guests.COLLECTOR, "collector", guests.COLLECTOR_NET, args.collector_mem, args.smp, used))
    for i in range(1, args.fleet + 1):
        wanted.append(guests.plan_guest(state, "fleet%d" % i, "fleet", guests.FLEET_NET_BASE + i, args.mem, args.smp, used))
    guests.save_state(state)
    collector = state["guests"].get(guests.COLLECTOR)
    if collector is not None and not guests.guest_pid(collector):
        late = [g["name"] for g in wanted if g["role"] == "fleet" and guests.guest_pid(g)]
        if late:
            guests.log("warning: %s started without the collector; `fleetlab down` and up again to reach it" % ", ".join(late))
    started = []
    for g in wanted:   # collector first
        if guests.guest_pid(g):
            guests.log("%s already running (pid %d)" % (g["name"], guests.guest_pid(g)))
            continue
        guests.start_guest(state, g, collector)
        started.append(g)
        guests.save_state(state)
    if not args.no_wait:
        for g in started:
            g["boot_id"] = guests.wait_ssh(g, args.timeout)
            g["boot_s"] = round(time.time() - g["started"], 1)
        guests.save_state(state)
    print_status(state, as_json=False)
    return 0


def cmd_down(args):
    state = guests.load_state()
    # fleet before collector, reverse of start order
    for name in sorted(state["guests"], key=lambda n: (n == guests.COLLECTOR, n), reverse=False):
        guests.stop_guest(state["guests"][name], args.timeout)
    if args.clean:
        for g in state["guests"].values():
            shutil.rmtree(g["dir"], ignore_errors=True)
        state["guests"] = {}
    guests.save_state(state)
    return 0


def print_status(state, as_json):
    rows = []
    for name in sorted(state["guests"], key=lambda n: (n != guests.COLLECTOR, n)):
        g = state["guests"][name]
        pid = guests.guest_pid(g)
        rows.append({"name": name, "role": g["role"], "running": pid is not None, "pid": pid,
                     "ssh_port": g["ssh_port"], "nfs_port": g.get("nfs_port"), "ip": g["ip"],
                     "collector_address": g["collector_address"], "mem": g["mem"], "smp": g["smp"],
                     "dir": g["dir"]})
    if as_json:
        print(json.dumps({"run_dir": guests.RUN_DIR, "accel": state.get("accel"), "image": state.get("image", {}).get("dir"),
                          "guests": rows}, indent=1))
        return
    print("run dir %s  image %s  accel %s" % (guests.RUN_DIR, state.get("image", {}).get("dir", "-"), state.get("accel", "-")))
    print("%-16s %-9s %-8s %-8s %-6s %-11s %-13s %s" % ("NAME", "ROLE", "STATE", "PID", "SSH", "GUEST IP", "COLLECTOR", "MEM"))
    for r in rows:
        print("%-16s %-9s %-8s %-8s %-6s %-11s %-13s %s" % (
            r["name"], r["role"], "running" if r["running"] else "stopped", r["pid"] or "-", r["ssh_port"], r["ip"],
            r["collector_address"], r["mem"]))


def cmd_status(args):
    print_status(guests.load_state(), args.json)
    return 0


def host_vars(g):
    return [
        ("ansible_host", "127.0.0.1"), ("ansible_port", g["ssh_port"]), ("ansible_user", "root"),
        ("ansible_ssh_private_key_file", guests.key_path()),
        ("ansible_ssh_common_args", " ".join(guests.SSH_OPTS)),
        ("ansible_python_interpreter", "/usr/bin/python3"),
        ("lab_collector_address", g["collector_address"]), ("lab_collector_name", guests.COLLECTOR),
        ("lab_guest_ip", g["ip"]), ("lab_gateway", g["gateway"]),
    ]


def cmd_inventory(args):
    state = guests.load_state()
    groups = {"kdump_collector": [], "kdump_fleet": []}
    for name in sorted(state["guests"]):
        g = state["guests"][name]
        groups["kdump_collector" if g["role"] == "collector" else "kdump_fleet"].append(g)
    path = args.output or os.path.join(guests.RUN_DIR, "inventory." + ("yml" if args.format == "yaml" else "ini"))
    if args.format == "yaml":
        # JSON is YAML; no PyYAML needed.
        doc = {"all": {"children": {grp: {"hosts": {g["name"]: dict(host_vars(g)) for g in members}}
                                    for grp, members in groups.items()}}}
        text = json.dumps(doc, indent=2) + "\n"
    else:
        lines = []
        for grp, members in groups.items():
            lines.append("[%s]" % grp)
            for g in members:
                lines.append(g["name"] + " " + " ".join(
                    "%s=%s" % (k, "'%s'" % v if " " in str(v) else v) for k, v in host_vars(g)))
            lines.append("")
        text = "\n".join(lines)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    print(path)
    return 0


def cmd_accel(args):
    image = guests.ensure_image(args.dist)
    print(guests.probe_accel(image))
    try:
        with open(os.path.join(guests.CACHE_DIR, "accel.json")) as f:
            guests.log("cached verdict: %s" % f.read())
    except OSError:
        pass
    return 0


def cmd_wait_ssh(args):
    print(guests.wait_ssh(guests.guest(guests.load_state(), args.name), args.timeout))
    return 0


def cmd_wait_reboot(args):
    print(guests.wait_reboot(guests.guest(guests.load_state(), args.name), args.boot_id, args.timeout))
    return 0


def cmd_boot_id(args):
    g = guests.guest(guests.load_state(), args.name)
    guests.require_running(g)
    bid = guests.try_boot_id(g)
    if not bid:
        raise guests.LabError("%s: ssh did not answer" % args.name)
    print(bid)
    return 0


def cmd_reset(args):
    """Press the reset button (QEMU monitor system_reset): for a guest hung in its capture kernel."""
    g = guests.guest(guests.load_state(), args.name)
    guests.require_running(g)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as mon:
        mon.settimeout(10)
        mon.connect(g["monitor"])
        mon.sendall(b"system_reset\n")
        time.sleep(1)
    guests.log("%s: reset" % args.name)
    return 0


def cmd_ssh(args):
    g = guests.guest(guests.load_state(), args.name)
    remote = args.command[1:] if args.command[:1] == ["--"] else args.command
    return subprocess.run(guests.ssh_cmd(g, *remote, batch=bool(remote)), check=False).returncode


def cmd_console(args):
    g = guests.guest(guests.load_state(), args.name)
    print(guests.serial_tail(g, args.lines))
    if not args.follow:
        return 0
    with open(g["serial"], "rb") as f:
        f.seek(0, 2)
        try:
            while True:
                chunk = f.read()
                if chunk:
                    sys.stdout.write(chunk.decode(errors="replace").replace("\r", ""))
                    sys.stdout.flush()
                else:
                    time.sleep(0.5)
        except KeyboardInterrupt:
            return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="fleetlab", description=guests.__doc__.split("\n\n", maxsplit=1)[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("up", help="build/find the image, start the collector then the fleet guests, wait for ssh")
    s.add_argument("--fleet", type=int, default=1, help="number of fleet guests fleet1..fleetN (default 1)")
    s.add_argument("--collector", action="store_true", help="also start the kdump-collector guest (started first)")
    s.add_argument("--mem", type=int, default=1024, help="fleet guest RAM in MiB (default 1024)")
    s.add_argument("--collector-mem", type=int, default=1024, help="collector guest RAM in MiB (default 1024)")
    s.add_argument("--smp", type=int, default=1, help="vCPUs per guest (default 1: faster than 2 under TCG on 2 host cores)")
    s.add_argument("--dist", default="bookworm", choices=["bookworm", "trixie"])
    s.add_argument("--no-wait", action="store_true", help="do not wait for ssh")
    s.add_argument("--timeout", type=int, default=600, help="ssh wait per guest, seconds (default 600)")
    s.set_defaults(func=cmd_up)
    s = sub.add_parser("down", help="stop every guest this run dir started (pid file; SIGTERM, then SIGKILL)")
    s.add_argument("--timeout", type=int, default=30, help="seconds between SIGTERM and SIGKILL (default 30)")
    s.add_argument("--clean", action="store_true", help="also delete the guests' overlays and logs")
    s.set_defaults(func=cmd_down)
    s = sub.add_parser("status", help="guests, pids, ports")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_status)
    s = sub.add_parser("inventory", help="write an Ansible inventory (groups kdump_collector, kdump_fleet)")
    s.add_argument("-o", "--output", help="path (default RUN_DIR/inventory.ini or .yml)")
    s.add_argument("--format", choices=["ini", "yaml"], default="ini")
    s.set_defaults(func=cmd_inventory)
    s = sub.add_parser("accel", help="print the accelerator up would use (KVM probe, cached; FLEET_KDUMP_ACCEL overrides)")
    s.add_argument("--dist", default="bookworm", choices=["bookworm", "trixie"])
    s.set_defaults(func=cmd_accel)
    s = sub.add_parser("wait-ssh", help="wait until NAME answers on ssh; prints its boot id")
    s.add_argument("name")
    s.add_argument("--timeout", type=int, default=600)
    s.set_defaults(func=cmd_wait_ssh)
    s = sub.add_parser("wait-reboot", help="wait until NAME is back on ssh with a boot id other than OLD (crash-aware)")
    s.add_argument("name")
    s.add_argument("--boot-id", required=True)
    s.add_argument("--timeout", type=int, default=900)
    s.set_defaults(func=cmd_wait_reboot)
    s = sub.add_parser("boot-id", help="print NAME's current boot id")
    s.add_argument("name")
    s.set_defaults(func=cmd_boot_id)
    s = sub.add_parser("reset", help="hard-reset NAME through the QEMU monitor (a guest hung in its capture kernel)")
    s.add_argument("name")
    s.set_defaults(func=cmd_reset)
    s = sub.add_parser("ssh", help="ssh into NAME as root (optionally run a command)")
    s.add_argument("name")
    s.add_argument("command", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_ssh)
    s = sub.add_parser("console", help="print (and with -f follow) NAME's serial log")
    s.add_argument("name")
    s.add_argument("-n", "--lines", type=int, default=50)
    s.add_argument("-f", "--follow", action="store_true")
    s.set_defaults(func=cmd_console)
    args = p.parse_args(argv)
    try:
        return args.func(args)
    except guests.LabError as e:
        guests.log("error: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
