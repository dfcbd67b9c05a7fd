# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kdump-collector's configuration file, the defaults it gives every subcommand, and the drop to the dump account."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile

import pytest
from hypothesis import given, settings, strategies as st

from collector_helpers import FLAT, PROG, fixture_text, make_entry, run
from kdump_collector import account, config

STAMP = '202611261216'


def write_config(path, data, mode=0o644):
    with open(str(path), 'w', encoding='utf-8') as handle:
        json.dump(data, handle)
    os.chmod(str(path), mode)
    return str(path)


@pytest.fixture
def collector(tmp_path):
    """A collector tree with one complete sysrq dump of web1, and a configuration file naming it."""
    root, db = tmp_path / 'root', tmp_path / 'index.db'
    make_entry(str(root / 'web1'), 'web1', STAMP, fixture_text('dmesg-sysrq-6.1.txt'), FLAT)
    cfg = write_config(tmp_path / 'collector.json', {
        'root': str(root), 'db': str(db), 'report_html': str(tmp_path / 'report.html'),
        'metrics_textfile': str(tmp_path / 'kdump.prom'), 'prune': {'keep_per_signature': 1},
        'receive': {'min_free_bytes': None, 'max_host_bytes': 1 << 30}})
    return tmp_path, cfg


def test_missing_default_file_means_no_settings(monkeypatch, tmp_path):
    monkeypatch.setattr(config, 'DEFAULT_PATH', str(tmp_path / 'absent.json'))
    assert config.load() == {}
    with pytest.raises(config.ConfigError, match='does not exist'):
        config.load(str(tmp_path / 'absent.json'))


def test_settings_flattened(tmp_path):
    cfg = write_config(tmp_path / 'c.json', {'account': 'kdump', 'db': '/x/i.db', 'nfs_dirs': ['/srv/a'],
                                             'prune': {'keep_per_signature': 3, 'max_total_bytes': None}})
    assert config.load(cfg) == {'account': 'kdump', 'db': '/x/i.db', 'nfs_dirs': ['/srv/a'],
                                'prune.keep_per_signature': 3, 'prune.max_total_bytes': None}


@pytest.mark.parametrize('data, message', [
    ([], 'must be a JSON object'),
    ({'dbb': '/x'}, 'unknown key dbb'),
    ({'prune': {'keep': 1}}, 'unknown key prune.keep'),
    ({'prune': []}, 'prune must be a JSON object'),
    ({'db': 'relative/index.db'}, 'db must be an absolute path'),
    ({'db': '/a\0b'}, 'db must be an absolute path'),
    ({'db': 5}, 'db must be an absolute path'),
    ({'nfs_dirs': '/srv/a'}, 'nfs_dirs must be a list'),
    ({'nfs_dirs': ['/srv/a', 'b']}, r'nfs_dirs\[1\] must be an absolute path'),
    ({'account': 'kdump user'}, 'account must be an account name'),
    ({'account': '-kdump'}, 'account must be an account name'),
    ({'receive': {'min_free_bytes': -1}}, 'receive.min_free_bytes must be an integer from 0'),
    ({'receive': {'min_free_bytes': 2 ** 63}}, 'receive.min_free_bytes must be an integer from 0'),
    ({'receive': {'min_free_bytes': True}}, 'receive.min_free_bytes must be an integer from 0'),
    ({'receive': {'min_free_bytes': 1.5}}, 'receive.min_free_bytes must be an integer from 0'),
    ({'prune': {'keep_per_signature': 0}}, 'prune.keep_per_signature must be an integer from 1'),
])
def test_bad_settings_named(tmp_path, data, message):
    cfg = write_config(tmp_path / 'c.json', data)
    with pytest.raises(config.ConfigError, match=message):
        config.load(cfg)


def test_bad_files_refused(tmp_path):
    with pytest.raises(config.ConfigError, match='is not JSON'):
        config.load(write_config(tmp_path / 'a.json', {}) and _write(tmp_path / 'a.json', b'{"db": '))
    with pytest.raises(config.ConfigError, match='is not JSON'):
        config.load(_write(tmp_path / 'b.json', b'\xff\xfe'))
    with pytest.raises(config.ConfigError, match='larger than'):
        config.load(_write(tmp_path / 'c.json', b' ' * (config.MAX_BYTES + 1)))
    with pytest.raises(config.ConfigError, match='not a regular file'):
        config.load(str(tmp_path))
    fifo = str(tmp_path / 'fifo')
    os.mkfifo(fifo)
    with pytest.raises(config.ConfigError, match='not a regular file'):
        config.load(fifo)


