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

from ansible_collections.fleet.kdump.plugins.module_utils._host_state import (
    KDUMP_DEFAULTS,
    SECRET_MASK,
    crash_loaded,
    host_path,
    masked_settings,
)
from ansible_collections.fleet.kdump.plugins.module_utils._kdump_keys import (
    KEY_NAME_RE,
    LOAD_TIME_KEYS,
    SECRET_KEYS,
    normalise,
)
from ansible_collections.fleet.kdump.plugins.module_utils._shell_assign import (
    ASSIGNMENT,
    Unknown,
    Unsupported,
    logical_line_end,
    physical_line_end,
    scan_assignments,
)

DEFAULT_PATH = KDUMP_DEFAULTS
C_LOCALE = {'LANG': 'C', 'LC_ALL': 'C', 'LC_MESSAGES': 'C'}

_STATE_RE = re.compile(r'^current state\s*:\s*(ready|Not ready) to (kdump|fadump)\s*$')
_SHOW_FIELD_RE = re.compile(r'^([A-Z_][A-Z0-9_]*):?[ \t]+(.*?)\s*$')


def quote(value):
    """Double-quote a value the same way for dash and systemd's EnvironmentFile= parser."""
    return '"%s"' % re.sub(r'([\\"`$])', r'\\\1', value)


class ConfigText(object):
    """The file as a list of entries: [key or None, raw text, parsed value]."""

    def __init__(self, text):
        self.entries = []
        pos = 0
        while pos < len(text):
            match = ASSIGNMENT.match(text, pos)
            if not match:
                end = physical_line_end(text, pos)
                self.entries.append([None, text[pos:end], None])
                pos = end
                continue
            end = logical_line_end(text, pos)
            try:
                assignments, stop = scan_assignments(text, pos)
            except Unsupported:
                assignments, stop = [], end
            # Only a line that is one assignment (and a comment) has a value this editor can replace.
            if len(assignments) == 1 and not isinstance(assignments[0][1], Unknown) and text[stop:stop + 1] != ';':
                value = assignments[0][1]
            else:
                value = Unknown(text[match.end():end].rstrip('\n'))
            self.entries.append([match.group(2), text[pos:end], value])
            pos = end

    def text(self):
        return ''.join(entry[1] for entry in self.entries)

    def effective(self):
        """KEY -> value as the shell sees it after sourcing (later assignments win)."""
        values = {}
        for key, _line, value in self.entries:
            if key is not None:
                values[key] = value
        return values

    def _template_index(self, key):
        template = re.compile(r'^[ \t]*#[ \t]*(?:export[ \t]+)?%s=' % re.escape(key))
        for index, entry in enumerate(self.entries):
            if entry[0] is None and template.match(entry[1]):
                return index
        return None

    def apply(self, desired):
        """Set (value str) or remove (value None) keys in place. Returns the keys whose effective value changed."""
        current = self.effective()
        changed = []
        inserts = {}
        for key, value in desired.items():
            if value is None and key not in current:
                continue
            if value is not None and current.get(key) == value:
                continue
            changed.append(key)
            indexes = [i for i, entry in enumerate(self.entries) if entry[0] == key]
            new_line = None if value is None else '%s=%s\n' % (key, quote(value))
            for index in indexes:
                self.entries[index] = [None, '', None]
            if new_line is None:
                continue
            if indexes:
                self.entries[indexes[-1]] = [key, new_line, value]
            else:
                inserts.setdefault(self._template_index(key), []).append([key, new_line, value])
        if inserts:
            entries = []
            for index, entry in enumerate(self.entries):
                entries.append(entry)
                entries.extend(inserts.get(index, []))
            entries.extend(inserts.get(None, []))
            for index, entry in enumerate(entries[1:]):
                # A line inserted after an unterminated last line must start on its own line.
                if entry[0] is not None and not entries[index][1].endswith('\n') and entries[index][1]:
                    entries[index] = [entries[index][0], entries[index][1] + '\n', entries[index][2]]
            self.entries = entries
        self.entries = [entry for entry in self.entries if entry[1]]
        return changed

    def masked_text(self):
        """The text with secret values replaced, for diffs."""
        return ''.join('%s=%s\n' % (key, SECRET_MASK) if key in SECRET_KEYS else raw for key, raw, dummy in self.entries)


