# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Proof that an edited shell file does what the editor meant, by the shells that will source it.

Before a file is written, the new text must pass, in each shell given (dash and bash on Debian):

1. the scanner finds nothing in it that would run, write or block (only assignments, the no-op and
   variable builtins, and compound commands of them), so that sourcing it below is harmless;
2. `sh -n` accepts it;
3. sourced with `set -a` under `env -i`, with PATH an empty directory, in an empty directory: nothing on
   stderr, no file created, and every variable equal to what sourcing the text without the edited lines
   gives, except the changed keys, which hold exactly their new values or are unset; every variable the
   text sets is one the scanner knows it assigns, with the value the scanner read where it read one.

The values are printed by the shells' own printf, NUL-separated, so no program is started after sourcing.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

from ansible_collections.fleet.kdump.plugins.module_utils._shell_syntax import NAME, parse

# bash keeps the last argument of the previous command in $_: it differs between any two texts.
_IGNORED = frozenset(('_',))
_EXPORTED = re.compile(r'^(?:export|declare -x) ([A-Za-z_][A-Za-z0-9_]*)', re.MULTILINE)
_FILES = ('empty', 'base', 'new')
TIMEOUT = 30


class ProofError(Exception):
    """The new text could not be proved: the message says what and where."""


def _shown(value):
    return 'unset' if value is None else repr(value)


class Proof(object):
    """Runs the shells. `run(args, cwd)` returns (rc, stdout bytes, stderr bytes); `shells` is [(name, path), ...]."""

    def __init__(self, run, shells, env, timeout=None, tmpdir=None):
        self.run = run
        self.shells = shells
        self.env = env
        self.timeout = timeout
        self.tmpdir = tmpdir

    def prove(self, new, base, changes, static):
        """Raise ProofError unless `new` is `base` plus exactly `changes` (KEY -> value, None = unset) in every shell.

        static: NAME -> value the scanner read in `new`; each must be what the shells compute.
        """
        script = parse(new)
        if script.error:
            raise ProofError('the new content cannot be read as sh: %s' % script.error)
        if script.hazards:
            found = '; '.join('line %d %s' % hazard for hazard in sorted(set(script.hazards))[:5])
            raise ProofError('%s, when the file is sourced; only assignments, comments and compound commands of them '
                             'can be proved harmless' % found)
        known = set(assignment.name for assignment in script.assignments) | set(changes)
        directory = tempfile.mkdtemp(prefix='kdump_config-proof-', dir=self.tmpdir)
        try:
            for name, text in zip(_FILES, ('', base, new)):
                with open(os.path.join(directory, name), 'w', encoding='utf-8', errors='surrogateescape', newline='') as handle:
                    handle.write(text)
            os.mkdir(os.path.join(directory, 'bin'))
            for shell, path in self.shells:
                self._prove_in(shell, path, directory, changes, static, known)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def _shell(self, path, directory, args):
        command = [self.env, '-i', 'PATH=' + os.path.join(directory, 'bin'), path] + args
        if self.timeout:
            command = [self.timeout, '-k', '5', str(TIMEOUT)] + command
        rc, out, err = self.run(command, directory)
        if sorted(os.listdir(directory)) != sorted(_FILES + ('bin',)) or os.listdir(os.path.join(directory, 'bin')):
            raise ProofError('sourcing the new content created files')
        return rc, out, err.decode('utf-8', 'replace').strip()

    def _prove_in(self, shell, path, directory, changes, static, known):
        rc, dummy, err = self._shell(path, directory, ['-n', 'new'])
        if rc or err:
            raise ProofError('%s -n refuses the new content: %s' % (shell, err or 'exit status %d' % rc))
        listing = 'set -a\n' + ''.join("(. ./%s; export -p; printf '\\0')\nprintf '\\0'\n" % name for name in _FILES)
        names = set(known)
        for section in self._sections(shell, path, directory, listing, 'list'):
            names.update(_EXPORTED.findall('\0'.join(section)))
        names = sorted(name for name in names if NAME.fullmatch(name) and name not in _IGNORED)
        printing = ''.join('[ "${%s+x}" = x ] && printf \'%%s=%%s\\0\' %s "$%s"\n' % (name, name, name) for name in names)
        dump = 'set -a\n' + ''.join("(. ./%s\n%s:)\nprintf '\\0'\n" % (name, printing) for name in _FILES)
        empty, base, new = (_pairs(section) for section in self._sections(shell, path, directory, dump, 'read'))
        expected = dict(base)
        for key, value in changes.items():
            if value is None:
                expected.pop(key, None)
            else:
                expected[key] = value
        for name in sorted(set(expected) | set(new)):
            if expected.get(name) != new.get(name):
                raise ProofError('in %s, %s is %s after the change instead of %s%s' % (
                    shell, name, _shown(new.get(name)), _shown(expected.get(name)),
                    '' if name in changes else ' (it is not managed: does it refer to a managed key?)'))
        for name in sorted(new):
            if new[name] != empty.get(name) and name not in known:
                raise ProofError('in %s, the new content sets %s, which the scanner did not see assigned' % (shell, name))
        for name, value in sorted(static.items()):
            if name not in changes and new.get(name) != value:
                raise ProofError('in %s, %s is %s where the scanner read %s' % (shell, name, _shown(new.get(name)), _shown(value)))

    def _sections(self, shell, path, directory, script, what):
        rc, out, err = self._shell(path, directory, ['-c', script])
        if rc or err:
            raise ProofError('sourcing the new content in %s failed (%s): %s' % (shell, what, err or 'exit status %d' % rc))
        # Every entry and every section ends with a NUL: an empty entry closes a section.
        sections = [[]]
        for entry in out.decode('utf-8', 'surrogateescape').split('\0')[:-1]:
            if entry:
                sections[-1].append(entry)
            else:
                sections.append([])
        if len(sections) != len(_FILES) + 1:
            raise ProofError('sourcing the new content in %s gave unreadable output' % shell)
        return sections[:-1]


def _pairs(entries):
    """NAME -> value of NAME=value entries."""
    return dict(entry.partition('=')[::2] for entry in entries)