@pytest.mark.parametrize('mode', [0o664, 0o646, 0o666])
def test_file_writable_by_others_refused(tmp_path, mode):
    with pytest.raises(config.ConfigError, match='may be written by another account'):
        config.load(write_config(tmp_path / 'c.json', {}, mode))


@pytest.mark.skipif(os.geteuid() != 0, reason='needs root to give the file away')
def test_file_owned_by_another_account_refused(tmp_path):
    cfg = write_config(tmp_path / 'c.json', {})
    os.chown(cfg, pwd.getpwnam('nobody').pw_uid, -1)
    with pytest.raises(config.ConfigError, match='owner uid %d' % pwd.getpwnam('nobody').pw_uid):
        config.load(cfg)


def _write(path, data):
    with open(str(path), 'wb') as handle:
        handle.write(data)
    os.chmod(str(path), 0o644)
    return str(path)


JSON = st.recursive(st.none() | st.booleans() | st.integers(min_value=-2 ** 70, max_value=2 ** 70) | st.floats(allow_nan=False)
                    | st.text(max_size=20), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
VALUES = st.dictionaries(st.sampled_from(sorted(config.KEYS) + ['other']), JSON, max_size=6)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_any_json_is_refused_with_a_message_or_typed(data):
    """Whatever the file holds: a ConfigError, or every setting of its declared type."""
    try:
        flat = config.validate(data)
    except config.ConfigError as exc:
        assert str(exc)
        return
    kinds = dict((k, kind) for k, kind in _leaf_kinds())
    for key, value in flat.items():
        kind = kinds[key]
        if value is None:
            continue
        if kind in ('bytes', 'count'):
            assert isinstance(value, int) and not isinstance(value, bool) and (1 if kind == 'count' else 0) <= value < 2 ** 63
        elif kind == 'paths':
            assert all(p.startswith('/') and '\0' not in p for p in value)
        elif kind == 'name':
            assert config.NAME_RE.match(value)
        else:
            assert value.startswith('/') and '\0' not in value


def _leaf_kinds(keys=None, prefix=''):
    for key, (kind, _text) in (keys or config.KEYS).items():
        if isinstance(kind, dict):
            yield from _leaf_kinds(kind, prefix + key + '.')
        else:
            yield prefix + key, kind


def test_describe_lists_every_setting():
    assert [k for k, _t in config.describe()] == [k for k, _kind in _leaf_kinds()]


# -- the command line takes its defaults from the file ----------------------------------------------------------------

def test_queries_need_no_options_with_a_config(collector):
    tmp_path, cfg = collector
    assert run('--config', cfg, 'index').returncode == 0
    listed = run('list', '--config', cfg, '--json')
    assert listed.returncode == 0, listed.stderr
    assert [d['host'] for d in json.loads(listed.stdout)] == ['web1']
    assert run('--config', cfg, 'report').returncode == 0 and (tmp_path / 'report.html').exists()
    assert run('--config', cfg, 'metrics').returncode == 0 and (tmp_path / 'kdump.prom').exists()
    pruned = run('--config', cfg, 'prune', '--dry-run')
    assert pruned.returncode == 0 and pruned.stdout.decode() == 'nothing to prune\n'


def test_explicit_options_override_the_file(collector):
    tmp_path, cfg = collector
    other = str(tmp_path / 'other.db')
    assert run('--config', cfg, 'index', '--db', other).returncode == 0
    assert os.path.exists(other) and not (tmp_path / 'index.db').exists()


def test_missing_setting_named_with_the_file(tmp_path):
    cfg = write_config(tmp_path / 'c.json', {'root': str(tmp_path)})
    result = run('--config', cfg, 'list')
    assert result.returncode == 2
    assert result.stderr.decode() == 'kdump-collector: list: --db not given, and no db in %s\n' % cfg


def test_unusable_config_stops_every_subcommand_but_local_status(tmp_path):
    cfg = write_config(tmp_path / 'c.json', {'db': 'relative'})
    for args in (['list', '--db', '/x'], ['receive', '--root', str(tmp_path), '--host', 'h']):
        result = run('--config', cfg, *args)
        assert result.returncode == 2 and b'db must be an absolute path' in result.stderr
    assert run('--config', cfg, 'local-status', '--coredir', str(tmp_path)).returncode == 0


def test_receive_takes_root_and_limits_from_the_config(collector):
    tmp_path, cfg = collector
    result = run('--config', cfg, 'receive', '--host', 'web2', '--tag', 'web2',
                 env={'SSH_ORIGINAL_COMMAND': 'mkdir -p /var/crash/web2-%s' % STAMP})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / 'root' / 'web2' / ('web2-' + STAMP)).is_dir()


# -- the drop to the dump account --------------------------------------------------------------------------------------

