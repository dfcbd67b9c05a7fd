# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kdump_config against a careless playbook and a hostile existing file (issue 12, classes 8 to 11).

Every refusal must leave the file byte for byte as it was, and nothing in the file may ever run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.fleet.kdump.tests.unit.module_runner import run_module

from ansible_collections.fleet.kdump.plugins.modules import kdump_config

BASE = '# kdump-tools configuration\nUSE_KDUMP=1\nKDUMP_COREDIR="/var/crash"\n#KDUMP_COMPRESSION=\n'
CONF = 'etc/default/kdump-tools'


@pytest.fixture
def root(tmp_path):
    (tmp_path / 'root/etc/default').mkdir(parents=True)
    (tmp_path / 'root' / CONF).write_text(BASE)
    return tmp_path / 'root'


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Run from tmp_path: a `touch PWNED` that ever ran would leave PWNED there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, root, settings, check_mode=False, diff=False, **extra):
    args = dict({'root': str(root), 'settings': settings}, **extra)
    return run_module(capsys, kdump_config.main, args, check_mode, diff)


def sourced(path, key, shell='/bin/sh'):
    return subprocess.run([shell, '-c', '. "$1"; printf %s "$' + key + '"', 'sh', str(path)],
                          check=True, capture_output=True, text=True).stdout


def assert_refused(result, root, before, *fragments):
    assert result['failed'] is True and result['exit_code'] == 1, result
    assert (root / CONF).read_bytes() == before
    for fragment in fragments:
        assert fragment in result['msg']


def nothing_ran(tmp_path):
    return not list(tmp_path.rglob('PWNED'))


# --- class 8: every validating pattern matches the whole string ---------------------------------------

@pytest.mark.parametrize('key', ['PWNCMD\n', 'PWNCMD\n\n', 'A\nB', 'USE_KDUMP\n', 'A=B', 'A;id', ' A', 'A ', '', 'a', '1A', 'A-B',
                                 'A\x00', 'A\r', 'A\u2028', 'É', 'A\t'])
def test_a_key_must_be_a_whole_name(capsys, root, key):
    before = (root / CONF).read_bytes()
    result = run(capsys, root, {key: 'id'})
    assert_refused(result, root, before, 'invalid variable name')


@pytest.mark.parametrize('key, value', [
    ('USE_KDUMP', '1\n'), ('KDUMP_DUMP_DMESG', '0\n'), ('KDUMP_NUM_DUMPS', '3\n'), ('FTP_PORT', '21\n'), ('NFS_TIMEO', '600\n'),
    ('HOSTTAG', 'ip\n'), ('KDUMP_COMPRESSION', 'xz\n'), ('KDUMP_COREDIR', '/var/crash\n'), ('SSH_KEY', '/root/.ssh/k\n'),
    ('SSH', 'u@h\n'), ('SSH', 'u\n@h'), ('NFS', 'h:/x\n'), ('FTP', 'h:/x\n'), ('FTP_USER', 'u\n'), ('MAKEDUMP_ARGS', '-c\n'),
    ('KDUMP_FAIL_CMD', '/sbin/reboot\n'), ('KDUMP_FAIL_CMD', '/sbin/reboot -f\n'), ('SSH', 'u@[::1]\n'), ('CUSTOM', 'x\ntouch PWNED'),
    ('KDUMP_CMDLINE', 'quiet\ntouch PWNED'), ('CUSTOM', 'x\u2028y'), ('CUSTOM', 'x\ry'),
])
def test_a_value_must_be_whole_too(capsys, root, in_tmp, key, value):
    before = (root / CONF).read_bytes()
    result = run(capsys, root, {key: value})
    assert_refused(result, root, before, 'invalid value')
    assert nothing_ran(in_tmp)


def test_allow_environment_keys_entries_are_whole_names(capsys, root):
    before = (root / CONF).read_bytes()
    result = run(capsys, root, {'PATH': '/usr/bin'}, allow_environment_keys=['PATH\n'])
    assert_refused(result, root, before, "allow_environment_keys: 'PATH\\n' is not a variable name")


