# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""receive: the forced command of every fleet host's key. Carries out only what kdump-tools sends, inside
ROOT/<host>/ (mkdir, the dump stream through dd, the completion rename; SFTP and scp live in their own modules)."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import stat
import sys

from kdump_collector import PROG
from kdump_collector.fsutil import (BUSY_MODE, DONE_MODE, O_CLOEXEC, Missing, Refused, lstat_at, open_dir, open_regular,
                                    open_root)
from kdump_collector.names import (COMPRESS_EXTS, ENTRY_RE, INDEX_PENDING, MAX_STAMP_AHEAD, MIB, NAME_RE, PROBE_STAMP,
                                   STAMP_RE, TRUNC_SUFFIX, now_text, stamp_ahead, stamp_time)
from kdump_collector.textout import safe

COMMAND_RE = re.compile(r'[A-Za-z0-9/._+=-]+(?: [A-Za-z0-9/._+=-]+)*\Z')
SFTP_SERVERS = (
    'internal-sftp', 'sftp-server', '/usr/lib/openssh/sftp-server', '/usr/libexec/openssh/sftp-server',
    '/usr/libexec/sftp-server', '/usr/lib/sftp-server', '/usr/lib/ssh/sftp-server',
)


def split_target(path, is_file):
    """Split an absolute client path P/<entry>[/<file>] into (prefix, entry, file)."""
    if not path.startswith('/'):
        raise Refused('path is not absolute: %s' % path)
    parts = [p for p in path.split('/') if p]
    if any(p in ('.', '..') for p in parts):
        raise Refused('path contains . or .. components: %s' % path)
    need = 2 if is_file else 1
    if len(parts) < need:
        raise Refused('path too short: %s' % path)
    if is_file:
        return tuple(parts[:-2]), parts[-2], parts[-1]
    return tuple(parts[:-1]), parts[-1], None


