# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SFTP v3 subset receive serves (scp of OpenSSH >= 9 speaks SFTP): create and write one new file, nothing else."""

from __future__ import annotations

import os
import struct

from kdump_collector.fsutil import DONE_MODE, Missing, Refused, lstat_at
from kdump_collector.names import MIB
from kdump_collector.receive import COMMAND_RE

# SFTP v3 (draft-ietf-secsh-filexfer-02), only what scp/sftp need to upload one new file.
FX_OK, FX_NO_SUCH_FILE, FX_PERMISSION_DENIED, FX_FAILURE, FX_BAD_MESSAGE, FX_OP_UNSUPPORTED = 0, 2, 3, 4, 5, 8
SSH_FXP = {
    'INIT': 1, 'VERSION': 2, 'OPEN': 3, 'CLOSE': 4, 'READ': 5, 'WRITE': 6, 'LSTAT': 7, 'FSTAT': 8, 'SETSTAT': 9,
    'FSETSTAT': 10, 'OPENDIR': 11, 'READDIR': 12, 'REMOVE': 13, 'MKDIR': 14, 'RMDIR': 15, 'REALPATH': 16, 'STAT': 17,
    'RENAME': 18, 'READLINK': 19, 'SYMLINK': 20, 'STATUS': 101, 'HANDLE': 102, 'DATA': 103, 'NAME': 104, 'ATTRS': 105,
    'EXTENDED': 200,
}
FXP_NAMES = {v: k for k, v in SSH_FXP.items()}
FXF_READ, FXF_WRITE, FXF_APPEND, FXF_CREAT = 1, 2, 4, 8
ATTR_SIZE, ATTR_UIDGID, ATTR_PERMISSIONS, ATTR_ACMODTIME, ATTR_EXTENDED = 1, 2, 4, 8, 0x80000000
MAX_PACKET = 512 * 1024
# Clients pipeline writes, so offsets may run ahead a little; far ahead would only make huge sparse files.
MAX_GAP = 64 * MIB
DENIED_OPS = ('READ', 'OPENDIR', 'READDIR', 'REMOVE', 'MKDIR', 'RMDIR', 'RENAME', 'READLINK', 'SYMLINK')


