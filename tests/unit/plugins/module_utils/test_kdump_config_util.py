# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import subprocess

import pytest

from ansible_collections.fleet.kdump.plugins.module_utils._kdump_config import (
    ConfigError,
    ConfigText,
    Unknown,
    parse_show,
    plan_reload,
    public_settings,
    quote,
    validate_settings,
)

# Abridged copy of the template shipped by kdump-tools 1.8.1 (usr/share/kdump-tools/kdump-tools.conf).
TEMPLATE = """\
# kdump-tools configuration
# ---------------------------------------------------------------------------
# USE_KDUMP - controls kdump will be configured
#     0 - kdump kernel will not be loaded
#     1 - kdump kernel will be loaded and kdump is configured
#
USE_KDUMP=1

# ---------------------------------------------------------------------------
# Kdump Kernel:
KDUMP_KERNEL=/var/lib/kdump/vmlinuz
KDUMP_INITRD=/var/lib/kdump/initrd.img

# ---------------------------------------------------------------------------
# vmcore Handling:
KDUMP_COREDIR="/var/crash"
#KDUMP_FAIL_CMD="reboot -f"
#KDUMP_DUMP_DMESG=
#KDUMP_NUM_DUMPS=
#KDUMP_COMPRESSION=

# ---------------------------------------------------------------------------
# Makedumpfile options:
#MAKEDUMP_ARGS="-c -d 31"

# ---------------------------------------------------------------------------
# Kexec/Kdump args
#KDUMP_KEXEC_ARGS=""
#KDUMP_CMDLINE=""
#KDUMP_CMDLINE_APPEND="reset_devices systemd.unit=kdump-tools-dump.service nr_cpus=1 irqpoll usbcore.nousb"

# ---------------------------------------------------------------------------
# Remote dump facilities:
#HOSTTAG="hostname|[ip]"
#NFS="<nfs mount>"
#NFS_TIMEO="600"
#NFS_RETRANS="3"
#FTP="<server>:<path>"
#FTP_USER=""
#FTP_PASSWORD=""
#FTP_PORT=21
#SSH="<user at server>"
#SSH_KEY="<path>"
"""

HOSTILE = [
    '$(touch {marker})',
    '`touch {marker}`',
    '"; touch {marker}; "',
    "'; touch {marker}; '",
    '\\$(touch {marker})\\',
    'a\\nb \\\\ c\\',
    '  two  spaces  ',
    '${PATH:+x}$HOME',
    '#not a comment',
    '*',
    'trailing backslash \\',
    "mixed 'single' \"double\" `back` $dollar",
    '',
]