# --- class 9: the scanner knows the shell structure; the new text is proved ---------------------------

PAYLOAD = '; touch PWNED; echo '


@pytest.mark.parametrize('text, line, where', [
    ('X="first\nUSE_KDUMP=1\nlast"\n', 2, 'as text inside a quoted string that spans several lines'),
    ("X='first\nUSE_KDUMP=1\nlast'\n", 2, 'as text inside a quoted string that spans several lines'),
    ("USE_KDUMP=0\n: <<'C'\nUSE_KDUMP=1\nC\n", 3, 'as text inside a here-document'),
    ('USE_KDUMP=0\n: <<C\nUSE_KDUMP=1\nC\n', 3, 'as text inside a here-document'),
    ('USE_KDUMP=0\n: <<-C\n\tUSE_KDUMP=1\n\tC\n', 3, 'as text inside a here-document'),
    ('if [ -e /nonexistent ]; then\n  USE_KDUMP=1\nfi\n', 2, 'inside a compound command'),
    ('while false; do USE_KDUMP=1; done\n', 1, 'inside a compound command'),
    ('for i in 1; do\nUSE_KDUMP=$i\ndone\n', 2, 'inside a compound command'),
    ('case x in\n x) USE_KDUMP=1;;\nesac\n', 2, 'inside a compound command'),
    ('{ USE_KDUMP=1; }\n', 1, 'inside a compound command'),
    ('(\nUSE_KDUMP=1\n)\n', 2, 'inside a compound command'),
    ('f() {\n  USE_KDUMP=1\n}\n', 2, 'inside a compound command'),
    ('X=1 \\\nUSE_KDUMP=1\n', 2, 'on a line continued with a backslash-newline'),
    ('X=a\\\nUSE_KDUMP=1\n', 2, 'as text inside a word continued with a backslash-newline'),
    ('USE_KDUMP="1\n2"\n', 1, 'with a value that spans several lines'),
    ('USE_KDUMP=1 true\n', 1, 'before a command word'),
    (': ${USE_KDUMP:=1}\n', 1, 'through a ${NAME=word} expansion'),
    ('USE_KDUMP=1; true\n', 1, 'on a line that holds several commands'),
    ('true && USE_KDUMP=1\n', 1, 'in a command with a pipe, &&, ||, !, a redirection or a here-document'),
    ('X=1 USE_KDUMP=1\n', 1, 'together with other variables in one command'),
    ('USE_KDUMP=1\nreadonly USE_KDUMP\n', 2, 'by readonly'),
    ('USE_KDUMP=1\nunset USE_KDUMP\n', 2, 'by unset'),
])
@pytest.mark.parametrize('value', ['1', None])
def test_a_managed_key_the_editor_cannot_change_is_refused(capsys, root, in_tmp, text, line, where, value):
    (root / CONF).write_text(text)
    before = (root / CONF).read_bytes()
    result = run(capsys, root, {'USE_KDUMP': value})
    assert_refused(result, root, before, 'USE_KDUMP: line %d assigns it %s' % (line, where))
    assert nothing_ran(in_tmp)


def test_the_payload_of_the_issue_is_refused_inside_a_string(capsys, root, in_tmp):
    (root / CONF).write_text('X="first\nOTHER=1\nlast"\n')
    before = (root / CONF).read_bytes()
    result = run(capsys, root, {'OTHER': PAYLOAD})
    assert_refused(result, root, before, 'OTHER: line 2 assigns it as text inside a quoted string')
    assert nothing_ran(in_tmp)


def test_an_unmanaged_compound_command_is_kept_and_the_rest_edited(capsys, root):
    text = 'if [ -e /etc/kdump-special ]; then\n  KDUMP_COREDIR=/srv/crash\nfi\nUSE_KDUMP=0\n'
    (root / CONF).write_text(text)
    result = run(capsys, root, {'USE_KDUMP': '1'})
    assert result['changed'] is True and result['proved_with'] == ['dash', 'bash']
    assert (root / CONF).read_text() == text.replace('USE_KDUMP=0', 'USE_KDUMP="1"')
    for shell in ('/bin/dash', '/bin/bash'):
        assert sourced(root / CONF, 'USE_KDUMP', shell) == '1'


