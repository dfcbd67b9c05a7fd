# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Read, edit and apply /etc/default/kdump-tools.

The file is sourced by dash (kdump-config, the init script) and read by systemd as an
EnvironmentFile=, so values are written as KEY="value" with \\ " ` $ escaped: both parsers
give the same string back and neither executes anything. Existing lines are parsed with shell
quoting rules; a value that needs expansion (``$``, backquotes, ``~``) or a line that is more
than one assignment is treated as unknown, never evaluated.
"""

from __future__ import annotations

import os
import re
import tempfile

from ansible_collections.fleet.kdump.plugins.module_utils._host_files import NotRegular, OutsideRoot, host_path, read_bytes, real_path
from ansible_collections.fleet.kdump.plugins.module_utils._host_state import KDUMP_DEFAULTS, SECRET_MASK, crash_loaded, masked_settings
from ansible_collections.fleet.kdump.plugins.module_utils._kdump_keys import (
    KEY_NAME_RE,
    LOAD_TIME_KEYS,
    SECRET_KEYS,
    environment_key,
    normalise,
)
from ansible_collections.fleet.kdump.plugins.module_utils._shell_assign import Unknown, word_value
from ansible_collections.fleet.kdump.plugins.module_utils._shell_proof import Proof, ProofError
from ansible_collections.fleet.kdump.plugins.module_utils._shell_syntax import parse

DEFAULT_PATH = KDUMP_DEFAULTS
# The packaged file is 4 KiB; anything near this is not one, and is never read in part.
MAX_BYTES = 1 << 20
C_LOCALE = {'LANG': 'C', 'LC_ALL': 'C', 'LC_MESSAGES': 'C'}

_STATE_RE = re.compile(r'current state\s*:\s*(ready|Not ready) to (kdump|fadump)\s*')
_SHOW_FIELD_RE = re.compile(r'([A-Z_][A-Z0-9_]*):?[ \t]+(.*?)\s*')


def quote(value):
    """Double-quote a value the same way for dash and systemd's EnvironmentFile= parser."""
    return '"%s"' % re.sub(r'([\\"`$])', r'\\\1', value)


# Why an assignment in one of these places cannot be edited: sh reads it differently from a line of its own.
_PLACES = {
    'compound': 'inside a compound command (if, while, until, for, case, { }, ( ) or a function body)',
    'prefix': 'before a command word, so that it applies to that command only',
    'parameter': 'through a ${NAME=word} expansion',
    'for': 'as the variable of a for loop',
    'readonly': 'by readonly',
    'unset': 'by unset',
    'heredoc': 'as text inside a here-document, which sh never assigns',
    'string': 'as text inside a quoted string that spans several lines',
    'continuation': 'as text inside a word continued with a backslash-newline',
}


class ConfigError(Exception):
    """The requested change cannot be made safely; the message names the lines."""


class Entry(object):
    """A span of whole lines of the file: one editable assignment (key set) or anything else, kept byte for byte."""

    __slots__ = ('key', 'text', 'value', 'line', 'added')

    def __init__(self, key, text, value=None, line=None, added=False):
        self.key = key
        self.text = text
        self.value = value
        self.line = line
        self.added = added