class Receiver:
    """Carries out the few requests kdump-tools sends over SSH, inside root/<host>/ only."""

    def __init__(self, args):
        self.root = args.root
        self.host = args.host
        self.tags = list(args.tag or [args.host])
        self.min_free = args.min_free
        self.max_host_bytes = args.max_host_bytes
        self.command = ''
        for name in [self.host] + self.tags:
            if not NAME_RE.match(name):
                raise Refused('invalid host or tag name in configuration: %r' % name)

    # -- audit -------------------------------------------------------------------------------
    def log(self, verdict, detail):
        line = safe('%s host=%s pid=%d %s %s cmd=%s' % (
            now_text(), self.host, os.getpid(), verdict, detail, json.dumps(self.command[:300]))) + '\n'
        try:
            root_fd = open_root(self.root)
            try:
                log_fd = open_dir(root_fd, '.log', create=True)
                try:
                    fd = open_regular(log_fd, 'receive.log', os.O_WRONLY | os.O_APPEND | os.O_CREAT)
                    try:
                        os.write(fd, line.encode('utf-8'))
                    finally:
                        os.close(fd)
                    os.close(open_regular(log_fd, INDEX_PENDING, os.O_WRONLY | os.O_CREAT))
                finally:
                    os.close(log_fd)
            finally:
                os.close(root_fd)
        except (OSError, Refused):
            sys.stderr.write('%s: log: %s' % (PROG, line))

    # -- filesystem --------------------------------------------------------------------------
    def entry_of(self, name):
        match = ENTRY_RE.match(name)
        for tag in self.tags:
            if name.startswith(tag + '-') and STAMP_RE.match(name[len(tag) + 1:]):
                stamp = name[len(tag) + 1:]
                if stamp == PROBE_STAMP:
                    return stamp
                if stamp_time(stamp) is None:
                    raise Refused('invalid stamp in %s' % name)
                if stamp_ahead(stamp):
                    raise Refused('stamp %s is more than %s ahead of the collector clock (%s)' % (
                        stamp, MAX_STAMP_AHEAD, now_text()))
                return stamp
        if match:
            raise Refused('tag %s is not allowed for host %s' % (match.group('tag'), self.host))
        raise Refused('not a <tag>-<YYYYMMDDHHMM> directory: %s' % name)

    def open_entry(self, entry, create):
        """Return (root_fd, host_fd, entry_fd) for root/<host>/<entry>; caller closes them."""
        try:
            root_fd = open_root(self.root)
        except OSError as exc:
            raise Refused('collector root %s unusable: %s' % (self.root, exc.strerror)) from exc
        fds = [root_fd]
        try:
            fds.append(open_dir(root_fd, self.host, create))
            fds.append(open_dir(fds[1], entry, create))
        except FileNotFoundError as exc:
            for fd in fds:
                os.close(fd)
            raise Missing('directory %s does not exist' % entry) from exc
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        return fds

    def host_usage(self, host_fd):
        total = 0
        for entry in os.listdir(host_fd):
            st = lstat_at(host_fd, entry)
            if st is None or not stat.S_ISDIR(st.st_mode):
                continue
            try:
                sub = open_dir(host_fd, entry)
            except (OSError, Refused):
                continue
            try:
                for name in os.listdir(sub):
                    fst = lstat_at(sub, name)
                    if fst is not None and stat.S_ISREG(fst.st_mode):
                        total += fst.st_size
            finally:
                os.close(sub)
        return total

    def upload_limit(self, root_fd, host_fd):
        """Bytes this upload may still write (None: unlimited); Refused when a floor or cap is already hit."""
        limits = []
        if self.min_free is not None:
            vfs = os.fstatvfs(root_fd)
            free = vfs.f_bavail * vfs.f_frsize
            if free < self.min_free:
                raise Refused('free space %d below --min-free %d' % (free, self.min_free))
            limits.append(free - self.min_free)
        if self.max_host_bytes is not None:
            used = self.host_usage(host_fd)
            if used >= self.max_host_bytes:
                raise Refused('host directory uses %d bytes, --max-host-bytes is %d' % (used, self.max_host_bytes))
            limits.append(self.max_host_bytes - used)
        return min(limits) if limits else None

    @staticmethod
    def has_completed(entry_fd, stamp):
        for name in os.listdir(entry_fd):
            if name.startswith('dump.' + stamp) or name == 'vmcore.' + stamp:
                return name
        return None

    @staticmethod
    def create_file(entry_fd, name):
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | O_CLOEXEC, BUSY_MODE,
                         dir_fd=entry_fd)
        except FileExistsError as exc:
            raise Refused('%s already exists, never overwritten' % name) from exc
        os.fchmod(fd, BUSY_MODE)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    @staticmethod
    def mark_truncated(entry_fd, name):
        os.close(open_regular(entry_fd, name + TRUNC_SUFFIX, os.O_WRONLY | os.O_CREAT))

    # -- requests ----------------------------------------------------------------------------
    def run(self, command):
        self.command = command
        if not command:
            raise Refused('no SSH_ORIGINAL_COMMAND (interactive login refused)')
        if not COMMAND_RE.match(command):
            raise Refused('characters outside [A-Za-z0-9/._+=-] or irregular spacing')
        words = command.split(' ')
        if words[0] in SFTP_SERVERS:
            # sshd passes its "Subsystem sftp" line, options (-l INFO, -f AUTHPRIV) included; they do not matter here.
            self.log('ACCEPT', 'sftp session')
            from kdump_collector.sftp import SftpServer  # pylint: disable=import-outside-toplevel
            return SftpServer(self).serve()
        if words[0] == 'mkdir' and len(words) == 3 and words[1] == '-p':
            return self.do_mkdir(words[2])
        if words[0] == 'dd' and len(words) == 2 and words[1].startswith('of='):
            return self.do_dd(words[1][3:])
        if words[0] == 'mv' and len(words) == 3:
            return self.do_mv(words[1], words[2])
        if words[:2] == ['scp', '-t'] and len(words) == 3:
            from kdump_collector.scp import ScpSink  # pylint: disable=import-outside-toplevel
            return ScpSink(self).serve(words[2])
        raise Refused('command not allowed: %s' % words[0])

    def do_mkdir(self, path):
        entry = split_target(path, False)[1]
        self.entry_of(entry)
        for fd in self.open_entry(entry, create=True):
            os.close(fd)
        self.log('ACCEPT', 'mkdir %s/%s' % (self.host, entry))
        return 0

    def check_upload_name(self, path, allowed):
        """Validate P/<tag>-<stamp>/<name>; allowed holds name templates with {stamp}."""
        entry, name = split_target(path, True)[1:]
        stamp = self.entry_of(entry)
        if stamp == PROBE_STAMP:
            raise Refused('%s is the connectivity probe, not a dump' % entry)
        if name not in [template.format(stamp=stamp) for template in allowed]:
            raise Refused('file name not allowed here: %s' % name)
        return entry, stamp, name

    def do_dd(self, path):
        entry, stamp, name = self.check_upload_name(
            path, ['dump-incomplete'] + ['dump-incomplete' + ext for ext in COMPRESS_EXTS])
        root_fd, host_fd, entry_fd = self.open_entry(entry, create=True)
        try:
            done = self.has_completed(entry_fd, stamp)
            if done:
                raise Refused('%s already holds completed %s' % (entry, done))
            limit = self.upload_limit(root_fd, host_fd)
            count = None
            if limit is not None:
                count = limit // MIB
                if count < 1:
                    raise Refused('less than 1 MiB of quota or free space left')
            fd = self.create_file(entry_fd, name)
            try:
                rc, truncated = self.stream(fd, count)
                if truncated:
                    self.mark_truncated(entry_fd, name)
                    raise Refused('upload truncated at %d MiB (quota or free-space floor), %s stays incomplete' % (count, name))
                if rc != 0:
                    raise Refused('dd exited %d, %s stays incomplete' % (rc, name))
                os.fchmod(fd, DONE_MODE)
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
        finally:
            for fd in (entry_fd, host_fd, root_fd):
                os.close(fd)
        self.log('ACCEPT', 'dd %s/%s/%s bytes=%d' % (self.host, entry, name, size))
        return 0

    @staticmethod
    def stream(fd, count):
        """Copy stdin to fd with dd (no Python loop in the data path); return (rc, truncated)."""
        argv = ['dd', 'bs=1M', 'iflag=fullblock', 'status=none']
        if count is not None:
            argv.append('count=%d' % count)
        # posix_spawn instead of subprocess: every SSH request pays for the imports, the stream does not wait for them.
        # Python ignores SIGPIPE and SIGXFSZ; dd gets the default dispositions back, as subprocess would give it.
        pid = os.posix_spawnp('dd', argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, fd, 1)],
                              setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
        status = os.waitpid(pid, 0)[1]
        rc = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
        truncated = False
        if rc == 0 and count is not None and os.fstat(fd).st_size >= count * MIB:
            truncated = bool(os.read(0, 1))
        return rc, truncated

    def do_mv(self, src, dst):
        src_prefix, src_entry, src_name = split_target(src, True)
        dst_prefix, dst_entry, dst_name = split_target(dst, True)
        if (src_prefix, src_entry) != (dst_prefix, dst_entry):
            raise Refused('mv must stay inside one dump directory')
        stamp = self.entry_of(src_entry)
        pairs = {'vmcore-incomplete': 'vmcore.' + stamp, 'dump-incomplete': 'dump.' + stamp}
        for ext in COMPRESS_EXTS:
            pairs['dump-incomplete' + ext] = 'dump.' + stamp + ext
        if pairs.get(src_name) != dst_name:
            raise Refused('mv %s -> %s is not a kdump-tools completion rename' % (src_name, dst_name))
        root_fd, host_fd, entry_fd = self.open_entry(src_entry, create=False)
        try:
            self.complete(entry_fd, src_name, dst_name)
        finally:
            for fd in (entry_fd, host_fd, root_fd):
                os.close(fd)
        self.log('ACCEPT', 'mv %s/%s/%s -> %s' % (self.host, src_entry, src_name, dst_name))
        return 0

    @staticmethod
    def complete(entry_fd, src_name, dst_name):
        st = lstat_at(entry_fd, src_name)
        if st is None or not stat.S_ISREG(st.st_mode):
            raise Refused('%s is missing or not a regular file' % src_name)
        if lstat_at(entry_fd, src_name + TRUNC_SUFFIX) is not None:
            raise Refused('%s was truncated, it never becomes a completed dump' % src_name)
        if not st.st_mode & stat.S_IRUSR:
            raise Refused('%s is still being written or its upload failed' % src_name)
        fd = open_regular(entry_fd, src_name)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                raise Refused('%s is still being written' % src_name) from exc
            try:
                # link() never replaces an existing name, unlike rename().
                os.link(src_name, dst_name, src_dir_fd=entry_fd, dst_dir_fd=entry_fd, follow_symlinks=False)
            except FileExistsError as exc:
                raise Refused('%s already exists, never overwritten' % dst_name) from exc
            os.unlink(src_name, dir_fd=entry_fd)
        finally:
            os.close(fd)


def cmd_receive(args):
    command = os.environ.get('SSH_ORIGINAL_COMMAND', '')
    receiver = None
    try:
        receiver = Receiver(args)
        return receiver.run(command)
    except Refused as exc:
        if receiver is not None:
            receiver.log('REFUSE', str(exc))
        sys.stderr.write('%s: refused: %s\n' % (PROG, safe(exc)))
        return 1
    except OSError as exc:
        if receiver is not None:
            receiver.log('ERROR', str(exc))
        sys.stderr.write('%s: refused: %s\n' % (PROG, safe(exc.strerror or exc)))
        return 1
