# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The configuration file the collector role writes: what every subcommand takes by default, and the
account the subcommands run as. Explicit options override it; a missing default file means no defaults."""

from __future__ import annotations

import json
import os
import stat

from kdump_collector import INT64_MAX
from kdump_collector.fsutil import O_CLOEXEC
from kdump_collector.names import NAME_RE

DEFAULT_PATH = '/etc/fleet-kdump/collector.json'
MAX_BYTES = 64 * 1024

# key -> (kind, description). kind: path, paths, name, bytes (integer >= 0 or null), count (integer >= 1 or null),
# or a dict of such keys. The man page lists these, so they are described here and nowhere else.
KEYS = {
    'program': ('path', 'the launcher that runs this program (read by the fleet.kdump modules, not by the program)'),
    'account': ('name', 'the dump account: run as root, the subcommands that read or write the collector\'s files '
                        'become this account first'),
    'root': ('path', 'collector root: ROOT/<host>/<tag>-<stamp>/ (receive, index, prune, crash-status --index)'),
    'db': ('path', 'the SQLite index'),
    'nfs_dirs': ('paths', 'NFS export directories holding <tag>-<stamp>/ (index)'),
    'tag_map': ('path', 'JSON object tag -> host for dumps not under a host directory (index)'),
    'known_issues': ('path', 'JSON list of known issues ({title or pattern, url, note}) the index keeps (index)'),
    'report_html': ('path', 'output of report'),
    'metrics_textfile': ('path', 'output of metrics'),
    'receive': ({
        'min_free_bytes': ('bytes', 'receive --min-free'),
        'max_host_bytes': ('bytes', 'receive --max-host-bytes'),
    }, 'limits of receive (null: none)'),
    'prune': ({
        'keep_per_signature': ('count', 'prune --keep-per-signature'),
        'max_total_bytes': ('bytes', 'prune --max-total-bytes'),
        'min_free_bytes': ('bytes', 'prune --min-free-bytes'),
    }, 'retention applied by prune (null: criterion off)'),
}


class ConfigError(Exception):
    """The configuration file is unusable; the message names the file, the key and the fix."""


def _check(key, kind, value):
    """value, checked against kind ('item': a path inside a list, never null)."""
    if value is None and kind != 'item':
        return None
    if kind in ('bytes', 'count'):
        low = 1 if kind == 'count' else 0
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= INT64_MAX:
            raise ConfigError('%s must be an integer from %d to 2**63-1 or null, got %r' % (key, low, value))
        return value
    if kind == 'name':
        if not isinstance(value, str) or not NAME_RE.match(value):
            raise ConfigError('%s must be an account name ([A-Za-z0-9][A-Za-z0-9._-]*), got %r' % (key, value))
        return value
    if kind == 'paths':
        if not isinstance(value, list):
            raise ConfigError('%s must be a list of absolute paths, got %r' % (key, value))
        return [_check('%s[%d]' % (key, idx), 'item', item) for idx, item in enumerate(value)]
    if not isinstance(value, str) or not value.startswith('/') or '\0' in value:
        raise ConfigError('%s must be an absolute path, got %r' % (key, value))
    return value


def validate(data, keys=None, prefix=''):
    """The settings of a parsed file as a flat dict ('receive.min_free_bytes'...), every key known and typed."""
    keys = KEYS if keys is None else keys
    if not isinstance(data, dict):
        raise ConfigError('%s must be a JSON object' % (prefix.rstrip('.') or 'the file'))
    unknown = sorted(set(data) - set(keys))
    if unknown:
        raise ConfigError('unknown key %s%s (known: %s)' % (prefix, unknown[0], ', '.join(sorted(keys))))
    flat = {}
    for key, value in data.items():
        kind = keys[key][0]
        if isinstance(kind, dict):
            flat.update(validate({} if value is None else value, kind, prefix + key + '.'))
        else:
            flat[prefix + key] = _check(prefix + key, kind, value)
    return flat


def load(path=None):
    """Settings of the file at path (DEFAULT_PATH when None; then a missing file means no settings).

    The file must be a regular file that only root or the caller can write: it names the directories and the
    account the program works with."""
    explicit = path is not None
    path = path if explicit else DEFAULT_PATH
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | O_CLOEXEC)
    except FileNotFoundError:
        if explicit:
            raise ConfigError('%s does not exist' % path) from None
        return {}
    except OSError as exc:
        raise ConfigError('%s: %s' % (path, exc.strerror)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError('%s is not a regular file' % path)
        if st.st_uid not in (0, os.geteuid()) or st.st_mode & 0o022:
            raise ConfigError('%s may be written by another account than root (owner uid %d, mode %04o): '
                              'make it root-owned and not group- or world-writable' % (path, st.st_uid, st.st_mode & 0o7777))
        data = os.read(fd, MAX_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise ConfigError('%s is larger than %d bytes' % (path, MAX_BYTES))
    try:
        parsed = json.loads(data.decode('utf-8'))
    except ValueError as exc:
        raise ConfigError('%s is not JSON: %s' % (path, exc)) from None
    try:
        return validate(parsed)
    except ConfigError as exc:
        raise ConfigError('%s: %s' % (path, exc)) from None


def describe(keys=None, prefix=''):
    """(key, description) of every setting, for the man page."""
    out = []
    for key, (kind, text) in (KEYS if keys is None else keys).items():
        if isinstance(kind, dict):
            out += describe(kind, prefix + key + '.')
        else:
            out.append((prefix + key, text))
    return out