def test_removing_keys_never_empties_a_compound_body(capsys, root):
    text = 'if true; then\n  USE_KDUMP=1\nfi\n'
    (root / CONF).write_text(text)
    result = run(capsys, root, {'USE_KDUMP': None})
    assert_refused(result, root, text.encode(), 'USE_KDUMP: line 2 assigns it inside a compound command')


def test_a_file_ending_in_a_backslash_swallows_nothing(capsys, root):
    (root / CONF).write_text('FOO=bar\\')
    result = run(capsys, root, {'NEW_KEY': 'v'})
    assert_refused(result, root, b'FOO=bar\\', 'line 1 ends with a backslash and no newline')
    again = run(capsys, root, {'NEW_KEY': 'v'})
    assert again['failed'] is True and (root / CONF).read_bytes() == b'FOO=bar\\'


def test_a_file_without_a_final_newline_gets_one(capsys, root):
    (root / CONF).write_text('FOO=bar')
    result = run(capsys, root, {'NEW_KEY': 'v'})
    assert result['changed'] is True
    assert (root / CONF).read_text() == 'FOO=bar\nNEW_KEY="v"\n'
    assert sourced(root / CONF, 'FOO') == 'bar' and sourced(root / CONF, 'NEW_KEY') == 'v'


@pytest.mark.parametrize('text, what', [
    ('. /etc/default/other\n', 'line 1 runs the command .'),
    ('touch PWNED\n', 'line 1 runs the command touch'),
    ('X=$(touch PWNED)\n', 'line 1 command substitution $(...)'),
    ('X=`touch PWNED`\n', 'line 1 command substitution `...`'),
    ('X=$((1))\n', 'line 1 arithmetic expansion'),
    ('cat <<E >PWNED\nx\nE\n', 'line 1 runs the command cat'),
    (': <<E\n$(touch PWNED)\nE\n', 'line 2 command substitution in a here-document'),
    (': >PWNED\n', 'line 1 a redirection (> PWNED)'),
    ('true &\n', 'line 1 a command run in the background'),
    ('f() { :; }\n', 'line 1 a function definition (f)'),
    ('X=${Y:0:1}\n', 'line 1 expansion ${Y:0:1}'),
    ('export -f X\n', 'line 1 export with the argument -f'),
])
@pytest.mark.parametrize('check_mode', [False, True])
def test_a_file_that_runs_something_is_never_sourced_nor_written(capsys, root, in_tmp, text, what, check_mode):
    (root / CONF).write_text(text)
    before = (root / CONF).read_bytes()
    result = run(capsys, root, {'HOSTTAG': 'ip'}, check_mode=check_mode)
    assert_refused(result, root, before, 'The new content could not be proved', what)
    assert nothing_ran(in_tmp)


def test_a_managed_line_that_ran_something_can_be_replaced(capsys, root, in_tmp):
    (root / CONF).write_text('KDUMP_COREDIR=$(touch PWNED; echo /var/crash)\n')
    result = run(capsys, root, {'KDUMP_COREDIR': '/var/crash'})
    assert result['changed'] is True
    assert (root / CONF).read_text() == 'KDUMP_COREDIR="/var/crash"\n'
    assert nothing_ran(in_tmp)


@pytest.mark.parametrize('check_mode', [False, True])
def test_the_proof_refuses_a_change_that_moves_another_variable(capsys, root, check_mode):
    text = 'KDUMP_COREDIR=/var/crash\nMY_DIR="$KDUMP_COREDIR/mine"\n'
    (root / CONF).write_text(text)
    result = run(capsys, root, {'KDUMP_COREDIR': '/srv/crash'}, check_mode=check_mode)
    assert_refused(result, root, text.encode(), "in dash, MY_DIR is '/srv/crash/mine' after the change instead of '/mine'",
                   'it is not managed')


