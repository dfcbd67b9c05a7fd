# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kdump-collector receive: the SSH forced command, driven the way kdump-tools and OpenSSH drive it."""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import signal
import stat
import struct
import subprocess
import time

import pytest

from kdump_collector import receive as receive_module
from kdump_collector import store
from collector_helpers import FLAT_END, FLAT_HEADER, PROG, PYTHON, STAMP, receive, run, snapshot

D = '/var/crash/t1-' + STAMP
E = 't1-' + STAMP

HOSTILE = [
    '',
    'sh',
    'bash -i',
    'ls /var/crash',
    'rm -rf ' + D,
    'cat /etc/passwd',
    'cat %s/dmesg.%s' % (D, STAMP),
    'scp -f %s/dump.%s' % (D, STAMP),
    'scp -t %s/dump.%s' % (D, STAMP),
    'scp -r -t ' + D,
    'scp -d -t %s/dmesg.%s' % (D, STAMP),
    'scp -t /var/crash/t2-%s/dmesg.%s' % (STAMP, STAMP),
    'echo c > /proc/sysrq-trigger',
    'mkdir -p %s; rm -rf /' % D,
    'mkdir -p %s && id' % D,
    'mkdir -p %s|id' % D,
    'mkdir -p /var/crash/$(id)-' + STAMP,
    'mkdir -p /var/crash/`id`-' + STAMP,
    "mkdir -p '%s'" % D,
    'mkdir -p %s\nrm -rf /' % D,
    'mkdir -p %s\rid' % D,
    'mkdir  -p ' + D,
    'mkdir -p %s ' % D,
    'mkdir -p\t' + D,
    'mkdir ' + D,
    'mkdir -p %s /etc/evil' % D,
    'mkdir -p /var/crash/../../etc/t1-' + STAMP,
    'mkdir -p %s/../../../etc' % D,
    'mkdir -p /var/crash/h1/../h2/t2-' + STAMP,
    'mkdir -p /var/crash/t2-' + STAMP,
    'mkdir -p var/crash/t1-' + STAMP,
    'mkdir -p /var/crash/t1-20261126121',
    'mkdir -p /var/crash/t1-202613991299',
    'mkdir -p /var/crash/t1',
    'mkdir -p /var/crash/.-' + STAMP,
    'dd of=/etc/passwd',
    'dd of=%s/dump.%s' % (D, STAMP),
    'dd of=%s/dmesg.%s' % (D, STAMP),
    'dd if=/dev/sda of=%s/dump-incomplete' % D,
    'dd of=%s/dump-incomplete bs=1' % D,
    'dd of=%s/dump-incomplete.zst' % D,
    'dd of=/var/crash/t2-%s/dump-incomplete' % STAMP,
    'dd of=%s/../t1-202611261217/dump-incomplete' % D,
    'dd of=%s/sub/dump-incomplete' % D,
    'mv %s/dump-incomplete /etc/passwd' % D,
    'mv %s/dmesg.%s %s/dump.%s' % (D, STAMP, D, STAMP),
    'mv %s/dump-incomplete /var/crash/t1-202611261217/dump.202611261217' % D,
    'mv %s/dump-incomplete %s/dump.202611261217' % (D, D),
    'mv %s/dump-incomplete.gz %s/dump.%s' % (D, D, STAMP),
    'mv %s/dump-incomplete %s/dump.%s.gz' % (D, D, STAMP),
    'mv -f %s/dump-incomplete %s/dump.%s' % (D, D, STAMP),
    'mv %s/dump.%s %s/dump-incomplete' % (D, STAMP, D),
    '/usr/lib/openssh/sftp-server;id',
    '/usr/lib/openssh/sftp-server -d /',
    'internal-sftp ; id',
    '/tmp/sftp-server',
]


@pytest.fixture
def lab(tmp_path):
    """Collector root with host h1 (tag t1) holding one complete dump, host h2 (tag t2), and an outside dir."""
    root = tmp_path / 'root'
    done = root / 'h1' / ('t1-' + '202611261100')
    done.mkdir(parents=True)
    (done / 'dump.202611261100').write_bytes(b'makedumpfile\0\0\0\0' + b'x' * 100)
    (done / 'dmesg.202611261100').write_text('[ 1.0] hello\n')
    other = root / 'h2' / ('t2-' + STAMP)
    other.mkdir(parents=True)
    (other / ('dump.' + STAMP)).write_bytes(b'KDUMP   ' + b'y' * 100)
    (tmp_path / 'outside').mkdir()
    (tmp_path / 'outside' / 'secret').write_text('secret\n')
    return tmp_path