def fake_getpwnam(table):
    def lookup(name):
        return pwd.struct_passwd((name, 'x', table[name][0], table[name][1], '', '/', '/bin/sh'))
    return lookup


@pytest.mark.parametrize('euid, name, expected', [
    (0, 'kdump', ('kdump', 998, 997)),
    (0, None, None),       # no account configured: run as is
    (0, 'root2', None),    # an account of uid 0 is root already
    (1000, 'kdump', None),  # not root: nothing to drop, nothing possible
    (998, 'kdump', None),
])
def test_drop_plan(euid, name, expected):
    lookup = fake_getpwnam({'kdump': (998, 997), 'root2': (0, 0)})
    assert account.plan(euid, name, lookup) == expected


def test_drop_plan_unknown_account():
    with pytest.raises(SystemExit, match='the configured account ghost does not exist'):
        account.plan(0, 'ghost', fake_getpwnam({}))


# The interpreter the role's launcher runs: its standard library is readable by every account, which the test's
# own interpreter (pyenv's, under /root) is not.
SYSTEM_PYTHON = '/usr/bin/python3'
needs_root = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists(SYSTEM_PYTHON), reason='a real drop needs root')


def srun(*args):
    """Run kdump-collector as the launcher does (system python3 -I)."""
    return subprocess.run([SYSTEM_PYTHON, '-I', PROG] + list(args), capture_output=True, check=False, timeout=120)


@pytest.fixture
def nobody_tree():
    """A collector tree nobody can reach (pytest's tmp_path lies in a root-only directory) and owns."""
    base = tempfile.mkdtemp(prefix='kdump-collector-drop-', dir='/tmp')
    os.chmod(base, 0o755)
    nobody = pwd.getpwnam('nobody')
    for sub in ('root', 'state'):
        os.mkdir(os.path.join(base, sub))
        os.chown(os.path.join(base, sub), nobody.pw_uid, nobody.pw_gid)
    make_entry(os.path.join(base, 'root', 'web1'), 'web1', STAMP, fixture_text('dmesg-sysrq-6.1.txt'), FLAT)
    for dirpath, dirnames, filenames in os.walk(os.path.join(base, 'root')):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), nobody.pw_uid, nobody.pw_gid)
    cfg = write_config(os.path.join(base, 'collector.json'), {
        'account': 'nobody', 'root': os.path.join(base, 'root'), 'db': os.path.join(base, 'state', 'index.db')})
    yield base, cfg, nobody
    shutil.rmtree(base)


@needs_root
def test_root_runs_index_and_queries_as_the_account(nobody_tree):
    base, cfg, nobody = nobody_tree
    indexed = srun('--config', cfg, 'index')
    assert indexed.returncode == 0, indexed.stderr
    listed = srun('--config', cfg, 'list', '--json')
    assert listed.returncode == 0 and json.loads(listed.stdout)[0]['state'] == 'complete'
    status = srun('--config', cfg, 'crash-status', '--host', 'web1', '--expect', 'sysrq', '--index')
    assert status.returncode == 0 and json.loads(status.stdout)['hosts']['web1']['found'] is True
    state = os.path.join(base, 'state')
    owners = {name: os.stat(os.path.join(state, name)) for name in os.listdir(state)}
    assert 'index.db' in owners
    assert all(st_.st_uid == nobody.pw_uid and st_.st_gid == nobody.pw_gid for st_ in owners.values()), owners
    # The dump account's umask: nothing it writes is world-readable.
    assert all(not st_.st_mode & stat.S_IROTH for st_ in owners.values())


@needs_root
def test_root_cannot_write_where_the_account_cannot(nobody_tree):
    base, cfg, _nobody = nobody_tree
    result = srun('--config', cfg, 'index', '--db', os.path.join(base, 'root-only.db'))
    assert result.returncode == 2 and b'unable to open database file' in result.stderr
    assert not os.path.exists(os.path.join(base, 'root-only.db'))


@needs_root
def test_drop_is_for_good():
    code = ('import os, sys; sys.path.insert(0, %r); from kdump_collector import account\n'
            'assert account.become("nobody")\n'
            'print(os.getresuid(), os.getresgid(), os.getgroups())\n'
            'try:\n    os.setuid(0)\nexcept PermissionError:\n    print("no way back")\n') % os.path.dirname(PROG)
    result = subprocess.run([SYSTEM_PYTHON, '-I', '-c', code], capture_output=True, text=True, check=False)
    nobody = pwd.getpwnam('nobody')
    ids = (nobody.pw_uid,) * 3, (nobody.pw_gid,) * 3
    assert result.stdout.splitlines() == ['%s %s %s' % (ids[0], ids[1], [nobody.pw_gid]), 'no way back'], result.stderr