def test_the_proof_runs_in_check_mode_and_reports_the_shells(capsys, root):
    result = run(capsys, root, {'SSH': 'kdump@collector'}, check_mode=True)
    assert result['changed'] is True and result['proved_with'] == ['dash', 'bash']
    assert (root / CONF).read_text() == BASE


def test_without_bash_the_proof_uses_dash_and_says_so(capsys, root, mocker):
    real_get_bin_path = AnsibleModule.get_bin_path
    mocker.patch.object(AnsibleModule, 'get_bin_path',
                        lambda self, name, *args, **kwargs: None if name == 'bash' else real_get_bin_path(self, name, *args, **kwargs))
    # A spy: once controller code is imported in the test process, warnings go to the display, not the result.
    warn = mocker.spy(AnsibleModule, 'warn')
    result = run(capsys, root, {'SSH': 'kdump@collector'})
    assert result['changed'] is True and result['proved_with'] == ['dash']
    assert 'bash is not installed' in str(warn.call_args)


def test_the_proof_catches_what_the_scanner_misreads(capsys, root, mocker):
    """A scanner bug must not reach the disk: the shells' reading wins."""
    from ansible_collections.fleet.kdump.plugins.module_utils import _kdump_config

    real_quote = _kdump_config.quote
    mocker.patch.object(_kdump_config, 'quote', lambda value: real_quote(value).replace('\\$', '$'))
    result = run(capsys, root, {'CUSTOM': 'a$USE_KDUMP'})
    assert_refused(result, root, BASE.encode(), "in dash, CUSTOM is 'a1' after the change instead of 'a$USE_KDUMP'")


def test_an_endless_loop_is_stopped(capsys, root, mocker):
    from ansible_collections.fleet.kdump.plugins.module_utils import _shell_proof

    mocker.patch.object(_shell_proof, 'TIMEOUT', 2)
    (root / CONF).write_text('while true; do :; done\n')
    result = run(capsys, root, {'HOSTTAG': 'ip'})
    assert_refused(result, root, b'while true; do :; done\n', 'The new content could not be proved', 'sourcing the new content in dash failed')


# --- class 10: links under root ----------------------------------------------------------------------

@pytest.fixture
def outside(tmp_path):
    path = tmp_path / 'outside'
    path.mkdir()
    (path / 'secret').write_text('SECRET_TOKEN="do-not-show"\n')
    return path


@pytest.mark.parametrize('link', ['absolute', 'relative', 'directory'])
@pytest.mark.parametrize('check_mode', [False, True])
def test_a_link_out_of_root_is_refused(capsys, root, outside, link, check_mode):
    conf = root / CONF
    conf.unlink()
    if link == 'absolute':
        conf.symlink_to(outside / 'secret')
    elif link == 'relative':
        conf.symlink_to('../../../outside/secret')
    else:
        (root / 'etc/default').rename(root / 'etc/default.old')
        (root / 'etc/default').symlink_to(outside)
        (outside / 'kdump-tools').symlink_to('secret')
    result = run(capsys, root, {'USE_KDUMP': 1}, check_mode=check_mode, diff=True)
    assert result['failed'] is True and 'leads outside' in result['msg'] and 'never reads or writes outside root' in result['msg']
    assert 'do-not-show' not in json.dumps(result)
    assert (outside / 'secret').read_text() == 'SECRET_TOKEN="do-not-show"\n'
    assert os.path.islink(str(conf))