def tree(base):
    state = snapshot(str(base))
    return {k: v for k, v in state.items() if not k.startswith(('.log', os.path.join('root', '.log')))}


@pytest.mark.parametrize('command', HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_commands_refused_and_nothing_written(lab, command):
    before = tree(lab)
    result = receive(str(lab / 'root'), command, input_bytes=b'payload' * 1000)
    assert result.returncode != 0
    err = result.stderr.decode()
    assert err.startswith('kdump-collector: refused: ') and err.count('\n') == 1
    assert tree(lab) == before
    log = (lab / 'root' / '.log' / 'receive.log').read_text()
    assert 'REFUSE' in log.splitlines()[-1]


def kdump_session(root, dmesg, dump, host='h1', tag='t1', stamp=STAMP, ext=''):
    """The four requests kdump-tools sends, with the dmesg upload done by real OpenSSH scp (SFTP mode)."""
    d = '/var/crash/%s-%s' % (tag, stamp)
    assert receive(root, 'mkdir -p ' + d, host=host, tags=(tag,)).returncode == 0
    scp_upload(root, dmesg, '%s/dmesg.%s' % (d, stamp), host=host, tag=tag)
    result = receive(root, 'dd of=%s/dump-incomplete%s' % (d, ext), host=host, tags=(tag,), input_bytes=dump)
    assert result.returncode == 0, result.stderr
    result = receive(root, 'mv %s/dump-incomplete%s %s/dump.%s%s' % (d, ext, d, stamp, ext), host=host, tags=(tag,))
    assert result.returncode == 0, result.stderr


def wrapper(tmp, root, host, tag, extra=''):
    path = os.path.join(tmp, 'ssh-%s.sh' % host)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('#!/bin/sh\nSSH_ORIGINAL_COMMAND=/usr/lib/openssh/sftp-server exec %s %s receive --root %s --host %s --tag %s %s\n'
                     % (PYTHON, PROG, root, host, tag, extra))
    os.chmod(path, 0o755)
    return path


def scp_upload(root, local, remote, host='h1', tag='t1', extra='', check=True):
    """OpenSSH 9 scp (SFTP protocol) with -S pointing at a wrapper that execs receive, as sshd would."""
    tmp = os.path.dirname(os.path.abspath(local))
    result = subprocess.run(['scp', '-q', '-S', wrapper(tmp, root, host, tag, extra), local, 'collector:' + remote],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_full_kdump_tools_session(tmp_path):
    root = str(tmp_path / 'root')
    os.mkdir(root)
    dmesg = tmp_path / 'dmesg.ssh'
    dmesg.write_bytes(os.urandom(36442).hex().encode())
    dump = b'makedumpfile\0\0\0\0' + os.urandom(3 * 1024 * 1024 + 123)
    kdump_session(root, str(dmesg), dump)
    entry = os.path.join(root, 'h1', E)
    assert sorted(os.listdir(entry)) == ['dmesg.' + STAMP, 'dump.' + STAMP]
    with open(os.path.join(entry, 'dump.' + STAMP), 'rb') as handle:
        assert handle.read() == dump
    with open(os.path.join(entry, 'dmesg.' + STAMP), 'rb') as handle:
        assert handle.read() == dmesg.read_bytes()
    assert stat.S_IMODE(os.stat(entry).st_mode) == 0o750
    assert stat.S_IMODE(os.stat(os.path.join(root, 'h1')).st_mode) == 0o750
    assert not os.stat(os.path.join(entry, 'dump.' + STAMP)).st_mode & 0o027
    log = open(os.path.join(root, '.log', 'receive.log'), encoding='utf-8').read()
    assert log.count('ACCEPT') >= 4 and 'REFUSE' not in log
    # raised for the collector's path unit, which then runs index
    assert os.path.exists(os.path.join(root, '.log', 'index-pending'))


@pytest.mark.parametrize('ext', ['.bz2', '.gz', '.lz4', '.xz'])
def test_compressed_dump_names(tmp_path, ext):
    root = str(tmp_path)
    assert receive(root, 'mkdir -p ' + D).returncode == 0
    assert receive(root, 'dd of=%s/dump-incomplete%s' % (D, ext), input_bytes=b'abc').returncode == 0
    assert receive(root, 'mv %s/dump-incomplete%s %s/dump.%s%s' % (D, ext, D, STAMP, ext)).returncode == 0
    assert os.listdir(os.path.join(root, 'h1', E)) == ['dump.%s%s' % (STAMP, ext)]


def test_sftp_client_put_with_sftp_D(tmp_path):
    """OpenSSH sftp -D talks to receive directly; put uses OPEN WRITE|CREAT|TRUNC, then a second put must fail."""
    root = str(tmp_path / 'root')
    os.mkdir(root)
    local = tmp_path / 'vmcore'
    local.write_bytes(os.urandom(200000))
    batch = tmp_path / 'batch'
    batch.write_text('put %s %s/vmcore-incomplete\n' % (local, D))
    cmd = '%s %s receive --root %s --host h1 --tag t1' % (PYTHON, PROG, root)
    env = dict(os.environ, SSH_ORIGINAL_COMMAND='/usr/lib/openssh/sftp-server')
    result = subprocess.run(['sftp', '-b', str(batch), '-D', cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / 'root' / 'h1' / E / 'vmcore-incomplete').read_bytes() == local.read_bytes()
    again = subprocess.run(['sftp', '-b', str(batch), '-D', cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60, check=False)
    assert again.returncode != 0
    assert (tmp_path / 'root' / 'h1' / E / 'vmcore-incomplete').read_bytes() == local.read_bytes()
    assert receive(root, 'mv %s/vmcore-incomplete %s/vmcore.%s' % (D, D, STAMP)).returncode == 0
    assert os.listdir(os.path.join(root, 'h1', E)) == ['vmcore.' + STAMP]


@pytest.mark.parametrize('server', ['internal-sftp', '/usr/libexec/openssh/sftp-server', '/usr/lib/openssh/sftp-server -f AUTHPRIV -l INFO'])
def test_sftp_subsystem_variants(tmp_path, server):
    """Whatever the collector's "Subsystem sftp" line says arrives as SSH_ORIGINAL_COMMAND."""
    root = str(tmp_path / 'root')
    os.mkdir(root)
    local = tmp_path / 'dmesg'
    local.write_text('[    1.000000] x\n')
    batch = tmp_path / 'batch'
    batch.write_text('put %s %s/dmesg.%s\n' % (local, D, STAMP))
    env = dict(os.environ, SSH_ORIGINAL_COMMAND=server)
    cmd = '%s %s receive --root %s --host h1 --tag t1' % (PYTHON, PROG, root)
    result = subprocess.run(['sftp', '-b', str(batch), '-D', cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / 'root' / 'h1' / E / ('dmesg.' + STAMP)).read_text() == local.read_text()


def test_scp_refuses_overwrite_other_names_and_other_tags(tmp_path):
    root = str(tmp_path / 'root')
    os.mkdir(root)
    local = tmp_path / 'dmesg'
    local.write_text('[    1.000000] first\n')
    scp_upload(root, str(local), '%s/dmesg.%s' % (D, STAMP))
    local.write_text('[    1.000000] second\n')
    before = snapshot(str(tmp_path / 'root' / 'h1'))
    for remote in ('%s/dmesg.%s' % (D, STAMP), '%s/dump.%s' % (D, STAMP), '%s/dmesg.202611261217' % D,
                   '/var/crash/t2-%s/dmesg.%s' % (STAMP, STAMP), '%s/../x/dmesg.%s' % (D, STAMP), '/etc/passwd',
                   '%s/' % D, 'relative/dmesg.' + STAMP):
        assert scp_upload(root, str(local), remote, check=False).returncode != 0, remote
    assert snapshot(str(tmp_path / 'root' / 'h1')) == before
    assert (tmp_path / 'root' / 'h1' / E / ('dmesg.' + STAMP)).read_text() == '[    1.000000] first\n'


def test_legacy_scp_protocol_upload(tmp_path):
    """OpenSSH < 9 clients (and scp -O) send `scp -t FILE`: one new file is accepted, an overwrite is not."""
    root = str(tmp_path / 'root')
    os.mkdir(root)
    shim = tmp_path / 'legacy.sh'
    shim.write_text('#!/bin/sh\nfor last; do :; done\nSSH_ORIGINAL_COMMAND="$last" exec %s %s receive --root %s --host h1 --tag t1\n'
                    % (PYTHON, PROG, root))
    os.chmod(str(shim), 0o755)
    local = tmp_path / 'vmcore'
    local.write_bytes(os.urandom(300000))

    def legacy(*args):
        return subprocess.run(['scp', '-O', '-q', '-S', str(shim)] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=60, check=False)

    assert legacy(str(local), 'c:%s/vmcore-incomplete' % D).returncode == 0
    target = tmp_path / 'root' / 'h1' / E / 'vmcore-incomplete'
    assert target.read_bytes() == local.read_bytes()
    local.write_bytes(b'other')
    again = legacy(str(local), 'c:%s/vmcore-incomplete' % D)
    assert again.returncode != 0 and b'never overwritten' in again.stderr
    assert legacy(str(local), 'c:%s/dump.%s' % (D, STAMP)).returncode != 0
    assert legacy('c:%s/vmcore-incomplete' % D, str(tmp_path / 'stolen')).returncode != 0
    assert not (tmp_path / 'stolen').exists()
    assert receive(root, 'mv %s/vmcore-incomplete %s/vmcore.%s' % (D, D, STAMP)).returncode == 0


def test_scp_download_refused(tmp_path):
    root = str(tmp_path / 'root')
    os.mkdir(root)
    local = tmp_path / 'dmesg'
    local.write_text('x\n')
    scp_upload(root, str(local), '%s/dmesg.%s' % (D, STAMP))
    target = tmp_path / 'stolen'
    result = subprocess.run(['scp', '-q', '-S', wrapper(str(tmp_path), root, 'h1', 't1'), 'collector:%s/dmesg.%s' % (D, STAMP),
                             str(target)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
    assert result.returncode != 0
    assert not target.exists() or target.read_bytes() == b''


class RawSftp:
    """Just enough of an SFTP v3 client to send requests real clients never would."""

    def __init__(self, root, extra=()):
        env = dict(os.environ, SSH_ORIGINAL_COMMAND='/usr/lib/openssh/sftp-server')
        self.proc = subprocess.Popen([PYTHON, PROG, 'receive', '--root', root, '--host', 'h1', '--tag', 't1'] + list(extra),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.req = 0
        self.send(1, struct.pack('>I', 3))
        ptype, body = self.recv()
        assert ptype == 2 and struct.unpack('>I', body[:4])[0] == 3

    def send(self, ptype, body):
        self.proc.stdin.write(struct.pack('>IB', len(body) + 1, ptype) + body)
        self.proc.stdin.flush()

    def recv(self):
        length = struct.unpack('>I', self.proc.stdout.read(4))[0]
        data = self.proc.stdout.read(length)
        return data[0], data[1:]

    @staticmethod
    def s(text):
        data = text.encode() if isinstance(text, str) else text
        return struct.pack('>I', len(data)) + data

    def call(self, ptype, body):
        self.req += 1
        self.send(ptype, struct.pack('>I', self.req) + body)
        rtype, data = self.recv()
        assert struct.unpack('>I', data[:4])[0] == self.req
        if rtype == 101:
            return 'status', struct.unpack('>I', data[4:8])[0]
        return rtype, data[4:]

    def open(self, path, flags):
        return self.call(3, self.s(path) + struct.pack('>II', flags, 0))

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(30)
        return self.proc.returncode


def test_sftp_protocol_level_refusals(tmp_path):
    root = str(tmp_path / 'root')
    os.mkdir(root)
    existing = tmp_path / 'root' / 'h1' / E
    existing.mkdir(parents=True)
    (existing / ('dmesg.' + STAMP)).write_text('old\n')
    before = snapshot(str(tmp_path))
    client = RawSftp(root)
    denied = 3
    assert client.open('%s/dmesg.%s' % (D, STAMP), 1) == ('status', denied)                 # READ
    assert client.open('%s/dmesg.%s' % (D, STAMP), 2 | 8 | 1) == ('status', denied)         # READ|WRITE|CREAT
    assert client.open('%s/dmesg.%s' % (D, STAMP), 2 | 8 | 4) == ('status', denied)         # APPEND
    assert client.open('%s/dmesg.%s' % (D, STAMP), 2) == ('status', denied)                 # no CREAT
    assert client.open('%s/dmesg.%s' % (D, STAMP), 2 | 8 | 0x10) == ('status', denied)      # exists: never overwritten
    assert client.open('/etc/passwd', 2 | 8) == ('status', denied)
    assert client.open('%s/../../etc/dmesg.%s' % (D, STAMP), 2 | 8) == ('status', denied)
    assert client.open('/var/crash/t2-%s/dmesg.%s' % (STAMP, STAMP), 2 | 8) == ('status', denied)
    assert client.call(11, client.s('/var/crash')) == ('status', denied)                     # OPENDIR
    assert client.call(13, client.s('%s/dmesg.%s' % (D, STAMP))) == ('status', denied)       # REMOVE
    assert client.call(14, client.s('/var/crash/x') + struct.pack('>I', 0)) == ('status', denied)  # MKDIR
    assert client.call(18, client.s('%s/dmesg.%s' % (D, STAMP)) + client.s('/tmp/x')) == ('status', denied)  # RENAME
    assert client.call(20, client.s('/etc/passwd') + client.s('%s/dmesg.%s' % (D, STAMP))) == ('status', denied)  # SYMLINK
    assert client.call(19, client.s('/etc')) == ('status', denied)                           # READLINK
    assert client.call(5, client.s('0') + struct.pack('>QI', 0, 10)) == ('status', denied)   # READ unknown handle
    assert client.call(200, client.s('posix-rename@openssh.com')) == ('status', 8)           # EXTENDED
    assert client.call(7, client.s('/etc/passwd')) == ('status', denied)                     # LSTAT outside
    assert client.call(17, client.s('%s/dmesg.202611261217' % D)) == ('status', denied)
    assert client.call(17, client.s('%s/vmcore-incomplete' % D)) == ('status', 2)            # not there yet
    assert client.call(17, client.s('%s/dmesg.%s' % (D, STAMP))) == ('status', denied)       # there: never revealed
    assert client.call(17, client.s('/var/crash/t1-202611261217/dmesg.202611261217')) == ('status', 2)
    assert client.close() == 1
    assert snapshot(str(tmp_path)) == {k: v for k, v in snapshot(str(tmp_path)).items() if k in before or '.log' in k}
    assert {k: v for k, v in snapshot(str(tmp_path)).items() if '.log' not in k} == {
        k: v for k, v in before.items() if '.log' not in k}


def test_sftp_upload_never_reads_and_setstat_is_safe(tmp_path):
    root = str(tmp_path / 'root')
    os.mkdir(root)
    client = RawSftp(root)
    kind, handle = client.open('%s/dmesg.%s' % (D, STAMP), 2 | 8 | 0x10)
    assert kind == 102
    handle = handle[4:]
    assert client.call(6, client.s(handle) + struct.pack('>Q', 0) + client.s(b'hello world\n')) == ('status', 0)
    assert client.call(5, client.s(handle) + struct.pack('>QI', 0, 10)) == ('status', 3)      # READ of own file
    # FSETSTAT: size may only shrink, mode loses group write and other bits.
    assert client.call(10, client.s(handle) + struct.pack('>IQ', 1, 1 << 40)) == ('status', 0)
    assert client.call(10, client.s(handle) + struct.pack('>II', 4, 0o4777)) == ('status', 0)
    assert client.call(10, client.s(handle) + struct.pack('>IQ', 1, 6)) == ('status', 0)
    kind, _attrs = client.call(8, client.s(handle))
    assert kind == 105
    assert client.call(4, client.s(handle)) == ('status', 0)
    assert client.close() == 1  # the READ was refused, so the session reports a refusal
    path = tmp_path / 'root' / 'h1' / E / ('dmesg.' + STAMP)
    assert path.read_bytes() == b'hello '
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_sftp_sparse_write_far_ahead_refused(tmp_path):
    root = str(tmp_path / 'root')
    os.mkdir(root)
    client = RawSftp(root)
    handle = client.open('%s/vmcore-incomplete' % D, 2 | 8)[1][4:]
    assert client.call(6, client.s(handle) + struct.pack('>Q', 0) + client.s(b'a' * 10)) == ('status', 0)
    assert client.call(6, client.s(handle) + struct.pack('>Q', 1 << 40) + client.s(b'a')) == ('status', 3)
    assert client.call(4, client.s(handle)) == ('status', 0)
    client.close()
    assert (tmp_path / 'root' / 'h1' / E / 'vmcore-incomplete').stat().st_size == 10


def test_sftp_write_beyond_host_cap_is_truncated(tmp_path):
    root = str(tmp_path / 'root')
    os.mkdir(root)
    client = RawSftp(root, ['--max-host-bytes', '100'])
    handle = client.open('%s/vmcore-incomplete' % D, 2 | 8)[1][4:]
    assert client.call(6, client.s(handle) + struct.pack('>Q', 0) + client.s(b'a' * 60)) == ('status', 0)
    assert client.call(6, client.s(handle) + struct.pack('>Q', 60) + client.s(b'a' * 60)) == ('status', 3)
    assert client.call(4, client.s(handle)) == ('status', 0)
    client.close()
    entry = tmp_path / 'root' / 'h1' / E
    assert (entry / 'vmcore-incomplete.truncated').exists()
    result = receive(root, 'mv %s/vmcore-incomplete %s/vmcore.%s' % (D, D, STAMP))
    assert result.returncode == 1 and b'truncated' in result.stderr
    assert not (entry / ('vmcore.' + STAMP)).exists()


def test_mv_onto_completed_dump_refused(tmp_path):
    root = str(tmp_path)
    assert receive(root, 'mkdir -p ' + D).returncode == 0
    assert receive(root, 'dd of=%s/dump-incomplete' % D, input_bytes=b'first').returncode == 0
    assert receive(root, 'mv %s/dump-incomplete %s/dump.%s' % (D, D, STAMP)).returncode == 0
    entry = tmp_path / 'h1' / E
    # A second dump-incomplete can only appear on disk by other means; mv must still not replace the dump.
    (entry / 'dump-incomplete').write_bytes(b'second')
    os.chmod(entry / 'dump-incomplete', 0o640)
    result = receive(root, 'mv %s/dump-incomplete %s/dump.%s' % (D, D, STAMP))
    assert result.returncode == 1 and b'never overwritten' in result.stderr
    assert (entry / ('dump.' + STAMP)).read_bytes() == b'first'
    assert receive(root, 'dd of=%s/dump-incomplete.gz' % D, input_bytes=b'x').returncode == 1


def test_dd_never_reuses_existing_incomplete(tmp_path):
    root = str(tmp_path)
    assert receive(root, 'dd of=%s/dump-incomplete' % D, input_bytes=b'first').returncode == 0
    result = receive(root, 'dd of=%s/dump-incomplete' % D, input_bytes=b'second')
    assert result.returncode == 1 and b'already exists' in result.stderr
    assert (tmp_path / 'h1' / E / 'dump-incomplete').read_bytes() == b'first'


def test_truncated_dump_never_completes(tmp_path):
    root = str(tmp_path)
    assert receive(root, 'mkdir -p ' + D).returncode == 0
    data = os.urandom(5 * 1024 * 1024 + 7)
    result = receive(root, 'dd of=%s/dump-incomplete' % D, extra=['--max-host-bytes', '3M'], input_bytes=data)
    assert result.returncode == 1 and b'truncated' in result.stderr
    entry = tmp_path / 'h1' / E
    assert (entry / 'dump-incomplete').read_bytes() == data[:3 * 1024 * 1024]
    assert (entry / 'dump-incomplete.truncated').exists()
    result = receive(root, 'mv %s/dump-incomplete %s/dump.%s' % (D, D, STAMP))
    assert result.returncode == 1
    assert not (entry / ('dump.' + STAMP)).exists()
    over = receive(root, 'dd of=%s/dump-incomplete.gz' % D, extra=['--max-host-bytes', '3M'], input_bytes=b'x')
    assert over.returncode == 1 and b'max-host-bytes' in over.stderr


def test_dump_that_fits_the_cap_completes(tmp_path):
    root = str(tmp_path)
    data = os.urandom(2 * 1024 * 1024)
    assert receive(root, 'dd of=%s/dump-incomplete' % D, extra=['--max-host-bytes', '2M'], input_bytes=data).returncode == 0
    assert receive(root, 'mv %s/dump-incomplete %s/dump.%s' % (D, D, STAMP)).returncode == 0
    assert (tmp_path / 'h1' / E / ('dump.' + STAMP)).read_bytes() == data


def test_min_free_floor_refuses_cleanly(tmp_path):
    root = str(tmp_path)
    assert receive(root, 'mkdir -p ' + D).returncode == 0
    before = tree(tmp_path)
    result = receive(root, 'dd of=%s/dump-incomplete' % D, extra=['--min-free', '1P'], input_bytes=b'x' * 4096)
    assert result.returncode == 1
    assert result.stderr.decode() == 'kdump-collector: refused: free space %s below --min-free %d\n' % (
        result.stderr.decode().split('free space ')[1].split(' ')[0], 1024 ** 5)
    local = tmp_path / 'dmesg'
    local.write_text('x\n')
    assert scp_upload(root, str(local), '%s/dmesg.%s' % (D, STAMP), extra='--min-free 1P', check=False).returncode != 0
    after = tree(tmp_path)
    after.pop('dmesg')
    after.pop('ssh-h1.sh')
    assert after == before


def test_symlinked_entry_dir_refused(tmp_path):
    root = tmp_path / 'root'
    (root / 'h1').mkdir(parents=True)
    outside = tmp_path / 'outside'
    outside.mkdir()
    os.symlink(str(outside), str(root / 'h1' / E))
    before = snapshot(str(tmp_path))
    for command in ('mkdir -p ' + D, 'dd of=%s/dump-incomplete' % D, 'mv %s/dump-incomplete %s/dump.%s' % (D, D, STAMP)):
        result = receive(str(root), command, input_bytes=b'data')
        assert result.returncode == 1 and b'symlink' in result.stderr, command
    local = tmp_path / 'dmesg'
    local.write_text('x\n')
    assert scp_upload(str(root), str(local), '%s/dmesg.%s' % (D, STAMP), check=False).returncode != 0
    assert os.listdir(str(outside)) == []
    after = snapshot(str(tmp_path))
    assert {k: v for k, v in after.items() if '.log' not in k and not k.startswith(('dmesg', 'ssh-'))} == {
        k: v for k, v in before.items() if '.log' not in k}


def test_symlinked_host_dir_and_files_refused(tmp_path):
    root = tmp_path / 'root'
    root.mkdir()
    outside = tmp_path / 'outside'
    outside.mkdir()
    os.symlink(str(outside), str(root / 'h1'))
    assert receive(str(root), 'mkdir -p ' + D).returncode == 1
    os.unlink(str(root / 'h1'))
    (root / 'h1' / E).mkdir(parents=True)
    (outside / 'target').write_text('keep\n')
    os.symlink(str(outside / 'target'), str(root / 'h1' / E / 'dump-incomplete'))
    assert receive(str(root), 'dd of=%s/dump-incomplete' % D, input_bytes=b'evil').returncode == 1
    assert receive(str(root), 'mv %s/dump-incomplete %s/dump.%s' % (D, D, STAMP)).returncode == 1
    assert (outside / 'target').read_text() == 'keep\n'
    assert os.listdir(str(root / 'h1' / E)) == ['dump-incomplete']


def test_upload_cut_mid_stream_stays_incomplete(tmp_path):
    root = str(tmp_path)
    assert receive(root, 'mkdir -p ' + D).returncode == 0
    env = dict(os.environ, SSH_ORIGINAL_COMMAND='dd of=%s/dump-incomplete' % D)
    proc = subprocess.Popen([PYTHON, PROG, 'receive', '--root', root, '--host', 'h1', '--tag', 't1'],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    proc.stdin.write(os.urandom(1024 * 1024 + 5))
    proc.stdin.flush()
    time.sleep(0.5)
    # The SSH connection dies: sshd kills the session, the pipe closes.
    os.killpg(proc.pid, signal.SIGKILL)
    proc.stdin.close()
    proc.wait(30)
    entry = tmp_path / 'h1' / E
    assert 0 < (entry / 'dump-incomplete').stat().st_size <= 1024 * 1024 + 5
    result = receive(root, 'mv %s/dump-incomplete %s/dump.%s' % (D, D, STAMP))
    assert result.returncode == 1 and b'still being written or its upload failed' in result.stderr
    db = str(tmp_path / 'index.db')
    assert run('index', '--root', root, '--db', db).returncode == 0
    conn = store.open_db(db)
    row = conn.execute('SELECT state, dump_name FROM dumps').fetchone()
    assert tuple(row) == ('incomplete', 'dump-incomplete')


def test_concurrent_mv_during_stream_refused(tmp_path):
    root = str(tmp_path)
    env = dict(os.environ, SSH_ORIGINAL_COMMAND='dd of=%s/dump-incomplete' % D)
    proc = subprocess.Popen([PYTHON, PROG, 'receive', '--root', root, '--host', 'h1', '--tag', 't1'],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdin.write(b'x' * 100000)
    proc.stdin.flush()
    deadline = time.time() + 10
    while not os.path.exists(os.path.join(root, 'h1', E, 'dump-incomplete')) and time.time() < deadline:
        time.sleep(0.05)
    result = receive(root, 'mv %s/dump-incomplete %s/dump.%s' % (D, D, STAMP))
    assert result.returncode == 1 and b'being written' in result.stderr
    proc.stdin.close()
    assert proc.wait(30) == 0
    assert receive(root, 'mv %s/dump-incomplete %s/dump.%s' % (D, D, STAMP)).returncode == 0


def test_dd_path_uses_dd_not_python(tmp_path, monkeypatch):
    calls = []

    def fake_spawn(path, argv, env, file_actions, setsigdef):
        calls.append((path, argv, env, file_actions, setsigdef))
        return os.getpid()

    monkeypatch.setattr(receive_module.os, 'posix_spawnp', fake_spawn)
    monkeypatch.setattr(receive_module.os, 'waitpid', lambda pid, flags: (pid, 0))
    fd = os.open(str(tmp_path / 'f'), os.O_WRONLY | os.O_CREAT)
    try:
        assert receive_module.Receiver.stream(fd, None) == (0, False)
    finally:
        os.close(fd)
    path, argv, _env, actions, sigdef = calls[0]
    assert path == 'dd' and argv == ['dd', 'bs=1M', 'iflag=fullblock', 'status=none']
    assert actions == [(os.POSIX_SPAWN_DUP2, fd, 1)] and signal.SIGPIPE in sigdef


def test_twenty_concurrent_receives_and_index(tmp_path):
    root = str(tmp_path / 'root')
    os.mkdir(root)
    db = str(tmp_path / 'index.db')
    dmesg = tmp_path / 'dmesg.txt'
    shutil.copy(os.path.join(os.path.dirname(__file__), 'fixtures', 'dmesg-sysrq-6.1.txt'), str(dmesg))
    payloads = {'host%02d' % n: ('2026112612%02d' % n, FLAT_HEADER + os.urandom(1024 * 1024 + n * 4099) + FLAT_END) for n in range(20)}
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(kdump_session, root, str(dmesg), data, host=host, tag=host, stamp=stamp)
                   for host, (stamp, data) in payloads.items()]
        indexer_runs = 0
        while not all(f.done() for f in futures):
            assert run('index', '--root', root, '--db', db).returncode == 0
            indexer_runs += 1
        for future in futures:
            future.result()
    assert run('index', '--root', root, '--db', db).returncode == 0
    conn = store.open_db(db)
    rows = conn.execute('SELECT host, stamp, state, path, dump_name, dump_bytes, signature FROM dumps').fetchall()
    assert len(rows) == 20 and indexer_runs >= 1
    for row in rows:
        stamp, data = payloads[row['host']]
        assert row['state'] == 'complete' and row['stamp'] == stamp and row['dump_bytes'] == len(data)
        with open(os.path.join(row['path'], row['dump_name']), 'rb') as handle:
            assert handle.read() == data
    assert len({row['signature'] for row in rows}) == 1


def test_receive_help():
    result = run('receive', '--help')
    assert result.returncode == 0 and b'SSH_ORIGINAL_COMMAND' in result.stdout


def test_connectivity_probe_is_mkdir_only_and_never_indexed(tmp_path):
    root = str(tmp_path / 'root')
    os.mkdir(root)
    probe = '/var/crash/t1-000000000000'
    assert receive(root, 'mkdir -p ' + probe).returncode == 0
    assert os.path.isdir(os.path.join(root, 'h1', 't1-000000000000'))
    refused = receive(root, 'dd of=%s/dump-incomplete' % probe, input_bytes=b'x' * 100)
    assert refused.returncode != 0 and b'connectivity probe' in refused.stderr
    assert os.listdir(os.path.join(root, 'h1', 't1-000000000000')) == []
    db = str(tmp_path / 'index.sqlite')
    assert run('index', '--root', root, '--db', db).returncode == 0
    assert run('list', '--db', db, '--json').stdout.strip() == b'[]'
