# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetlab: the fleet.kdump VM lab driver (QEMU guests on loopback-only user networking).

Guests boot through GRUB from qcow2 overlays on the image that lab/build-image caches. Each guest
has its own slirp subnet 10.0.N.0/24 (restrict=on), an SSH port on 127.0.0.1, and a name set at
boot from fw_cfg. Fleet guests reach the collector guest as kdump-collector = 10.0.N.100 (ports 22
and 2049) through guestfwd -> nc 127.0.0.1 -> the collector's hostfwd.

Runtime state: $FLEET_KDUMP_RUN (default /var/tmp/fleet-kdump-lab)/state.json and one directory
per guest (overlay.qcow2, serial.log, qemu.pid, qemu.log, monitor.sock, fw-hosts).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_DIR = os.environ.get("FLEET_KDUMP_RUN", "/var/tmp/fleet-kdump-lab")
CACHE_DIR = os.environ.get("FLEET_KDUMP_CACHE", "/var/cache/fleet-kdump")
PORT_BASE = int(os.environ.get("FLEET_KDUMP_PORT_BASE", "10022"))
COLLECTOR = "kdump-collector"
COLLECTOR_NET = 2           # collector guest: 10.0.2.0/24
FLEET_NET_BASE = 10         # fleet guest i: 10.0.(10+i).0/24
COLLECTOR_HOST_OCTET = 100  # what a fleet guest dials for the collector: 10.0.N.100
# ServerAlive: a guest that crashed or rebooted never closes its side of a slirp-forwarded connection, so an
# ssh (or Ansible's ControlMaster) would otherwise wait on it forever.
SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"]
SSH_BATCH_OPTS = SSH_OPTS + ["-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
KVM_PROBE_TIMEOUT = 60
PROGRESS_EVERY = 30


def log(msg):
    print("[fleetlab %s] %s" % (time.strftime("%H:%M:%S", time.gmtime()), msg), file=sys.stderr, flush=True)


class LabError(Exception):
    pass


# ---------------------------------------------------------------- state


def state_path():
    return os.path.join(RUN_DIR, "state.json")


def load_state():
    try:
        with open(state_path()) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"guests": {}}


def save_state(state):
    os.makedirs(RUN_DIR, exist_ok=True)
    tmp = state_path() + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=1, sort_keys=True)
    os.replace(tmp, state_path())


def guest(state, name):
    try:
        return state["guests"][name]
    except KeyError:
        raise LabError("no guest %r in %s (known: %s)" % (name, state_path(), ", ".join(sorted(state["guests"])) or "none")) from None


def guest_pid(g):
    """PID of the guest's QEMU if it is running; verified against the cmdline, so a recycled pid is never used."""
    try:
        with open(g["pid_file"]) as f:
            pid = int(f.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read().decode(errors="replace")
    except (OSError, ValueError):
        return None
    if "qemu-system" in cmdline and g["dir"] in cmdline:
        return pid
    return None


# ---------------------------------------------------------------- image, accel, ports


def ensure_image(dist):
    log("finding the %s guest image (built from Debian's packages when its recipe changed: a few minutes)" % dist)
    cmd = [os.path.join(LAB_DIR, "build-image"), "--dist", dist, "--cache-dir", CACHE_DIR]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, universal_newlines=True, check=False)
    if out.returncode != 0:
        raise LabError("build-image failed (rc=%d)" % out.returncode)
    image = out.stdout.strip().splitlines()[-1]
    with open(os.path.join(image, "image.json")) as f:
        meta = json.load(f)
    meta["dir"] = image
    return meta


def qemu_version():
    out = subprocess.run(["qemu-system-x86_64", "--version"], stdout=subprocess.PIPE, universal_newlines=True, check=True)
    return out.stdout.splitlines()[0]


