# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kdump_config's editor on random values and on existing files built from random sh constructs, checked by dash and bash.

The oracle is the shells themselves: each file is sourced before and after the edit under `env -i` with `set -a`,
and every variable must end up as before except the managed keys, which hold exactly what was asked; nothing may
run (a `touch` would leave a file in the working directory). The generator knows where it put every key, so it
also says which keys the editor must refuse to touch.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from hypothesis import assume, given, strategies as st

from ansible_collections.fleet.kdump.tests.unit.hypothesis_budget import examples

from ansible_collections.fleet.kdump.plugins.module_utils._kdump_config import ConfigError, ConfigText, validate_settings
from ansible_collections.fleet.kdump.plugins.module_utils._shell_proof import Proof

SHELLS = [('dash', '/bin/dash'), ('bash', '/bin/bash')]
SHELL_PATHS = [path for name, path in SHELLS]
KEYS = ['K0', 'K1', 'K2', 'K3', 'USE_KDUMP_X']

# Printable text (what the module accepts for a free key), rich in shell metacharacters.
values = st.text(alphabet=st.one_of(st.sampled_from(list('"\'`$\\;|&()<>*?~{}=:#!%^ -_/.,@[]')),
                                    st.characters(min_codepoint=32, max_codepoint=0x2fff)), max_size=24).filter(str.isprintable)


def run(args, cwd):
    result = subprocess.run(args, cwd=cwd, capture_output=True, timeout=60, check=False)
    return result.returncode, result.stdout, result.stderr


PROOF = Proof(run, SHELLS, '/usr/bin/env', '/usr/bin/timeout')


def source(tmp_path, text, shell):
    """NAME -> value after sourcing `text` with set -a under env -i, in an empty directory; fails on stderr or a new file."""
    directory = tmp_path / ('src-%s' % os.path.basename(shell))
    directory.mkdir(exist_ok=True)
    (directory / 'f').write_text(text, encoding='utf-8', errors='surrogateescape')
    out = subprocess.run(['/usr/bin/env', '-i', 'PATH=/nonexistent', shell, '-c', 'set -a; . ./f; exec /usr/bin/env -0'],
                         cwd=str(directory), capture_output=True, timeout=60, check=False)
    assert out.returncode == 0 and out.stderr == b'', out.stderr
    assert sorted(os.listdir(str(directory))) == ['f'], 'sourcing ran a command'
    return dict(entry.partition('=')[::2] for entry in out.stdout.decode('utf-8', 'surrogateescape').split('\0') if entry)


# --- words and blocks of an existing file ------------------------------------------------------------------

def word(draw):
    """A shell word with a static value: bare, double-quoted, single-quoted, escaped, or a mix."""
    bare = draw(st.text(alphabet='abcXYZ019_/.,:@%+-=', max_size=6))
    inner = draw(st.text(alphabet='ab $`"\\\'#;|&()<>*?~', max_size=6))
    style = draw(st.sampled_from(['bare', 'double', 'single', 'escaped', 'mixed', 'empty']))
    if style == 'bare':
        return bare
    if style == 'double':
        return '"%s"' % inner.replace('\\', '\\\\').replace('"', '\\"').replace('$', '\\$').replace('`', '\\`')
    if style == 'single':
        return "'%s'" % inner.replace("'", '')
    if style == 'escaped':
        return ''.join('\\' + char if char in ' $`"\\\'#;|&()<>*?~' else char for char in inner)
    if style == 'mixed':
        return '%s"%s"\'%s\'' % (bare, inner.replace('\\', '').replace('"', '').replace('$', '').replace('`', ''), inner.replace("'", ''))
    return '""'