class ConfigText(object):
    """The file as entries; an assignment is editable only when it is the one plain command of its line."""

    def __init__(self, text):
        self.script = parse(text)
        self.entries = []
        self.blocked = {}  # KEY -> sentences saying where sh assigns it in a way this editor cannot change
        lines = text.split('\n')
        lines = [line + '\n' for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
        spans = self._spans(len(lines))
        for first, last, commands in spans:
            chunk = ''.join(lines[first - 1:last])
            editable = self._editable(first, last, commands)
            if editable:
                assignment = commands[0].assignments[0]
                self.entries.append(Entry(assignment.name, chunk, word_value(assignment.word), first))
            else:
                self.entries.append(Entry(None, chunk, None, first))
                self._block(first, last, commands)
        for assignment in self.script.assignments:
            if assignment.place in _PLACES:
                self.blocked.setdefault(assignment.name, []).append('line %d assigns it %s' % (assignment.line, _PLACES[assignment.place]))

    def _spans(self, count):
        """(first line, last line, top-level commands) covering every line, commands sharing a line merged."""
        spans = []
        for command in self.script.commands:
            if spans and command.line <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], command.end_line), spans[-1][2] + [command])
            else:
                spans.append((command.line, command.end_line, [command]))
        if self.script.error:
            # The commands before the error are understood; the rest of the file is kept as one block.
            start = spans[-1][1] + 1 if spans else 1
            spans.append((min(start, max(count, 1)), max(count, 1), []))
        result = []
        line = 1
        for first, last, commands in spans:
            result.extend((number, number, []) for number in range(line, first))
            result.append((first, last, commands))
            line = last + 1
        result.extend((number, number, []) for number in range(line, count + 1))
        return result

    @staticmethod
    def _editable(first, last, commands):
        if first != last or len(commands) != 1:
            return False
        command = commands[0]
        if not command.plain or command.kind not in ('assign', 'export') or len(command.assignments) != 1:
            return False
        word = command.assignments[0].word
        return not (word.multiline or word.continued) and command.words == (1 if command.kind == 'assign' else 2)

    def _block(self, first, last, commands):
        """Record why the top-level assignments of a span that is not editable cannot be changed."""
        for command in commands:
            for assignment in command.assignments:
                word = assignment.word
                if word.multiline:
                    why = 'with a value that spans several lines'
                elif word.continued or command.line != command.end_line:
                    why = 'on a line continued with a backslash-newline'
                elif not command.plain:
                    why = 'in a command with a pipe, &&, ||, !, a redirection or a here-document'
                elif len(commands) > 1:
                    why = 'on a line that holds several commands'
                elif len(command.assignments) > 1:
                    why = 'together with other variables in one command'
                else:
                    why = 'in a command this editor does not rewrite'
                self.blocked.setdefault(assignment.name, []).append('line %d assigns it %s' % (assignment.line, why))

    def text(self):
        return ''.join(entry.text for entry in self.entries)

    def base_text(self):
        """The text without the lines apply() added: what the proof compares the new text with."""
        return ''.join(entry.text for entry in self.entries if not entry.added)

    def effective(self):
        """KEY -> value as the shell sees it after sourcing (later assignments win); Unknown where it cannot be read."""
        text = self.text()
        script = parse(text)
        lines = text.split('\n')
        plain = set(id(assignment) for command in script.commands if command.plain for assignment in command.assignments)
        values = {}
        for assignment in sorted(script.assignments, key=lambda assignment: assignment.line):
            if assignment.place in ('heredoc', 'string', 'continuation'):
                continue
            if id(assignment) in plain:
                values[assignment.name] = word_value(assignment.word)
            else:
                values[assignment.name] = Unknown(lines[assignment.line - 1].strip())
        return values

    def _template_index(self, key):
        template = re.compile(r'[ \t]*#[ \t]*(?:export[ \t]+)?%s=' % re.escape(key))
        for index, entry in enumerate(self.entries):
            if entry.key is None and '\n' not in entry.text.rstrip('\n') and template.match(entry.text):
                return index
        return None

    def check(self, keys):
        """Raise ConfigError when a key to manage is assigned where this editor cannot change it, or the file cannot be read."""
        problems = []
        if self.script.error:
            problems.append('%s: the file is not valid sh there, fix it by hand' % self.script.error)
        for key in sorted(keys):
            for where in self.blocked.get(key, ()):
                problems.append('%s: %s' % (key, where))
        if problems:
            raise ConfigError('; '.join(problems))

    def apply(self, desired):
        """Set (value str) or remove (value None) keys in place. Returns the keys whose effective value changed.

        Raises ConfigError (and changes nothing) when a key is assigned where only a shell could change it.
        """
        self.check(desired)
        current = self.effective()
        changed = []
        inserts = {}
        for key, value in desired.items():
            if value is None and key not in current:
                continue
            if value is not None and current.get(key) == value:
                continue
            changed.append(key)
            indexes = [i for i, entry in enumerate(self.entries) if entry.key == key]
            for index in indexes:
                self.entries[index] = Entry(None, '', added=True)
            if value is None:
                continue
            new = Entry(key, '%s=%s\n' % (key, quote(value)), value, added=True)
            if indexes:
                self.entries[indexes[-1]] = new
            else:
                inserts.setdefault(self._template_index(key), []).append(new)
        if inserts:
            self._insert(inserts)
        self.entries = [entry for entry in self.entries if entry.text]
        return changed

    def _insert(self, inserts):
        """Put the new lines after their template comments (index) or at the end (None)."""
        entries = []
        for index, entry in enumerate(self.entries + [None]):
            if entry is not None:
                entries.append(entry)
            added = inserts.get(index if entry is not None else None)
            if not added:
                continue
            last = next((old for old in reversed(entries) if old.text), None)
            if last is not None and not last.text.endswith('\n'):
                if entry is None and self.script.trailing_backslash:
                    raise ConfigError('line %d ends with a backslash and no newline: a line added after it would continue it; '
                                      'end the file with a newline' % last.line)
                # The last line has no newline: it gets one (an entry of its own, so that the base text keeps it too).
                entries.append(Entry(None, '\n'))
            entries.extend(added)
        self.entries = entries

    def masked_text(self):
        """The text with secret values replaced, for diffs."""
        return ''.join('%s=%s\n' % (entry.key, SECRET_MASK) if entry.key in SECRET_KEYS else entry.text for entry in self.entries)