def test_a_link_inside_root_is_written_through(capsys, root):
    (root / 'etc/kdump').mkdir()
    (root / 'etc/kdump/defaults').write_text(BASE)
    (root / CONF).unlink()
    (root / CONF).symlink_to('../kdump/defaults')
    checked = run(capsys, root, {'HOSTTAG': 'hostname'}, check_mode=True, diff=True)
    assert checked['changed'] is True and (root / 'etc/kdump/defaults').read_text() == BASE
    assert checked['diff']['before_header'] == '%s (content)' % (root / 'etc/kdump/defaults')
    result = run(capsys, root, {'HOSTTAG': 'hostname'}, backup=True)
    assert result['changed'] is True
    assert os.readlink(str(root / CONF)) == '../kdump/defaults'
    assert (root / 'etc/kdump/defaults').read_text() == BASE + 'HOSTTAG="hostname"\n'
    assert result['backup_file'].startswith(str(root / 'etc/kdump/defaults.'))


def test_an_absolute_link_inside_root_is_written_through(capsys, root):
    (root / 'srv').mkdir()
    (root / 'srv/kdump-tools').write_text(BASE)
    (root / CONF).unlink()
    (root / CONF).symlink_to(root / 'srv/kdump-tools')
    assert run(capsys, root, {'HOSTTAG': 'ip'})['changed'] is True
    assert (root / 'srv/kdump-tools').read_text().endswith('HOSTTAG="ip"\n') and os.path.islink(str(root / CONF))


def test_a_fifo_never_blocks(capsys, root):
    (root / CONF).unlink()
    os.mkfifo(str(root / CONF))
    signal.alarm(20)
    try:
        result = run(capsys, root, {'USE_KDUMP': 1})
    finally:
        signal.alarm(0)
    assert result['failed'] is True and 'is not a regular file' in result['msg']


def test_a_huge_file_is_refused_not_cut(capsys, root):
    (root / CONF).write_bytes(b'# x\n' * (1 << 19))
    result = run(capsys, root, {'USE_KDUMP': 1})
    assert result['failed'] is True and 'is larger than' in result['msg']
    assert (root / CONF).stat().st_size == 4 << 19


# --- class 11: environment keys ----------------------------------------------------------------------

ENVIRONMENT = ['PATH', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'IFS', 'BASH_ENV', 'ENV', 'PS4', 'SHELLOPTS', 'BASHOPTS', 'CDPATH',
               'GLOBIGNORE', 'HOME', 'LC_ALL', 'LANG', 'TMPDIR', 'GCONV_PATH', 'GLIBC_TUNABLES', 'MALLOC_CHECK_', 'BASH_FUNC_x%%',
               'SSH_ASKPASS', 'XZ_OPT']


@pytest.mark.parametrize('key', ENVIRONMENT)
def test_environment_keys_are_refused_unless_listed(capsys, root, key):
    before = (root / CONF).read_bytes()
    result = run(capsys, root, {key: '/tmp/x'})
    assert result['failed'] is True and (root / CONF).read_bytes() == before
    assert ('%s: refused' % key in result['msg'] and 'allow_environment_keys' in result['msg']) or 'invalid variable name' in result['msg']


@pytest.mark.parametrize('key, value', [('PATH', '/usr/sbin:/usr/bin:/sbin:/bin'), ('LD_PRELOAD', '/nonexistent/x.so'), ('IFS', ':'),
                                        ('CDPATH', '/tmp'), ('PS4', '+ ')])
def test_listed_environment_keys_are_written_and_proved(capsys, root, key, value):
    result = run(capsys, root, {key: value}, allow_environment_keys=[key])
    assert result['changed'] is True and result['proved_with'] == ['dash', 'bash']
    assert '%s="%s"\n' % (key, value) in (root / CONF).read_text()


def test_a_listed_key_the_shell_refuses_fails_the_proof(capsys, root):
    result = run(capsys, root, {'SHELLOPTS': 'xtrace'}, allow_environment_keys=['SHELLOPTS'])
    assert_refused(result, root, BASE.encode(), 'The new content could not be proved', 'bash')


def test_removing_an_environment_key_needs_no_listing(capsys, root):
    (root / CONF).write_text(BASE + 'LD_PRELOAD=/tmp/evil.so\n')
    result = run(capsys, root, {'LD_PRELOAD': None})
    assert result['changed'] is True and (root / CONF).read_text() == BASE