class Packet:
    """Reader over one SFTP packet body."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, size):
        if self.pos + size > len(self.data):
            raise ValueError('short packet')
        chunk = self.data[self.pos:self.pos + size]
        self.pos += size
        return chunk

    def u32(self):
        return struct.unpack('>I', self.take(4))[0]

    def u64(self):
        return struct.unpack('>Q', self.take(8))[0]

    def string(self):
        return self.take(self.u32())

    def attrs(self):
        flags = self.u32()
        attrs = {}
        if flags & ATTR_SIZE:
            attrs['size'] = self.u64()
        if flags & ATTR_UIDGID:
            attrs['uidgid'] = (self.u32(), self.u32())
        if flags & ATTR_PERMISSIONS:
            attrs['mode'] = self.u32()
        if flags & ATTR_ACMODTIME:
            attrs['times'] = (self.u32(), self.u32())
        if flags & ATTR_EXTENDED:
            for _index in range(self.u32()):
                self.string()
                self.string()
        return attrs


def sftp_string(value):
    if isinstance(value, str):
        value = value.encode('utf-8', 'surrogateescape')
    return struct.pack('>I', len(value)) + value


def sftp_attrs(st):
    return struct.pack('>IQIII', ATTR_SIZE | ATTR_PERMISSIONS | ATTR_ACMODTIME, st.st_size, st.st_mode,
                       int(st.st_atime), int(st.st_mtime))


class SftpServer:
    """Minimal SFTP v3 server on stdin/stdout: create and write dmesg.<stamp> or vmcore-incomplete, nothing else."""

    def __init__(self, receiver):
        self.rx = receiver
        self.handles = {}
        self.next_handle = 0
        self.refusals = 0

    @staticmethod
    def read_exact(size):
        chunks = []
        while size:
            chunk = os.read(0, size)
            if not chunk:
                return None
            chunks.append(chunk)
            size -= len(chunk)
        return b''.join(chunks)

    @staticmethod
    def send(ptype, body):
        data = struct.pack('>IB', len(body) + 1, ptype) + body
        while data:
            data = data[os.write(1, data):]

    def status(self, req_id, code, message):
        self.send(SSH_FXP['STATUS'], struct.pack('>II', req_id, code) + sftp_string(message) + sftp_string(''))

    def deny(self, req_id, op, detail, code=FX_PERMISSION_DENIED):
        self.refusals += 1
        self.rx.log('REFUSE', 'sftp %s %s' % (op, detail))
        self.status(req_id, code, 'kdump-collector: %s refused: %s' % (op, detail))

    def serve(self):
        head = self.read_exact(4)
        if head is None:
            return 0
        try:
            while head is not None:
                length = struct.unpack('>I', head)[0]
                if length < 1 or length > MAX_PACKET:
                    raise Refused('sftp packet length %d out of range' % length)
                body = self.read_exact(length)
                if body is None:
                    break
                self.dispatch(body[0], Packet(body[1:]))
                head = self.read_exact(4)
        finally:
            self.close_all()
        return 0 if not self.refusals else 1

    def close_all(self):
        for handle in self.handles.values():
            os.close(handle['fd'])
            os.close(handle['dir_fd'])
            self.rx.log('ABORT', 'sftp session ended with %s open after %d bytes, left incomplete' % (
                handle['name'], handle['written']))
        self.handles.clear()

    def dispatch(self, ptype, pkt):
        if ptype == SSH_FXP['INIT']:
            self.send(SSH_FXP['VERSION'], struct.pack('>I', 3))
            return
        req_id = pkt.u32()
        op = FXP_NAMES.get(ptype, str(ptype))
        try:
            handler = getattr(self, 'op_' + op.lower(), None)
            if handler is not None:
                handler(req_id, pkt)
            elif op in DENIED_OPS:
                self.deny(req_id, op, 'only uploads of new files are allowed')
            else:
                self.deny(req_id, op, 'unsupported', FX_OP_UNSUPPORTED)
        except Refused as exc:
            self.deny(req_id, op, str(exc))
        except (ValueError, struct.error):
            self.deny(req_id, op, 'malformed packet', FX_BAD_MESSAGE)
        except OSError as exc:
            self.deny(req_id, op, exc.strerror or str(exc), FX_FAILURE)

    def upload_target(self, raw):
        path = raw.decode('utf-8', 'strict')
        if not COMMAND_RE.match(path):
            raise Refused('path has characters outside [A-Za-z0-9/._+=-]')
        return self.rx.check_upload_name(path, ('dmesg.{stamp}', 'vmcore-incomplete'))

    def op_realpath(self, req_id, pkt):
        path = pkt.string().decode('utf-8', 'replace')
        parts = [p for p in path.split('/') if p not in ('', '.')]
        if '..' in parts:
            raise Refused('.. in path')
        name = '/' + '/'.join(parts)
        self.send(SSH_FXP['NAME'], struct.pack('>II', req_id, 1) + sftp_string(name) + sftp_string(name)
                  + struct.pack('>I', 0))

    def op_stat(self, req_id, pkt):
        """scp asks whether its target exists (a directory?) before it opens it: only "no" is ever answered."""
        entry, _stamp, name = self.upload_target(pkt.string())
        try:
            fds = self.rx.open_entry(entry, create=False)
        except Missing:
            fds = []
        try:
            if fds and lstat_at(fds[2], name) is not None:
                raise Refused('%s exists; nothing is ever read or overwritten' % name)
        finally:
            for fd in fds:
                os.close(fd)
        self.status(req_id, FX_NO_SUCH_FILE, 'No such file')

    op_lstat = op_stat

    def handle_of(self, pkt):
        key = pkt.string()
        if key not in self.handles:
            raise Refused('unknown handle')
        return self.handles[key]

    def op_open(self, req_id, pkt):
        raw = pkt.string()
        pflags = pkt.u32()
        attrs = pkt.attrs()
        if pflags & (FXF_READ | FXF_APPEND) or not pflags & FXF_WRITE or not pflags & FXF_CREAT:
            raise Refused('open flags 0x%x: only WRITE|CREAT[|TRUNC|EXCL] of a new file' % pflags)
        entry, stamp, name = self.upload_target(raw)
        root_fd, host_fd, entry_fd = self.rx.open_entry(entry, create=True)
        try:
            done = self.rx.has_completed(entry_fd, stamp)
            if name == 'vmcore-incomplete' and done:
                raise Refused('%s already holds completed %s' % (entry, done))
            limit = self.rx.upload_limit(root_fd, host_fd)
            fd = self.rx.create_file(entry_fd, name)
        except BaseException:
            os.close(entry_fd)
            raise
        finally:
            os.close(host_fd)
            os.close(root_fd)
        key = str(self.next_handle).encode()
        self.next_handle += 1
        self.handles[key] = {'fd': fd, 'dir_fd': entry_fd, 'entry': entry, 'name': name, 'limit': limit,
                             'written': 0, 'end': 0, 'failed': False, 'mode': attrs.get('mode', DONE_MODE)}
        self.rx.log('ACCEPT', 'sftp open %s/%s/%s' % (self.rx.host, entry, name))
        self.send(SSH_FXP['HANDLE'], struct.pack('>I', req_id) + sftp_string(key))

    def op_write(self, req_id, pkt):
        handle = self.handle_of(pkt)
        offset = pkt.u64()
        data = pkt.string()
        if offset > handle['end'] + MAX_GAP:
            raise Refused('write at offset %d far beyond the data written so far' % offset)
        if handle['limit'] is not None and offset + len(data) > handle['limit']:
            if not handle['failed']:
                self.rx.mark_truncated(handle['dir_fd'], handle['name'])
            handle['failed'] = True
            raise Refused('write beyond quota or free-space floor, %s stays incomplete' % handle['name'])
        os.pwrite(handle['fd'], data, offset)
        handle['written'] += len(data)
        handle['end'] = max(handle['end'], offset + len(data))
        self.status(req_id, FX_OK, 'OK')

    def op_fstat(self, req_id, pkt):
        handle = self.handle_of(pkt)
        st = os.fstat(handle['fd'])
        self.send(SSH_FXP['ATTRS'], struct.pack('>I', req_id) + sftp_attrs(st))

    def op_fsetstat(self, req_id, pkt):
        handle = self.handle_of(pkt)
        attrs = pkt.attrs()
        if 'size' in attrs and attrs['size'] <= os.fstat(handle['fd']).st_size:
            os.ftruncate(handle['fd'], attrs['size'])
        if 'times' in attrs:
            os.utime(handle['fd'], attrs['times'])
        if 'mode' in attrs:
            handle['mode'] = attrs['mode']
        self.status(req_id, FX_OK, 'OK')

    def op_setstat(self, req_id, pkt):
        entry, _stamp, name = self.upload_target(pkt.string())
        for key, handle in self.handles.items():
            if (handle['entry'], handle['name']) == (entry, name):
                self.op_fsetstat(req_id, Packet(sftp_string(key) + pkt.data[pkt.pos:]))
                return
        raise Refused('setstat only on a file this session is writing')

    def op_close(self, req_id, pkt):
        key = pkt.string()
        handle = self.handles.get(key)
        if handle is None:
            raise Refused('unknown handle')
        if not handle['failed']:
            # Group/other write never; owner read marks the upload finished.
            os.fchmod(handle['fd'], (handle['mode'] & 0o640) | 0o600)
        os.close(handle['fd'])
        os.close(handle['dir_fd'])
        del self.handles[key]
        self.rx.log('ACCEPT' if not handle['failed'] else 'REFUSE', 'sftp close %s/%s/%s bytes=%d' % (
            self.rx.host, handle['entry'], handle['name'], handle['written']))
        self.status(req_id, FX_OK, 'OK')