def public_settings(values):
    """Effective settings for results: unknown values as their source text, secrets masked."""
    return masked_settings(dict((key, value.source if isinstance(value, Unknown) else value) for key, value in values.items()))


def _printable(text):
    """Text safe to return as JSON (bytes that are not UTF-8 become U+FFFD)."""
    return text.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')


def validate_settings(settings, allowed_environment=()):
    """Normalise the requested settings. Returns (KEY -> str or None, list of error messages).

    A key of the environment (PATH, LD_PRELOAD, IFS...) may be set only when listed in `allowed_environment`;
    removing one (None) is always allowed.
    """
    desired = {}
    errors = []
    for key, value in settings.items():
        if not isinstance(key, str) or not KEY_NAME_RE.fullmatch(key):
            errors.append('%r: invalid variable name; expected [A-Z_][A-Z0-9_]* (kdump-tools variables are upper case)' % (key,))
            continue
        if value is None:
            desired[key] = None
            continue
        if environment_key(key) and key not in allowed_environment:
            errors.append('%s: refused: the shell that sources the file, the dynamic linker or the programs kdump-config runs read %s '
                          'from the environment (and systemd exports every key of the file to the kdump-tools services); list it '
                          'in allow_environment_keys to write it anyway' % (key, key))
            continue
        text, problem = normalise(key, value)
        if problem:
            shown = SECRET_MASK if key in SECRET_KEYS else text if text is not None else value
            errors.append('%s: invalid value %r; expected %s' % (key, shown, problem))
        desired[key] = text
    return desired, errors


def parse_show(output):
    """Parse `kdump-config show` output (decoration lines are ignored)."""
    result = {'current_state': None, 'ready': False}
    lines = output.splitlines()
    for index, line in enumerate(lines):
        state = _STATE_RE.fullmatch(line.strip())
        if state:
            result['current_state'] = '%s to %s' % state.groups()
            result['ready'] = state.group(1) == 'ready'
        elif line.startswith('crashkernel addr:'):
            result['crashkernel_addr'] = line.partition(':')[2].strip()
        elif line.strip() == 'kexec command:' and index + 1 < len(lines):
            result['kexec_command'] = lines[index + 1].strip()
        else:
            field = _SHOW_FIELD_RE.fullmatch(line)
            if field:
                result[field.group(1)] = field.group(2)
    return result


def plan_reload(values, changed_keys, loaded):
    """The kdump-config action that brings the kernel in line with the file, or None."""
    enabled = values.get('USE_KDUMP') not in (None, '', '0')
    if not enabled:
        return 'unload' if loaded else None
    if not loaded:
        return 'load'
    if LOAD_TIME_KEYS.intersection(changed_keys):
        return 'reload'
    return None


