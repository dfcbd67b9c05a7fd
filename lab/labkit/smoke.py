# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Smoke proof of the VM lab: one fleet guest installs kdump-tools from the in-image repository,
reserves crashkernel through GRUB, reboots, really crashes, and comes back with a local dump.
With --ssh-dump / --nfs-dump, a collector guest also receives a dump over SSH (kdump@kdump-collector) /
NFS (kdump-collector:/srv/crash, exported with `insecure`).

Prints one JSON line with timings. Uses its own run dir (FLEET_KDUMP_RUN, default
/var/tmp/fleet-kdump-smoke), starts from fresh overlays, and stops its guests at the end unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("FLEET_KDUMP_RUN", "/var/tmp/fleet-kdump-smoke")
os.environ.setdefault("FLEET_KDUMP_PORT_BASE", "10122")
FLEETLAB = os.path.join(LAB_DIR, "fleetlab")
CRASHKERNEL = "384M-:128M"


def log(msg):
    print("[smoke %s] %s" % (time.strftime("%H:%M:%S", time.gmtime()), msg), file=sys.stderr, flush=True)


def lab(*args):
    out = subprocess.run([FLEETLAB] + list(args), stdout=subprocess.PIPE, universal_newlines=True, check=False)
    if out.returncode != 0:
        raise SystemExit("smoke: fleetlab %s failed (rc=%d)" % (" ".join(args), out.returncode))
    return out.stdout.strip()


def sh(name, script, check=True):
    """Run a shell script on a guest as root; returns stdout."""
    out = subprocess.run([FLEETLAB, "ssh", name, "--", "sh -ec " + shlex.quote(script)],
                         stdout=subprocess.PIPE, universal_newlines=True, check=False)
    if check and out.returncode != 0:
        raise SystemExit("smoke: on %s failed (rc=%d): %s" % (name, out.returncode, script))
    return out.stdout.strip()


def timed(fn, *args):
    start = time.time()
    result = fn(*args)
    return result, round(time.time() - start, 1)


INSTALL = """
export DEBIAN_FRONTEND=noninteractive
apt-get -q update >/dev/null
apt-get -q -y install kdump-tools makedumpfile kexec-tools >/tmp/install.log 2>&1 || { tail -20 /tmp/install.log; exit 1; }
printf 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=%s"\\n' > /etc/default/grub.d/kdump-tools.cfg
update-grub 2>/dev/null
grep -q 'crashkernel=%s' /boot/grub/grub.cfg
""" % (CRASHKERNEL, CRASHKERNEL)

# sync first: files written just before the panic (e.g. known_hosts) are otherwise lost with the page cache.
CRASH = "sync; sysctl -q -w kernel.sysrq=1; nohup setsid sh -c 'sleep 2; echo c > /proc/sysrq-trigger' >/dev/null 2>&1 </dev/null &"


def reboot(name):
    old = lab("boot-id", name)
    sh(name, "nohup setsid sh -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 </dev/null &")
    return old, lab("wait-reboot", name, "--boot-id", old)


def crash(name):
    old = lab("boot-id", name)
    sh(name, CRASH)
    return old, lab("wait-reboot", name, "--boot-id", old)


def setup_ssh_target(fleet, collector):
    """Collector: user kdump with the fleet's key; fleet: SSH= + known_hosts + HOSTTAG=hostname."""
    sh(fleet, "test -f /root/.ssh/kdump_id_rsa || ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/kdump_id_rsa")
    pub = sh(fleet, "cat /root/.ssh/kdump_id_rsa.pub")
    sh(collector, """
id kdump >/dev/null 2>&1 || useradd -m -s /bin/sh kdump
install -d -o kdump -g kdump -m 0700 /home/kdump/.ssh
echo %s > /home/kdump/.ssh/authorized_keys
chown kdump:kdump /home/kdump/.ssh/authorized_keys; chmod 600 /home/kdump/.ssh/authorized_keys
install -d -o kdump -g kdump -m 0755 /var/crash
""" % shlex.quote(pub))
    hostkey = sh(collector, "cat /etc/ssh/ssh_host_ed25519_key.pub").split()[:2]
    sh(fleet, """
echo 'kdump-collector %s' > /root/.ssh/known_hosts
sed -i '/^#*SSH=/d; /^#*SSH_KEY=/d; /^#*HOSTTAG=/d' /etc/default/kdump-tools
printf 'SSH="kdump@kdump-collector"\\nSSH_KEY="/root/.ssh/kdump_id_rsa"\\nHOSTTAG="hostname"\\n' >> /etc/default/kdump-tools
ssh -i /root/.ssh/kdump_id_rsa -o BatchMode=yes kdump@kdump-collector true
""" % " ".join(hostkey))