def shell_value(path, key):
    """What dash prints for $KEY after sourcing the file."""
    return subprocess.run(['/bin/sh', '-c', '. "$1"; printf %s "$' + key + '"', 'sh', str(path)],
                          check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize('value', HOSTILE)
def test_written_values_are_exact_and_inert_in_dash(tmp_path, value):
    marker = tmp_path / 'executed'
    value = value.replace('{marker}', str(marker))
    config = ConfigText(TEMPLATE)
    assert config.apply({'KDUMP_CMDLINE': value, 'CUSTOM_VAR': value}) == ['KDUMP_CMDLINE', 'CUSTOM_VAR']
    path = tmp_path / 'kdump-tools'
    path.write_text(config.text())
    assert shell_value(path, 'KDUMP_CMDLINE') == value
    assert shell_value(path, 'CUSTOM_VAR') == value
    assert not marker.exists()
    # Reading back gives the same value, so a second run changes nothing.
    again = ConfigText(config.text())
    assert again.effective()['KDUMP_CMDLINE'] == value
    assert again.apply({'KDUMP_CMDLINE': value, 'CUSTOM_VAR': value}) == []


@pytest.mark.parametrize('line, value', [
    ('K=plain', 'plain'),
    ('K="double quoted"', 'double quoted'),
    ("K='single $quoted'", 'single $quoted'),
    ('export K=exported', 'exported'),
    ('  K=indented # comment', 'indented'),
    ('K="a"\'b\'c', 'abc'),
    ('K=a\\ b', 'a b'),
    ('K="x\\y\\$z"', 'x\\y$z'),
    ('K=', ''),
    ('K=a#b', 'a#b'),
    ('K="multi\nline"', 'multi\nline'),
    ('K="cont\\\ninued"', 'continued'),
])
def test_parse_matches_dash(tmp_path, line, value):
    path = tmp_path / 'f'
    path.write_text(line + '\n')
    assert shell_value(path, 'K') == value
    assert ConfigText(line + '\n').effective() == {'K': value}


@pytest.mark.parametrize('line, source', [
    ('K=$HOME', '$HOME'), ('K="a $HOME"', '"a $HOME"'), ('K=`id`', '`id`'), ('K="$(id)"', '"$(id)"'), ('K=~/x', '~/x'),
    ('K=a:~', 'a:~'), ('K=a b', 'K=a b'), ('K=a|b', 'K=a|b'), ('if :; then K=1; fi', 'if :; then K=1; fi'),
])
def test_parse_expansions_are_unknown(line, source):
    value = ConfigText(line + '\nNEXT=1\n').effective()
    assert isinstance(value['K'], Unknown)
    assert value['NEXT'] == '1'
    assert public_settings(value)['K'] == source


def test_a_command_after_an_assignment_is_its_own_command():
    assert ConfigText('K=a;b\n').effective() == {'K': 'a'}


def test_text_after_a_syntax_error_is_not_read():
    config = ConfigText('A=1\nK="unterminated\nB=2\n')
    assert config.effective() == {'A': '1'}
    assert config.text() == 'A=1\nK="unterminated\nB=2\n'
    with pytest.raises(ConfigError, match='line 2: unterminated double quote'):
        config.apply({'A': '2'})


def test_quote():
    assert quote('a"b$c`d\\e f') == '"a\\"b\\$c\\`d\\\\e f"'


def test_unchanged_text_round_trips():
    assert ConfigText(TEMPLATE).text() == TEMPLATE
    odd = 'A=1\n\n  # x\r\nB="q\nr" # c\nno newline'
    assert ConfigText(odd).text() == odd


def test_in_place_replace_keeps_comments():
    config = ConfigText(TEMPLATE)
    assert config.apply({'KDUMP_COREDIR': '/srv/crash'}) == ['KDUMP_COREDIR']
    assert config.text() == TEMPLATE.replace('KDUMP_COREDIR="/var/crash"', 'KDUMP_COREDIR="/srv/crash"')


def test_new_key_goes_after_template_line():
    config = ConfigText(TEMPLATE)
    config.apply({'KDUMP_COMPRESSION': 'xz', 'SSH': 'kdump@collector', 'MY_VAR': 'x'})
    text = config.text()
    assert '#KDUMP_COMPRESSION=\nKDUMP_COMPRESSION="xz"\n' in text
    assert '#SSH="<user at server>"\nSSH="kdump@collector"\n#SSH_KEY' in text
    assert text.endswith('#SSH_KEY="<path>"\nMY_VAR="x"\n')
    assert text.replace('KDUMP_COMPRESSION="xz"\n', '').replace('SSH="kdump@collector"\n', '').replace('MY_VAR="x"\n', '') == TEMPLATE


def test_append_to_file_without_final_newline():
    config = ConfigText('A=1')
    config.apply({'B': '2'})
    assert config.text() == 'A=1\nB="2"\n'


def test_last_assignment_wins_and_duplicates_go():
    config = ConfigText('A=1\n# keep\nexport A=2 # old\nB=x\n')
    assert config.effective()['A'] == '2'
    assert config.apply({'A': '3'}) == ['A']
    assert config.text() == '# keep\nA="3"\nB=x\n'


def test_matching_effective_value_is_not_rewritten():
    text = "A=1\nexport A='2'\n"
    config = ConfigText(text)
    assert config.apply({'A': '2'}) == []
    assert config.text() == text


def test_remove_with_null():
    config = ConfigText('A=1\nB=2\nA=3\n')
    assert config.apply({'A': None, 'MISSING': None}) == ['A']
    assert config.text() == 'B=2\n'
    assert config.effective() == {'B': '2'}


def test_unknown_value_is_replaced():
    config = ConfigText('K="$(id)"\n')
    assert config.apply({'K': '$(id)'}) == ['K']
    assert config.text() == 'K="\\$(id)"\n'


def test_secrets_are_masked():
    config = ConfigText('FTP_PASSWORD="hunter2"\nA=1\n')
    assert 'hunter2' not in config.masked_text()
    assert public_settings(config.effective()) == {'FTP_PASSWORD': '********', 'A': '1'}
    assert public_settings(ConfigText('FTP_PASSWORD=""\nB=$X\n').effective()) == {'FTP_PASSWORD': '', 'B': '$X'}


GOOD = {
    'USE_KDUMP': ['0', '1', True, False, 1],
    'KDUMP_KERNEL': ['/var/lib/kdump/vmlinuz', '/boot/vmlinuz-6.1.0-28-amd64', ''],
    'KDUMP_COREDIR': ['/var/crash', '/srv/dumps+x'],
    'SSH_KEY': ['/root/.ssh/kdump_id_ed25519'],
    'KDUMP_CONFIG': ['/boot/config-6.1.0'],
    'KDUMP_FAIL_CMD': ['/usr/local/sbin/kdump-failed', '/sbin/reboot -f', '/usr/bin/logger -t kdump failed'],
    'KDUMP_DUMP_DMESG': ['0', '1', True],
    'KDUMP_NUM_DUMPS': ['0', 3, '10'],
    'KDUMP_COMPRESSION': ['bzip2', 'gzip', 'lz4', 'xz'],
    'MAKEDUMP_ARGS': ['-c -d 31', '-F -l --message-level=7', '-d 31 --num-threads=2'],
    'KDUMP_KEXEC_ARGS': ['--elf64-core-headers', '-s'],
    'KDUMP_CMDLINE': ['root=/dev/vda ro console=ttyS0,115200 quiet', "x='y'"],
    'KDUMP_CMDLINE_APPEND': ['reset_devices systemd.unit=kdump-tools-dump.service nr_cpus=1 irqpoll usbcore.nousb', ''],
    'HOSTTAG': ['ip', 'hostname'],
    'SSH': ['kdump@collector', 'root@192.0.2.10', 'k_d.u-mp@[2001:db8::1]', 'u@a-b.example.com'],
    'NFS': ['nfs.example.com:/export/dumps', '192.0.2.1:/', '[2001:db8::2]:/x'],
    'NFS_TIMEO': ['600', 1],
    'NFS_RETRANS': ['3'],
    'SSH_KDUMP_RETRY': ['16'],
    'NFS_MOUNT_RETRY': ['4'],
    'FTP': ['ftp.example.com', 'ftp.example.com:/incoming', '192.0.2.3:dumps'],
    'FTP_USER': ['anonymous', 'dump.user@example'],
    'FTP_PASSWORD': ['s3cr3t!#'],
    'FTP_PORT': ['21', 1, 65535],
    'CUSTOM_THING': ['any printable text; even $(this) is stored inert', 42, ''],
}

BAD = {
    'USE_KDUMP': ['true', '2', '', 'yes'],
    'KDUMP_KERNEL': ['vmlinuz', '/boot/vmlinuz x', '/boot/$(id)', '/a;b'],
    'KDUMP_COREDIR': ['var/crash', '/var/crash dir'],
    'SSH_KEY': ['~/.ssh/id'],
    'KDUMP_CONFIG': ['/boot/config*'],
    'KDUMP_FAIL_CMD': ['reboot -f', "/bin/echo 'x'; /bin/bash", '/bin/a | b', '/bin/a $X', '/bin/a *', '/bin/a  b'],
    'KDUMP_DUMP_DMESG': ['2', 'on'],
    'KDUMP_NUM_DUMPS': ['-1', 'three', '1.5', ' 3'],
    'KDUMP_COMPRESSION': ['zstd', 'XZ'],
    'MAKEDUMP_ARGS': ['-c -d 31; id', '-c "x"', '$(id)', '-c\t-d'],
    'KDUMP_KEXEC_ARGS': ['--x=`id`'],
    'KDUMP_CMDLINE': ['root=/dev/vda $(id)', 'a"b', 'a\\b', 'x;y', 'a|b', 'a&b', 'a>b', 'a<b', 'f(x)', '`id`'],
    'KDUMP_CMDLINE_APPEND': ['reset_devices nr_cpus=1', 'systemd.unit=kdump-tools-dump.service systemd.unit=rescue.target',
                             'systemd.unit=kdump-tools-dump.service $(id)'],
    'HOSTTAG': ['hostname|[ip]', 'fqdn'],
    'SSH': ['collector', '@host', 'Root@host', 'u@host name', 'u@-bad', 'u@2001:db8::1', 'u@[nothex::]', 'u@999.1.1.1', 'u@h;id'],
    'NFS': ['host', 'host:relative', 'host:/a b', ':/x', 'h$(id):/x'],
    'NFS_TIMEO': ['0', '-5', 'x'],
    'NFS_RETRANS': ['0'],
    'SSH_KDUMP_RETRY': ['0'],
    'NFS_MOUNT_RETRY': ['1.0'],
    'FTP': ['ftp host', 'h:/a b', ''],
    'FTP_USER': ['a b', 'x;y'],
    'FTP_PASSWORD': ['with space'],
    'FTP_PORT': ['0', '65536', 'ftp'],
    'CUSTOM_THING': ['line\nbreak', 'tab\there', True, [1]],
}


@pytest.mark.parametrize('key, value', [(k, v) for k, values in GOOD.items() for v in values])
def test_validator_accepts(key, value):
    desired, errors = validate_settings({key: value})
    assert errors == []
    assert isinstance(desired[key], str)


@pytest.mark.parametrize('key, value', [(k, v) for k, values in BAD.items() for v in values if not (k == 'FTP' and v == '')])
def test_validator_rejects(key, value):
    desired, errors = validate_settings({key: value})
    assert len(errors) == 1
    assert errors[0].startswith('%s: invalid value' % key)
    assert 'expected' in errors[0]
    if key != 'FTP_PASSWORD' and isinstance(value, str):
        assert repr(value) in errors[0]


def test_validator_messages_explain():
    errors = validate_settings({'KDUMP_FAIL_CMD': 'echo x; reboot -f'})[1]
    assert 'without a shell' in errors[0] and 'script' in errors[0]
    errors = validate_settings({'KDUMP_CMDLINE_APPEND': 'nr_cpus=1'})[1]
    assert 'systemd.unit=kdump-tools-dump.service' in errors[0] and 'default.target' in errors[0]
    errors = validate_settings({'USE_KDUMP': True, 'use_kdump': '1', 'HOSTTAG': True})[1]
    assert len(errors) == 2
    assert 'invalid variable name' in errors[0]
    assert 'boolean' in errors[1]


def test_validate_normalises():
    desired, errors = validate_settings({'USE_KDUMP': True, 'KDUMP_DUMP_DMESG': False, 'KDUMP_NUM_DUMPS': 5, 'NFS': None})
    assert errors == []
    assert desired == {'USE_KDUMP': '1', 'KDUMP_DUMP_DMESG': '0', 'KDUMP_NUM_DUMPS': '5', 'NFS': None}


SHOW = """\
/etc/default/kdump-tools: KDUMP_COREDIR is weird ... (warning).
DUMP_MODE:\t\tkdump
USE_KDUMP:\t\t1
KDUMP_COREDIR:\t\t/var/crash
crashkernel addr: 0x22000000
   /var/lib/kdump/vmlinuz: symbolic link to /boot/vmlinuz-6.1.0-28-amd64
kdump initrd: \n\
   /var/lib/kdump/initrd.img: symbolic link to /var/lib/kdump/initrd.img-6.1.0-28-amd64
SSH:              kdump@collector
SSH_KEY:          /root/.ssh/kdump_id_rsa
NFS_RETRANS       3
HOSTTAG:          ip
current state:    ready to kdump

kexec command:
  /sbin/kexec -p --command-line="root=/dev/vda reset_devices" --initrd=/var/lib/kdump/initrd.img /var/lib/kdump/vmlinuz
"""


def test_parse_show():
    show = parse_show(SHOW)
    assert show['current_state'] == 'ready to kdump'
    assert show['ready'] is True
    assert show['DUMP_MODE'] == 'kdump'
    assert show['USE_KDUMP'] == '1'
    assert show['SSH'] == 'kdump@collector'
    assert show['NFS_RETRANS'] == '3'
    assert show['crashkernel_addr'] == '0x22000000'
    assert show['kexec_command'].startswith('/sbin/kexec -p --command-line=')


@pytest.mark.parametrize('line, state, ready', [
    ('current state   : Not ready to kdump', 'Not ready to kdump', False),
    ('current state   : ready to fadump', 'ready to fadump', True),
    ('current state:    Not ready to fadump  ', 'Not ready to fadump', False),
])
def test_parse_status_lines(line, state, ready):
    show = parse_show('no crashkernel= parameter in the kernel cmdline ... failed!\n' + line + '\n')
    assert (show['current_state'], show['ready']) == (state, ready)


@pytest.mark.parametrize('values, changed, loaded, action', [
    ({'USE_KDUMP': '1'}, [], True, None),
    ({'USE_KDUMP': '1'}, ['SSH', 'KDUMP_COMPRESSION'], True, None),
    ({'USE_KDUMP': '1'}, ['KDUMP_CMDLINE_APPEND'], True, 'reload'),
    ({'USE_KDUMP': '1'}, ['KDUMP_KERNEL'], False, 'load'),
    ({'USE_KDUMP': '1'}, [], False, 'load'),
    ({'USE_KDUMP': '1'}, [], None, 'load'),
    ({'USE_KDUMP': '0'}, ['USE_KDUMP'], True, 'unload'),
    ({}, [], True, 'unload'),
    ({'USE_KDUMP': '0'}, ['USE_KDUMP'], False, None),
])
def test_plan_reload(values, changed, loaded, action):
    assert plan_reload(values, changed, loaded) == action


@pytest.mark.parametrize('text, where', [
    ('K="a\nb" junk\nN=1\n', 'line 1 assigns it before a command word'),
    ("K=a b # it's\nN=1\n", 'line 1 assigns it before a command word'),
    ('K=x; echo "multi\nline"\nN=1\n', 'line 1 assigns it on a line that holds several commands'),
    ("K='y\nz'\nN=1\n", 'line 1 assigns it with a value that spans several lines'),
    ('K=a\\\nb\nN=1\n', 'line 1 assigns it on a line continued with a backslash-newline'),
    ('A=1 \\\nK=2\n', 'line 2 assigns it on a line continued with a backslash-newline'),
    ('A=1 K=2\n', 'line 1 assigns it together with other variables in one command'),
    ('K=1 >/dev/null\n', 'line 1 assigns it in a command with a pipe, &&, ||, !, a redirection or a here-document'),
    ('K=1\nif true; then\n  K=2\nfi\n', 'line 3 assigns it inside a compound command'),
    ('K=1\nf() { K=2; }\n', 'line 2 assigns it inside a compound command'),
    ('K=1\n: ${K:=2}\n', 'line 2 assigns it through a ${NAME=word} expansion'),
    ('K=1\nfor K in a; do :; done\n', 'line 2 assigns it as the variable of a for loop'),
    ('K=1\nunset K\n', 'line 2 assigns it by unset'),
    (": <<'C'\nK=1\nC\n", 'line 2 assigns it as text inside a here-document'),
    ('X="\nK=1\n"\n', 'line 2 assigns it as text inside a quoted string that spans several lines'),
    ('X=a\\\nK=1\n', 'line 2 assigns it as text inside a word continued with a backslash-newline'),
])
def test_refuses_to_edit_what_only_a_shell_could(text, where):
    config = ConfigText(text)
    with pytest.raises(ConfigError) as caught:
        config.apply({'K': 'new'})
    assert 'K: %s' % where in str(caught.value)
    assert config.text() == text
    with pytest.raises(ConfigError):
        ConfigText(text).apply({'K': None})