@st.composite
def blocks(draw):
    """(text, {key: True when editable, False when assigned where only a shell could change it})."""
    key = draw(st.sampled_from(KEYS))
    other = draw(st.sampled_from(KEYS))
    value = word(draw)
    kind = draw(st.sampled_from(['plain', 'plain', 'plain', 'export', 'comment', 'template', 'blank', 'multi', 'two', 'if', 'while',
                                 'for', 'forvar', 'case', 'brace', 'subshell', 'heredoc', 'heredoc-quoted', 'heredoc-tabs',
                                 'string', 'continued', 'parameter', 'unset', 'prefix', 'andor']))
    indent = draw(st.sampled_from(['', ' ', '\t']))
    comment = draw(st.sampled_from(['', ' # note', '  #x=y']))
    table = {
        'plain': ('%s%s=%s%s\n' % (indent, key, value, comment), {key: True}),
        'export': ('export %s=%s%s\n' % (key, value, comment), {key: True}),
        'comment': ('# %s\n' % value, {}),
        'template': ('#%s=%s\n' % (key, value), {}),
        'blank': ('\n', {}),
        'multi': ('%s=%s %s=%s\n' % (key, value, other, value), {key: False, other: False}),
        'two': ('%s=%s; %s=%s\n' % (key, value, other, value), {key: False, other: False}),
        'if': ('if true; then\n  %s=%s\nelse\n  %s=x\nfi\n' % (key, value, other), {key: False, other: False}),
        'while': ('while false; do %s=%s; done\n' % (key, value), {key: False}),
        'for': ('for i in a b; do\n%s=$i\ndone\n' % key, {key: False, 'i': False}),
        'forvar': ('for %s in %s; do :; done\n' % (key, value or 'x'), {key: False}),
        'case': ('case %s in\n  *) %s=%s;;\nesac\n' % (value or 'x', key, value), {key: False}),
        'brace': ('{ %s=%s; }\n' % (key, value), {key: False}),
        'subshell': ('(\n%s=%s\n)\n' % (key, value), {key: False}),
        'heredoc': (': <<EOF\n%s=%s\nEOF\n' % (key, value.replace('$', '').replace('`', '').replace('\\', '')), {key: False}),
        'heredoc-quoted': (": <<'EOF'\n%s=$(touch PWNED)\nEOF\n" % key, {key: False}),
        'heredoc-tabs': (': <<-EOF\n\t%s=1\n\tEOF\n' % key, {key: False}),
        'string': ('%s="line\n%s=%s\nend"\n' % (other, key, value.replace('"', '').replace('\\', '').replace('$', '').replace('`', '')),
                   {key: False, other: False}),
        'continued': ('%s=a\\\n%s=b\n' % (other, key), {key: False, other: False}),
        'parameter': (': ${%s:=%s}\n' % (key, ''.join(char for char in value if char not in '}$`\\"\'')), {key: False}),
        'unset': ('unset %s\n' % key, {key: False}),
        'prefix': ('%s=%s :\n' % (key, value), {key: False}),
        'andor': ('true && %s=%s\n' % (key, value), {key: False}),
    }
    return table[kind]


@st.composite
def files(draw):
    parts = draw(st.lists(blocks(), max_size=8))
    text = ''.join(part[0] for part in parts)
    where = {}
    for keys in (part[1] for part in parts):
        for key, editable in keys.items():
            where[key] = where.get(key, True) and editable
    if text and draw(st.booleans()):
        text = text[:-1]  # no final newline
    return text, where


def expected_after(before, changes):
    expected = dict(before)
    for key, value in changes.items():
        if value is None:
            expected.pop(key, None)
        else:
            expected[key] = value
    return expected


# --- the properties ------------------------------------------------------------------------------------------

@examples(0.5)
@given(st.dictionaries(st.sampled_from(KEYS), values, min_size=1, max_size=4))
def test_round_trip_of_any_value(tmp_path_factory, settings):
    tmp_path = tmp_path_factory.mktemp('round')
    desired, errors = validate_settings(settings)
    assert errors == []
    config = ConfigText('# kdump-tools\nUSE_KDUMP=1\n#K1=\n')
    changed = config.apply(desired)
    PROOF.prove(config.text(), config.base_text(), dict((key, desired[key]) for key in changed),
                dict((key, value) for key, value in config.effective().items() if isinstance(value, str)))
    for shell in SHELL_PATHS:
        sourced = source(tmp_path, config.text(), shell)
        assert dict((key, sourced.get(key)) for key in desired) == desired
    again = ConfigText(config.text())
    assert again.apply(desired) == [] and again.text() == config.text()


@examples(0.5)
@given(files(), st.dictionaries(st.sampled_from(KEYS), st.one_of(st.none(), values), min_size=1, max_size=3))
def test_existing_files_of_random_constructs(tmp_path_factory, existing, settings):
    tmp_path = tmp_path_factory.mktemp('constructs')
    text, where = existing
    assume(not text.endswith('\\'))
    desired = validate_settings(settings)[0]
    config = ConfigText(text)
    refused = sorted(key for key in desired if where.get(key) is False)
    try:
        changed = config.apply(desired)
    except ConfigError as exc:
        assert refused, exc
        for key in refused:
            assert '%s: line' % key in str(exc)
        assert config.text() == text
        return
    assert not refused, 'the editor changed %s although the file assigns it where only a shell could' % refused
    changes = dict((key, desired[key]) for key in changed)
    PROOF.prove(config.text(), config.base_text(), changes,
                dict((key, value) for key, value in config.effective().items() if isinstance(value, str)))
    for shell in SHELL_PATHS:
        before = source(tmp_path, text, shell)
        after = source(tmp_path, config.text(), shell)
        before.pop('_', None)
        after.pop('_', None)
        assert after == expected_after(before, dict((key, value) for key, value in desired.items() if key in changed))
        for key, value in desired.items():
            assert after.get(key) == value
    again = ConfigText(config.text())
    assert again.apply(desired) == [] and again.text() == config.text()


@pytest.mark.parametrize('text', ['K0=1\\', 'K0="a\\\\"\\', '# c\nK1=2\\'])
def test_a_final_backslash_never_swallows_an_added_key(text):
    config = ConfigText(text)
    with pytest.raises(ConfigError, match='ends with a backslash and no newline'):
        config.apply({'NEW': 'v'})
    assert config.text() == text