def setup_nfs_target(fleet, collector):
    """Collector: NFS export (insecure: slirp connects from unprivileged ports); fleet: NFS= instead of SSH=."""
    sh(collector, """
export DEBIAN_FRONTEND=noninteractive
apt-get -q -y install nfs-kernel-server >/tmp/nfs.log 2>&1 || { tail -20 /tmp/nfs.log; exit 1; }
mkdir -p /srv/crash
echo '/srv/crash *(rw,insecure,no_root_squash,no_subtree_check)' > /etc/exports
exportfs -ra
""")
    sh(fleet, """
export DEBIAN_FRONTEND=noninteractive
apt-get -q -y install nfs-common >/tmp/nfs.log 2>&1 || { tail -20 /tmp/nfs.log; exit 1; }
sed -i '/^#*SSH=/d; /^#*SSH_KEY=/d; /^#*NFS=/d; /^#*HOSTTAG=/d' /etc/default/kdump-tools
printf 'NFS="kdump-collector:/srv/crash"\nHOSTTAG="hostname"\n' >> /etc/default/kdump-tools
mkdir -p /mnt/nfs-check
mount -t nfs -o nolock,tcp,soft kdump-collector:/srv/crash /mnt/nfs-check
umount /mnt/nfs-check
""")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[1].split("\n\n")[0])
    p.add_argument("--keep", action="store_true", help="leave the guests running")
    p.add_argument("--ssh-dump", action="store_true", help="also prove an SSH dump to the collector guest")
    p.add_argument("--nfs-dump", action="store_true", help="also prove an NFS dump to the collector guest")
    p.add_argument("--dist", default="bookworm")
    args = p.parse_args()
    fleet, result = "fleet1", {"dist": args.dist}
    lab("down", "--clean")   # fresh overlays: every run installs kdump-tools from scratch
    try:
        up = ["up", "--fleet", "1", "--dist", args.dist] + (["--collector"] if args.ssh_dump or args.nfs_dump else [])
        result["up_s"] = timed(lab, *up)[1]
        state = json.loads(lab("status", "--json"))
        result["accel"] = state["accel"]
        with open(os.path.join(os.environ["FLEET_KDUMP_RUN"], "state.json")) as f:
            result["boot_s"] = json.load(f)["guests"][fleet].get("boot_s")
        log("installing kdump-tools in %s" % fleet)
        result["install_s"] = timed(sh, fleet, INSTALL)[1]
        (old, new), result["reboot_s"] = timed(reboot, fleet)
        result["kernel"] = sh(fleet, "uname -r")
        result["cmdline"] = sh(fleet, "cat /proc/cmdline")
        result["kexec_crash_loaded"] = sh(fleet, "cat /sys/kernel/kexec_crash_loaded")
        result["kexec_crash_size"] = int(sh(fleet, "cat /sys/kernel/kexec_crash_size"))
        if result["kexec_crash_loaded"] != "1":
            raise SystemExit("smoke: kdump not loaded after reboot: %s" % sh(fleet, "kdump-config show", check=False))
        log("crashing %s (local dump)" % fleet)
        (b1, b2), result["crash_to_back_s"] = timed(crash, fleet)
        result["boot_ids"] = [old, new, b2]
        found = sh(fleet, """
d=$(ls -1d /var/crash/2*/ | tail -1); s=$(basename $d)
test -s $d/dump.$s; grep -q 'sysrq: Trigger a crash' $d/dmesg.$s
echo $s $(stat -c %s $d/dump.$s) $(head -c 12 $d/dump.$s)
""")
        stamp, size, magic = found.split()
        result.update(dump="/var/crash/%s/dump.%s" % (stamp, stamp), dump_size=int(size), dump_magic=magic)
        if args.ssh_dump:
            setup_ssh_target(fleet, "kdump-collector")
            log("crashing %s (ssh dump to kdump-collector)" % fleet)
            (_before, b3), result["ssh_crash_to_back_s"] = timed(crash, fleet)
            result["boot_ids"].append(b3)
            remote = sh("kdump-collector", """
d=$(ls -1d /var/crash/fleet1-2*/ | tail -1); s=${d%/}; s=${s##*-}
test -s $d/dump.$s; grep -q 'sysrq: Trigger a crash' $d/dmesg.$s
echo $d $(stat -c %s $d/dump.$s)
""")
            result["ssh_dump_dir"], result["ssh_dump_size"] = remote.split()[0], int(remote.split()[1])
            result["collector_sees"] = sh("kdump-collector", "journalctl -u ssh --no-pager -o cat"
                                          " | grep -o 'Accepted publickey for kdump from [0-9.]*' | tail -1")
        if args.nfs_dump:
            setup_nfs_target(fleet, "kdump-collector")
            log("crashing %s (nfs dump to kdump-collector)" % fleet)
            (_before, b4), result["nfs_crash_to_back_s"] = timed(crash, fleet)
            result["boot_ids"].append(b4)
            remote = sh("kdump-collector", """
d=$(ls -1d /srv/crash/fleet1-2*/ | tail -1); s=${d%/}; s=${s##*-}
test -s $d/dump.$s; grep -q 'sysrq: Trigger a crash' $d/dmesg.$s
echo $d $(stat -c %s $d/dump.$s)
""")
            result["nfs_dump_dir"], result["nfs_dump_size"] = remote.split()[0], int(remote.split()[1])
        result["ok"] = True
    finally:
        if not args.keep:
            subprocess.run([FLEETLAB, "down"], check=False)
        print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
