# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The entry GRUB boots next, read from /boot/grub/grub.cfg and /boot/grub/grubenv as data.

grub-mkconfig's 00_header boots `next_entry` from grubenv when it is set (grub-reboot), else the
`set default=` of GRUB_DEFAULT (`${saved_entry}` for GRUB_DEFAULT=saved). An entry is named by its
position (`0`, `1>2` inside a submenu), its title or its id; titles and ids are matched at each level.
"""

from __future__ import annotations

import collections
import re

Entry = collections.namedtuple('Entry', ['title', 'ident', 'kernel', 'args', 'children'])
Entry.__doc__ = """A menuentry (kernel and args of its linux line) or a submenu (children)."""

_OPEN = re.compile(r'\s*(menuentry|submenu)\s')
_LINUX = re.compile(r'\s*linux(?:efi|16)?\s+(\S+)[ \t]*(.*)')
_SET_DEFAULT = re.compile(r'\s*set\s+default=(.*)')
_ID_OPTION = re.compile(r'(?:\$menuentry_id_option|--id)[ =]')
_RELEASE = re.compile(r'vmlinu[xz]-(.+)')


def _words(text):
    """GRUB's words: '...' literal, "..." and bare words with backslash escapes; stops at an unquoted '{'."""
    words = []
    pos = 0
    while pos < len(text):
        if text[pos] in ' \t':
            pos += 1
            continue
        if text[pos] == '{':
            break
        word = []
        while pos < len(text) and text[pos] not in ' \t{':
            char = text[pos]
            if char == "'":
                close = text.find("'", pos + 1)
                close = len(text) if close < 0 else close
                word.append(text[pos + 1:close])
                pos = close + 1
            elif char == '"':
                pos += 1
                while pos < len(text) and text[pos] != '"':
                    if text[pos] == '\\' and pos + 1 < len(text):
                        pos += 1
                    word.append(text[pos])
                    pos += 1
                pos += 1
            elif char == '\\' and pos + 1 < len(text):
                word.append(text[pos + 1])
                pos += 2
            else:
                word.append(char)
                pos += 1
        words.append(''.join(word))
    return words


def parse_menu(text):
    """The menu tree of a grub.cfg: a list of Entry, submenus holding their own lists."""
    top = []
    stack = [(None, top)]
    for line in (text or '').splitlines():
        opening = _OPEN.match(line)
        if opening and line.rstrip().endswith('{'):
            words = _words(line[opening.end():])
            ident = None
            id_option = _ID_OPTION.search(line)
            if id_option:
                following = _words(line[id_option.end():])
                ident = following[0] if following else None
            entry = {'title': words[0] if words else '', 'ident': ident, 'kernel': None, 'args': None, 'children': []}
            stack[-1][1].append(entry)
            stack.append((entry, entry['children']))
            continue
        if line.strip() == '}' and len(stack) > 1:
            stack.pop()
            continue
        linux = _LINUX.match(line)
        entry = stack[-1][0]
        if linux and entry is not None and entry['kernel'] is None:
            entry['kernel'], entry['args'] = linux.group(1), linux.group(2).strip()

    def freeze(entries):
        return [Entry(e['title'], e['ident'], e['kernel'], e['args'], freeze(e['children'])) for e in entries]
    return freeze(top)


def parse_grubenv(text):
    """NAME -> value of a grubenv block (# comments and the '#' padding ignored)."""
    values = {}
    for line in (text or '').splitlines():
        name, sep, value = line.partition('=')
        if sep and not name.startswith('#'):
            values[name] = value
    return values


def default_spec(cfg_text, env):
    """The entry GRUB boots next as written in grubenv or grub.cfg ('0', '1>2', a title or an id)."""
    if env.get('next_entry'):
        return env['next_entry']
    spec = '0'
    for line in (cfg_text or '').splitlines():
        match = _SET_DEFAULT.match(line)
        if match:
            words = _words(match.group(1))
            value = words[0] if words else ''
            if value != '${next_entry}':
                spec = value
    if spec in ('${saved_entry}', '$saved_entry'):
        spec = env.get('saved_entry') or '0'
    return spec


def find_entry(menu, spec):
    """The menuentry `spec` names in the menu tree, or None."""
    entries = menu
    found = None
    for part in spec.split('>'):
        if part.isdigit():
            index = int(part)
            found = entries[index] if index < len(entries) else None
        else:
            found = next((entry for entry in entries if part in (entry.title, entry.ident)), None)
        if found is None:
            return None
        entries = found.children
    return found if found is not None and found.kernel is not None else None


def release_of(kernel):
    """The release of a kernel image path ('/boot/vmlinuz-6.1.0-50-amd64' -> '6.1.0-50-amd64'), or None."""
    match = _RELEASE.fullmatch((kernel or '').rsplit('/', 1)[-1])
    return match.group(1) if match else None


def next_entry(cfg_text, grubenv_text):
    """The menuentry GRUB boots next, or None when grub.cfg does not name one."""
    return find_entry(parse_menu(cfg_text), default_spec(cfg_text, parse_grubenv(grubenv_text)))