class KdumpConfig(object):
    """Converge /etc/default/kdump-tools (and optionally the loaded capture kernel) to the requested settings."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.root = self.params['root']
        self.path = host_path(self.root, self.params['path'])
        self.result = {'changed': False, 'changed_keys': [], 'reloaded': False, 'reload_action': 'none'}

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg='%s; %s left untouched' % (msg, self.path), **kwargs)

    def run(self):
        settings = self.params['settings'] or {}
        for key in SECRET_KEYS:
            if settings.get(key) not in (None, ''):
                # Masks the secret everywhere in the output, the echoed module arguments included.
                self.module.no_log_values.add(str(settings[key]))
        allowed = self.params['allow_environment_keys'] or []
        errors = ['allow_environment_keys: %r is not a variable name' % (key,) for key in allowed if not KEY_NAME_RE.fullmatch(key)]
        desired, invalid = validate_settings(settings, allowed)
        errors.extend(invalid)
        if errors:
            self.fail('Invalid kdump-tools settings: %s' % '; '.join(errors), errors=errors)
        real, exists, before = self._read()
        config = ConfigText(before)
        before_masked = _printable(config.masked_text())
        try:
            changed_keys = config.apply(desired)
        except ConfigError as exc:
            self.fail('Cannot manage %s safely: %s' % (', '.join(sorted(desired)), exc))
        after = config.text()
        effective = config.effective()
        self.result['changed_keys'] = sorted(changed_keys)
        self.result['settings'] = public_settings(effective)
        if after != before:
            self.result['changed'] = True
            if not os.path.isdir(os.path.dirname(real)):
                self.module.fail_json(msg='Directory %s does not exist: is kdump-tools installed?' % os.path.dirname(real))
            self._prove(config, dict((key, desired[key]) for key in changed_keys),
                        dict((key, value) for key, value in effective.items() if isinstance(value, str)))
            if self.module._diff:
                header = '%s (content)' % (real if real != self.path else self.path)
                self.result['diff'] = {'before': before_masked, 'after': _printable(config.masked_text()),
                                       'before_header': header, 'after_header': header}
            if not self.module.check_mode:
                self._write(real, after, exists)
        if self.params['reload']:
            self._reload(effective, changed_keys)
        self.module.exit_json(**self.result)

    def _read(self):
        """(host path to write, whether it exists, its text): links are followed only inside root."""
        try:
            real, exists = real_path(self.root, self.params['path'])
            data = read_bytes(self.root, self.params['path'], MAX_BYTES + 1) if exists else None
        except OutsideRoot as exc:
            self.fail('Refused: %s; kdump_config never reads or writes outside root (make it a file, or a link inside root)' % exc)
        except NotRegular as exc:
            self.fail('Refused: %s' % exc)
        except (IOError, OSError) as exc:
            if not isinstance(exc, FileNotFoundError):
                self.fail('Cannot read %s: %s' % (self.path, exc))
            # A missing directory on the way: reported below, if there is something to write.
            return self.path, False, ''
        if data is not None and len(data) > MAX_BYTES:
            self.fail('Refused: %s is larger than %d bytes, not a kdump-tools defaults file' % (real, MAX_BYTES))
        return real, exists and data is not None, (data or b'').decode('utf-8', 'surrogateescape')

    def _prove(self, config, changes, static):
        """Check the new text with dash and bash before writing it (in check mode too)."""
        shells = [(name, self.module.get_bin_path(name)) for name in ('dash', 'bash')]
        shells = [(name, path) for name, path in shells if path]
        if not any(name == 'bash' for name, dummy in shells):
            self.module.warn('bash is not installed: the new content of %s is proved with %s only'
                             % (self.path, ' and '.join(name for name, dummy in shells) or 'no shell'))
        if not shells:
            shells = [('sh', self.module.get_bin_path('sh', required=True))]
        # expand_user_and_vars=False: run_command would otherwise expand the $NAME of the scripts itself.
        proof = Proof(lambda args, cwd: self.module.run_command(args, cwd=cwd, encoding=None, expand_user_and_vars=False),
                      shells, self.module.get_bin_path('env', required=True), self.module.get_bin_path('timeout'),
                      self.module.tmpdir)
        try:
            proof.prove(config.text(), config.base_text(), changes, static)
        except ProofError as exc:
            self.fail('The new content could not be proved: %s' % exc)
        self.result['proved_with'] = [name for name, dummy in shells]

    def _write(self, real, text, exists):
        if exists and self.params['backup']:
            self.result['backup_file'] = self.module.backup_local(real)
        fd, tmp = tempfile.mkstemp(dir=self.module.tmpdir)
        # surrogateescape and newline='' give back undecodable bytes and line endings exactly as read.
        with os.fdopen(fd, 'w', encoding='utf-8', errors='surrogateescape', newline='') as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        # A link inside root is written through: the file it points to is replaced, the link stays.
        self.module.atomic_move(tmp, real)
        if not exists:
            # atomic_move applies the umask to new files; the packaged file is 0644.
            os.chmod(real, 0o644)

    def _reload(self, values, changed_keys):
        kdump_config = self.module.get_bin_path('kdump-config', opt_dirs=['/usr/sbin', '/sbin'])
        action = plan_reload(values, changed_keys, crash_loaded(self.root))
        if action:
            self.result.update(changed=True, reloaded=True, reload_action=action)
            if kdump_config is None:
                self.module.fail_json(msg='kdump-config %s is needed but kdump-config is not installed' % action, **self.result)
            if not self.module.check_mode:
                self._run_action(kdump_config, action)
        if kdump_config and not self.module.check_mode:
            # Not in check mode: every kdump-config invocation runs mkdir -p "$KDUMP_COREDIR".
            rc, out, err = self.module.run_command([kdump_config, 'show'], environ_update=C_LOCALE)
            self.result['kdump_show'] = parse_show(out)

    def _run_action(self, kdump_config, action):
        # kdump-config exit codes are not reliable: the sysfs state is the verdict.
        rc, out, err = self.module.run_command([kdump_config, action], environ_update=C_LOCALE)
        expected = action != 'unload'
        loaded = crash_loaded(self.root)
        if loaded != expected:
            hint = ' (the kernel exposes no crash_loaded file in sysfs: no kexec support)' if loaded is None else ''
            self.module.fail_json(
                msg='kdump-config %s did not leave a capture kernel %s%s' % (action, 'loaded' if expected else 'unloaded', hint),
                rc=rc, stdout=out, stderr=err, **self.result)