def public_settings(values):
    """Effective settings for results: unknown values as their source text, secrets masked."""
    return masked_settings(dict((key, value.source if isinstance(value, Unknown) else value) for key, value in values.items()))


def _printable(text):
    """Text safe to return as JSON (bytes that are not UTF-8 become U+FFFD)."""
    return text.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')


def validate_settings(settings):
    """Normalise the requested settings. Returns (KEY -> str or None, list of error messages)."""
    desired = {}
    errors = []
    for key, value in settings.items():
        if not KEY_NAME_RE.match(key):
            errors.append('%s: invalid variable name; expected [A-Z_][A-Z0-9_]* (kdump-tools variables are upper case)' % key)
            continue
        if value is None:
            desired[key] = None
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
        state = _STATE_RE.match(line.strip())
        if state:
            result['current_state'] = '%s to %s' % state.groups()
            result['ready'] = state.group(1) == 'ready'
        elif line.startswith('crashkernel addr:'):
            result['crashkernel_addr'] = line.partition(':')[2].strip()
        elif line.strip() == 'kexec command:' and index + 1 < len(lines):
            result['kexec_command'] = lines[index + 1].strip()
        else:
            field = _SHOW_FIELD_RE.match(line)
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
        if self.root == '/':
            self.path = os.path.realpath(self.path)
        self.result = {'changed': False, 'changed_keys': [], 'reloaded': False, 'reload_action': 'none'}

    def run(self):
        settings = self.params['settings'] or {}
        for key in SECRET_KEYS:
            if settings.get(key) not in (None, ''):
                # Masks the secret everywhere in the output, the echoed module arguments included.
                self.module.no_log_values.add(str(settings[key]))
        desired, errors = validate_settings(settings)
        if errors:
            self.module.fail_json(msg='Invalid kdump-tools settings, %s left untouched: %s' % (self.path, '; '.join(errors)), errors=errors)
        exists = os.path.exists(self.path)
        before = ''
        if exists:
            try:
                with open(self.path, encoding='utf-8', errors='surrogateescape', newline='') as handle:
                    before = handle.read()
            except (IOError, OSError) as exc:
                self.module.fail_json(msg='Cannot read %s: %s' % (self.path, exc))
        config = ConfigText(before)
        before_masked = _printable(config.masked_text())
        changed_keys = config.apply(desired)
        after = config.text()
        self.result['changed_keys'] = sorted(changed_keys)
        self.result['settings'] = public_settings(config.effective())
        if after != before:
            self.result['changed'] = True
            directory = os.path.dirname(self.path)
            if not os.path.isdir(directory):
                self.module.fail_json(msg='Directory %s does not exist: is kdump-tools installed?' % directory)
            if self.module._diff:
                self.result['diff'] = {
                    'before': before_masked, 'after': _printable(config.masked_text()),
                    'before_header': '%s (content)' % self.path, 'after_header': '%s (content)' % self.path,
                }
            if not self.module.check_mode:
                self._write(after, exists)
        if self.params['reload']:
            self._reload(config.effective(), changed_keys)
        self.module.exit_json(**self.result)

    def _write(self, text, exists):
        if exists and self.params['backup']:
            self.result['backup_file'] = self.module.backup_local(self.path)
        fd, tmp = tempfile.mkstemp(dir=self.module.tmpdir)
        # surrogateescape and newline='' give back undecodable bytes and line endings exactly as read.
        with os.fdopen(fd, 'w', encoding='utf-8', errors='surrogateescape', newline='') as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        self.module.atomic_move(tmp, self.path)
        if not exists:
            # atomic_move applies the umask to new files; the packaged file is 0644.
            os.chmod(self.path, 0o644)

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
