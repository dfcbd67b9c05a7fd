# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Typed validation of the variables of /etc/default/kdump-tools (kdump-tools 1.8.1 to 1.10.x).

Every validator takes the value as a string and returns None when it is acceptable, or a sentence
describing the allowed form. The forms are stricter than what the shell would accept because
kdump-config uses most values unquoted (field splitting, globbing) or through ``eval``. Every pattern
matches the whole value (fullmatch): `$` would also match before a final newline.
"""

from __future__ import annotations

import ipaddress
import re

KEY_NAME_RE = re.compile(r'[A-Z_][A-Z0-9_]*')

# Names that change how the shell sourcing the file, the dynamic linker, the C library or the programs
# kdump-config starts behave. The file is sourced by root's shell and systemd exports every key of it to the
# kdump-tools services (EnvironmentFile=), so such a key is written only when the playbook lists it.
ENVIRONMENT_KEYS = frozenset((
    # POSIX sh, dash and bash
    'PATH', 'IFS', 'ENV', 'BASH_ENV', 'CDPATH', 'GLOBIGNORE', 'SHELLOPTS', 'BASHOPTS', 'PS1', 'PS2', 'PS3', 'PS4',
    'PROMPT_COMMAND', 'HOME', 'PWD', 'OLDPWD', 'SHELL', 'SHLVL', 'OPTIND', 'OPTARG', 'OPTERR', 'PPID', 'LINENO',
    'FUNCNEST', 'POSIXLY_CORRECT', 'EXECIGNORE', 'INPUTRC', 'TMOUT', 'FCEDIT', 'MAIL', 'MAILCHECK', 'MAILPATH',
    'HISTFILE', 'HISTFILESIZE', 'HISTSIZE', 'HISTCONTROL', 'HISTIGNORE', 'HISTTIMEFORMAT', 'HISTCMD', 'RANDOM',
    'SECONDS', 'UID', 'EUID', 'GROUPS', 'HOSTNAME', 'TERM',
    # the dynamic linker and the C library
    'GCONV_PATH', 'GLIBC_TUNABLES', 'HOSTALIASES', 'LOCALDOMAIN', 'LOCPATH', 'NLSPATH', 'RES_OPTIONS',
    'RESOLV_HOST_CONF', 'TMPDIR', 'TZ', 'TZDIR', 'LANG', 'LANGUAGE',
    # ssh and scp (the dump target), compressors
    'SSH_ASKPASS', 'SSH_ASKPASS_REQUIRE', 'SSH_AUTH_SOCK', 'DISPLAY', 'XZ_OPT', 'XZ_DEFAULTS', 'GZIP', 'BZIP', 'BZIP2',
))
ENVIRONMENT_PREFIXES = ('LD_', 'LC_', 'BASH_', 'MALLOC_')

# Keys read when the capture kernel is loaded: changing them needs `kdump-config reload`.
# Every other key is read from the root filesystem at dump time.
LOAD_TIME_KEYS = frozenset((
    'USE_KDUMP', 'KDUMP_KERNEL', 'KDUMP_INITRD', 'KDUMP_CMDLINE', 'KDUMP_CMDLINE_APPEND',
    'KDUMP_KEXEC_ARGS', 'KDUMP_CONFIG',
))

# Values never echoed back in results or diffs.
SECRET_KEYS = frozenset(('FTP_PASSWORD',))

DUMP_UNIT_WORD = 'systemd.unit=kdump-tools-dump.service'

_SAFE_PATH_RE = re.compile(r'/[A-Za-z0-9._/+-]*')
_SAFE_WORD = r'[A-Za-z0-9._/+=:,@%-]+'
_SAFE_WORD_RE = re.compile(_SAFE_WORD)
_OPTION_WORDS_RE = re.compile(r'%s( +%s)*' % (_SAFE_WORD, _SAFE_WORD))
_CMDLINE_FORBIDDEN = set('"`$\\;|&<>()')
_USER_RE = re.compile(r'[a-z_][a-z0-9_.-]*')
_LABEL_RE = re.compile(r'[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?')
_REMOTE_PATH_RE = re.compile(r'[A-Za-z0-9._/+-]+')
_FTP_USER_RE = re.compile(r'[A-Za-z0-9._@+-]+')
_DIGITS_RE = re.compile(r'[0-9]+')
_IPV4_CHARS_RE = re.compile(r'[0-9.]+')
_COMPRESSIONS = ('bzip2', 'gzip', 'lz4', 'xz')


def printable(value):
    """True when the value has no newline, tab or other control character."""
    return all(ch.isprintable() for ch in value)


def _one_of(*choices):
    def check(value):
        if value in choices:
            return None
        return 'one of %s' % ', '.join(choices)
    return check


def environment_key(key):
    """True for a name that changes how the shell, the linker or the programs behave (see ENVIRONMENT_KEYS)."""
    return key in ENVIRONMENT_KEYS or key.startswith(ENVIRONMENT_PREFIXES)


def _abs_path(value):
    if _SAFE_PATH_RE.fullmatch(value):
        return None
    return ('an absolute path made only of the characters A-Z a-z 0-9 . _ / + - '
            '(kdump-config uses it unquoted, also in remote commands)')


def _int_at_least(minimum, maximum=None):
    def check(value):
        if _DIGITS_RE.fullmatch(value) and int(value) >= minimum and (maximum is None or int(value) <= maximum):
            return None
        if maximum is None:
            return 'a decimal integer >= %d' % minimum
        return 'a decimal integer from %d to %d' % (minimum, maximum)
    return check


def _is_host(host):
    if host.startswith('[') and host.endswith(']'):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    if _IPV4_CHARS_RE.fullmatch(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    return len(host) <= 253 and all(_LABEL_RE.fullmatch(label) for label in host.split('.'))


def _ssh(value):
    user, sep, host = value.partition('@')
    if sep and _USER_RE.fullmatch(user) and _is_host(host):
        return None
    return 'user@host, where user matches [a-z_][a-z0-9_.-]* and host is a host name, an IPv4 address or an [IPv6] address'


def _split_host(value):
    """Split 'host:rest' where host may be an [IPv6] literal; returns (host, has_rest, rest)."""
    if value.startswith('['):
        end = value.find(']')
        if end < 0:
            return value, False, ''
        host, rest = value[:end + 1], value[end + 1:]
        return host, rest.startswith(':'), rest[1:]
    host, sep, rest = value.partition(':')
    return host, bool(sep), rest


def _nfs(value):
    host, has_path, path = _split_host(value)
    if has_path and _is_host(host) and _SAFE_PATH_RE.fullmatch(path):
        return None
    return 'host:/absolute/export/path (host name, IPv4 or [IPv6]; path characters A-Z a-z 0-9 . _ / + -)'


def _ftp(value):
    host, has_path, path = _split_host(value)
    if _is_host(host) and (not has_path or _REMOTE_PATH_RE.fullmatch(path)):
        return None
    return 'host[:path] (host name, IPv4 or [IPv6]; path characters A-Z a-z 0-9 . _ / + -)'


def _ftp_user(value):
    if _FTP_USER_RE.fullmatch(value):
        return None
    return 'a user name made of the characters A-Z a-z 0-9 . _ @ + -'


def _ftp_password(value):
    if value and not any(ch.isspace() for ch in value):
        return None
    return 'a password without spaces (kdump-config splits it into words)'


def _fail_cmd(value):
    words = value.split(' ')
    if _SAFE_PATH_RE.fullmatch(words[0]) and all(_SAFE_WORD_RE.fullmatch(word) for word in words[1:]):
        return None
    return ('one absolute executable path followed by plain arguments (characters A-Z a-z 0-9 . _ / + = : , @ % -). '
            'kdump-tools runs it as `$KDUMP_FAIL_CMD ;` without a shell, so ; | & quotes $ and redirections would not '
            'work anyway: put the logic in a script and give its path')


def _option_words(value):
    if _OPTION_WORDS_RE.fullmatch(value):
        return None
    return ('option words separated by spaces, made of the characters A-Z a-z 0-9 . _ / + = : , @ % - '
            '(kdump-config uses the value unquoted or through eval)')


def _cmdline(value):
    bad = sorted(set(value) & _CMDLINE_FORBIDDEN)
    if not bad:
        return None
    return ('kernel command line words without any of " ` $ \\ ; | & < > ( ) (kdump-config evals '
            '--command-line="..." when it loads the capture kernel, so these would be executed); found %s' % ' '.join(bad))


def _cmdline_append(value):
    problem = _cmdline(value)
    if problem:
        return problem
    units = [word for word in value.split() if word.startswith('systemd.unit=')]
    if not units or units[-1] != DUMP_UNIT_WORD:
        return ('kernel command line words that keep %s (without it the capture kernel boots to default.target '
                'and never saves the dump)' % DUMP_UNIT_WORD)
    return None


VALIDATORS = {
    'USE_KDUMP': _one_of('0', '1'),
    'KDUMP_KERNEL': _abs_path,
    'KDUMP_INITRD': _abs_path,
    'KDUMP_COREDIR': _abs_path,
    'KDUMP_CONFIG': _abs_path,
    'SSH_KEY': _abs_path,
    'KDUMP_FAIL_CMD': _fail_cmd,
    'KDUMP_DUMP_DMESG': _one_of('0', '1'),
    'KDUMP_NUM_DUMPS': _int_at_least(0),
    'KDUMP_COMPRESSION': _one_of(*_COMPRESSIONS),
    'MAKEDUMP_ARGS': _option_words,
    'KDUMP_KEXEC_ARGS': _option_words,
    'KDUMP_CMDLINE': _cmdline,
    'KDUMP_CMDLINE_APPEND': _cmdline_append,
    'HOSTTAG': _one_of('ip', 'hostname'),
    'SSH': _ssh,
    'NFS': _nfs,
    'NFS_TIMEO': _int_at_least(1),
    'NFS_RETRANS': _int_at_least(1),
    'SSH_KDUMP_RETRY': _int_at_least(1),
    'NFS_MOUNT_RETRY': _int_at_least(1),
    'FTP': _ftp,
    'FTP_USER': _ftp_user,
    'FTP_PASSWORD': _ftp_password,
    'FTP_PORT': _int_at_least(1, 65535),
}

# 0/1 switches: YAML booleans are accepted for them.
BOOLEAN_KEYS = frozenset(('USE_KDUMP', 'KDUMP_DUMP_DMESG'))


def normalise(key, value):
    """Return (string value, problem) for one requested setting; problem is None when the value is valid."""
    if isinstance(value, bool):
        if key not in BOOLEAN_KEYS:
            return None, 'a boolean is only accepted for %s; quote the value' % ', '.join(sorted(BOOLEAN_KEYS))
        value = '1' if value else '0'
    elif isinstance(value, (int, float)):
        value = str(value)
    elif not isinstance(value, str):
        return None, 'a string, an integer or a boolean, not a %s' % type(value).__name__
    if not printable(value):
        return value, 'printable text without newlines or other control characters'
    if key not in VALIDATORS:
        return value, None
    if value == '' and key != 'USE_KDUMP':
        # kdump-config applies its default to empty values (${VAR:=default}).
        return value, None
    return value, VALIDATORS[key](value)