def probe_accel(image):
    """KVM only if it really boots a kernel here (on PVM hosts /dev/kvm exists but hangs); cached."""
    forced = os.environ.get("FLEET_KDUMP_ACCEL")
    if forced in ("kvm", "tcg"):
        return forced
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    key = "%s | %s" % (os.uname().release, qemu_version())   # the verdict is the host's, not the guest kernel's
    cache = os.path.join(CACHE_DIR, "accel.json")
    try:
        with open(cache) as f:
            cached = json.load(f)
        if cached.get("key") == key:
            return cached["accel"]
    except (OSError, ValueError):
        pass
    log("probing KVM: booting the guest kernel with -accel kvm (up to %d s)" % KVM_PROBE_TIMEOUT)
    os.makedirs(RUN_DIR, exist_ok=True)
    serial = os.path.join(RUN_DIR, "kvm-probe.serial")
    open(serial, "w").close()
    proc = subprocess.Popen(
        ["qemu-system-x86_64", "-accel", "kvm", "-m", "256", "-nodefaults", "-no-user-config",
         "-display", "none", "-no-reboot", "-kernel", os.path.join(image["dir"], "vmlinuz"),
         "-append", "console=ttyS0 panic=-1", "-serial", "file:" + serial],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.time()
    verdict = "tcg"
    try:
        while time.time() - start < KVM_PROBE_TIMEOUT and proc.poll() is None:
            with open(serial, errors="replace") as f:
                if "Linux version" in f.read():
                    verdict = "kvm"
                    break
            time.sleep(1)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    if verdict == "kvm":
        detail = "Linux version on serial after %.1f s" % (time.time() - start)
    elif proc.returncode is not None and proc.returncode >= 0:
        detail = "QEMU exited with rc=%d after %.1f s" % (proc.returncode, time.time() - start)
    else:
        detail = "no Linux version on serial within %d s" % KVM_PROBE_TIMEOUT
    log("KVM probe: %s -> %s" % (detail, verdict))
    os.makedirs(CACHE_DIR, exist_ok=True)
    with open(cache, "w") as f:
        json.dump({"key": key, "accel": verdict, "detail": detail, "when": time.strftime("%FT%TZ", time.gmtime())}, f)
    return verdict


def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def next_port(used):
    port = max([PORT_BASE - 1] + list(used)) + 1
    while not port_free(port):
        port += 1
    used.add(port)
    return port


# ---------------------------------------------------------------- guests


def plan_guest(state, name, role, index, mem, smp, used_ports):
    g = state["guests"].get(name)
    if g is not None:
        g["mem"], g["smp"] = mem, smp
        return g
    net = "10.0.%d" % index
    d = os.path.join(RUN_DIR, name)
    g = {
        "name": name, "role": role, "net_index": index, "net": net + ".0/24", "ip": net + ".15",
        "gateway": net + ".2", "dir": d, "overlay": os.path.join(d, "overlay.qcow2"),
        "serial": os.path.join(d, "serial.log"), "pid_file": os.path.join(d, "qemu.pid"),
        "monitor": os.path.join(d, "monitor.sock"), "mem": mem, "smp": smp,
        "ssh_port": next_port(used_ports),
    }
    if role == "collector":
        g["nfs_port"] = next_port(used_ports)
        g["collector_address"] = g["ip"]
    else:
        g["collector_address"] = "%s.%d" % (net, COLLECTOR_HOST_OCTET)
    state["guests"][name] = g
    return g


def netdev(g, collector):
    parts = ["user", "id=n0", "net=" + g["net"], "restrict=on",
             "hostfwd=tcp:127.0.0.1:%d-:22" % g["ssh_port"]]
    if g["role"] == "collector":
        parts.append("hostfwd=tcp:127.0.0.1:%d-:2049" % g["nfs_port"])
    elif collector is not None:
        # cmd: spawns one nc per connection (a tcp: chardev would carry exactly one connection). -N passes the
        # guest's close on; without it each closed connection stays open on the collector until sshd's
        # LoginGraceTime, and kdump-tools' retries then exhaust MaxStartups and hang the capture kernel.
        parts.append("guestfwd=tcp:%s:22-cmd:nc -N 127.0.0.1 %d" % (g["collector_address"], collector["ssh_port"]))
        parts.append("guestfwd=tcp:%s:2049-cmd:nc -N 127.0.0.1 %d" % (g["collector_address"], collector["nfs_port"]))
    return ",".join(parts)


def start_guest(state, g, collector):
    os.makedirs(g["dir"], exist_ok=True)
    image = state["image"]
    base = os.path.join(image["dir"], image["disk"])
    backing_ok = False
    if os.path.exists(g["overlay"]):
        info = subprocess.run(["qemu-img", "info", "--output=json", "-U", g["overlay"]], stdout=subprocess.PIPE,
                              universal_newlines=True, check=False)
        backing_ok = info.returncode == 0 and json.loads(info.stdout).get("backing-filename") == base
    if not backing_ok:
        if os.path.exists(g["overlay"]):
            os.unlink(g["overlay"])
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", base, g["overlay"]], check=True)
    hosts = os.path.join(g["dir"], "fw-hosts")
    with open(hosts, "w") as f:
        if g["role"] == "fleet" and collector is not None:
            f.write("%s\t%s\n" % (g["collector_address"], COLLECTOR))
    if os.path.exists(g["monitor"]):
        os.unlink(g["monitor"])
    accel = "kvm" if state["accel"] == "kvm" else "tcg,tb-size=256"
    cmd = ["qemu-system-x86_64", "-name", g["name"], "-machine", "pc", "-accel", accel]
    cmd += [
        "-m", str(g["mem"]), "-smp", str(g["smp"]), "-nodefaults", "-no-user-config", "-display", "none",
        "-drive", "file=%s,if=virtio,format=qcow2,cache=unsafe" % g["overlay"],
        "-netdev", netdev(g, collector), "-device", "virtio-net-pci,netdev=n0",
        "-device", "virtio-rng-pci",
        "-chardev", "file,id=ser0,path=%s,append=on" % g["serial"], "-serial", "chardev:ser0",
        "-monitor", "unix:%s,server=on,wait=off" % g["monitor"],
        "-fw_cfg", "name=opt/fleet/hostname,string=%s" % g["name"],
        "-fw_cfg", "name=opt/fleet/hosts,file=%s" % hosts,
        "-pidfile", g["pid_file"], "-daemonize",
    ]
    with open(os.path.join(g["dir"], "qemu.log"), "a") as qlog:
        qlog.write("%s start: %s\n" % (time.strftime("%FT%TZ", time.gmtime()), " ".join(cmd)))
        qlog.flush()
        rc = subprocess.run(cmd, stdout=qlog, stderr=qlog, check=False).returncode
    if rc != 0 or guest_pid(g) is None:
        raise LabError("QEMU for %s failed to start (rc=%d), see %s/qemu.log" % (g["name"], rc, g["dir"]))
    g["started"] = time.time()
    log("started %s (pid %d, ssh 127.0.0.1:%d, net %s)" % (g["name"], guest_pid(g), g["ssh_port"], g["net"]))


def stop_guest(g, timeout):
    pid = guest_pid(g)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline and guest_pid(g) == pid:
        time.sleep(0.5)
    if guest_pid(g) == pid:
        log("%s (pid %d) ignored SIGTERM for %d s: SIGKILL" % (g["name"], pid, timeout))
        os.kill(pid, signal.SIGKILL)
        while guest_pid(g) == pid:
            time.sleep(0.2)
    try:
        os.unlink(g["pid_file"])
    except FileNotFoundError:
        pass
    log("stopped %s (pid %d)" % (g["name"], pid))
    return True


# ---------------------------------------------------------------- ssh


def key_path():
    return os.path.join(RUN_DIR, "id_ed25519")


def ssh_cmd(g, *remote, batch=True):
    return ["ssh", "-i", key_path(), "-p", str(g["ssh_port"])] + (SSH_BATCH_OPTS if batch else SSH_OPTS) + \
        ["root@127.0.0.1"] + list(remote)


def try_boot_id(g):
    try:
        out = subprocess.run(ssh_cmd(g, "cat", "/proc/sys/kernel/random/boot_id"), stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, universal_newlines=True, timeout=40, check=False)
    except subprocess.TimeoutExpired:
        return None
    bid = out.stdout.strip()
    return bid if out.returncode == 0 and len(bid) == 36 else None


def serial_tail(g, lines=15):
    try:
        with open(g["serial"], "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 65536))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.replace("\r", "").splitlines()[-lines:])


def require_running(g):
    if guest_pid(g) is None:
        raise LabError("%s: QEMU is not running; last serial lines:\n%s" % (g["name"], serial_tail(g)))


def progress(g, start, last, what):
    """Say every PROGRESS_EVERY seconds what is still awaited, with the guest's newest serial line."""
    now = time.time()
    if now - last < PROGRESS_EVERY:
        return last
    # The guest's console may hold escape sequences: only printable characters reach the terminal.
    tail = "".join(c if c.isprintable() else "?" for c in serial_tail(g, 1).strip())
    log("%s: still waiting for %s (%.0f s so far)%s" % (g["name"], what, now - start, ": " + tail[-100:] if tail else ""))
    return now


def wait_ssh(g, timeout):
    start = last = time.time()
    log("%s: waiting for ssh (up to %d s; a TCG boot takes 1-2 min)" % (g["name"], timeout))
    while True:
        require_running(g)
        bid = try_boot_id(g)
        last = progress(g, start, last, "ssh")
        if bid:
            log("%s: ssh up after %.0f s (%.0f s since QEMU start), boot id %s" % (
                g["name"], time.time() - start, time.time() - g.get("started", start), bid))
            return bid
        if time.time() - start > timeout:
            raise LabError("%s: no ssh within %d s; last serial lines:\n%s" % (g["name"], timeout, serial_tail(g)))
        time.sleep(3)


def wait_reboot(g, old, timeout):
    """Crash-aware: the guest may go down (panic -> capture kernel -> dump -> reboot) before or while
    we poll; done once ssh answers with a boot id different from OLD."""
    start = last = time.time()
    down_at = None
    log("%s: waiting for it to go down and come back with a new boot id (up to %d s)" % (g["name"], timeout))
    while True:
        require_running(g)
        bid = try_boot_id(g)
        last = progress(g, start, last, "the reboot")
        now = time.time() - start
        if bid and bid != old:
            log("%s: back after %.0f s (down at %s), new boot id %s" % (
                g["name"], now, "%.0f s" % down_at if down_at is not None else "?", bid))
            return bid
        if bid is None and down_at is None:
            down_at = now
            log("%s: down after %.0f s" % (g["name"], now))
        if now > timeout:
            raise LabError("%s: not back with a new boot id within %d s; last serial lines:\n%s" % (
                g["name"], timeout, serial_tail(g)))
        time.sleep(3)
