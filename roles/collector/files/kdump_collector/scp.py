# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The receiving end of the legacy scp protocol (`scp -t FILE`, OpenSSH < 9 clients): one new file, nothing else."""

from __future__ import annotations

import os
import re

from kdump_collector.fsutil import Refused
from kdump_collector.names import MIB


class ScpSink:
    """Receiving end of the legacy scp protocol (`scp -t FILE`, OpenSSH < 9 clients): one new file, nothing else."""

    def __init__(self, receiver):
        self.rx = receiver

    @staticmethod
    def reply(code, message=''):
        data = bytes([code]) + (('scp: %s\n' % message).encode() if code else b'')
        while data:
            data = data[os.write(1, data):]

    @staticmethod
    def read_line():
        line = b''
        while not line.endswith(b'\n'):
            char = os.read(0, 1)
            if not char or len(line) > 1024:
                return None
            line += char
        return line.decode('utf-8', 'replace')

    def serve(self, path):
        entry, stamp, name = self.rx.check_upload_name(path, ('dmesg.{stamp}', 'vmcore-incomplete'))
        root_fd, host_fd, entry_fd = self.rx.open_entry(entry, create=True)
        try:
            done = self.rx.has_completed(entry_fd, stamp)
            if name == 'vmcore-incomplete' and done:
                raise Refused('%s already holds completed %s' % (entry, done))
            limit = self.rx.upload_limit(root_fd, host_fd)
            self.reply(0)
            header = self.read_line()
            match = re.match(r'C([0-7]{4}) (\d+) [^/]+\n\Z', header or '')
            if not match:
                raise Refused('scp: only a single file upload is allowed, got %r' % (header or '')[:40])
            size = int(match.group(2))
            if limit is not None and size > limit:
                raise Refused('%s of %d bytes exceeds quota or free-space floor' % (name, size))
            fd = self.rx.create_file(entry_fd, name)
            try:
                self.reply(0)
                self.copy(fd, size, name)
                os.fchmod(fd, (int(match.group(1), 8) & 0o640) | 0o600)
            finally:
                os.close(fd)
            self.reply(0)
        except Refused as exc:
            self.reply(2, str(exc))
            raise
        finally:
            for fd in (entry_fd, host_fd, root_fd):
                os.close(fd)
        self.rx.log('ACCEPT', 'scp %s/%s/%s bytes=%d' % (self.rx.host, entry, name, size))
        return 0

    @staticmethod
    def copy(fd, size, name):
        left = size
        while left:
            chunk = os.read(0, min(left, MIB))
            if not chunk:
                raise Refused('connection closed after %d of %d bytes, %s stays incomplete' % (size - left, size, name))
            while chunk:
                written = os.write(fd, chunk)
                chunk = chunk[written:]
                left -= written
        if os.read(0, 1) != b'\0':
            raise Refused('scp source reported an error, %s stays incomplete' % name)
