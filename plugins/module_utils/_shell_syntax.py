# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The structure of a POSIX sh file, read without running it.

A lexer and a recursive-descent parser of the POSIX shell grammar (XCU 2.10): quotes, backslashes and
line continuations, comments, here-documents (quoted or not, <<-), $(...) (parsed as a nested program),
backquotes, ${...} and $((...)), operators, reserved words, compound commands (if, while, until, for,
case, { }, ( )) and function definitions. It records what an editor must know: every top-level command
with its lines, every place a variable is assigned (at the top level, inside a compound command, as the
prefix of a command, by ${NAME=word}, by for), the text of here-documents and multi-line strings that
looks like an assignment, and every construct that would run something when the file is sourced.
"""

from __future__ import annotations

import bisect
import collections
import re

RESERVED = frozenset(('if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', '{', '}', '!', 'in'))
_OPERATORS = ('<<-', '&&', '||', ';;', '<<', '>>', '<&', '>&', '<>', '>|', '&', '|', ';', '<', '>', '(', ')')
_METACHARS = ' \t\n;&|<>()'
_REDIRECTIONS = ('<', '>', '>>', '<&', '>&', '<>', '>|', '<<', '<<-')
NAME = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
_ASSIGNMENT = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)=')
# A line of data (a here-document, a multi-line string) that a reader would take for an assignment.
_LOOKS_ASSIGNED = re.compile(r'[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=')
# ${NAME}, ${#NAME} and the POSIX operators; anything else (substrings, patterns, indirection) is a bash extension.
_PARAMETER = re.compile(r'(#?)([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])(:?[-=?+]|%%?|##?)?')
_SPECIAL = '@*#?$!-0123456789'

Assignment = collections.namedtuple('Assignment', ['name', 'line', 'place', 'word'])
Assignment.__doc__ = """A variable assigned: place is 'top' (a top-level command of assignments only), 'compound' (inside
if/while/until/for/case/{ }/( ) or a function body), 'prefix' (before a command word), 'parameter' (${NAME=word}),
'for' (a for loop variable), 'export' (an argument of export or readonly), 'unset' (an argument of unset),
'heredoc' or 'string' (text of a here-document or multi-line string that looks like an assignment)."""

Hazard = collections.namedtuple('Hazard', ['line', 'what'])
Hazard.__doc__ = """Something that would run, write or block when the file is sourced, with the line it starts on."""


class ShellSyntaxError(Exception):
    """Text the parser cannot follow (the shells would refuse it too)."""

    def __init__(self, message, line):
        super().__init__('line %d: %s' % (line, message))
        self.line = line


class Word(object):
    """One word as written: its span, and what reading it involves."""

    __slots__ = ('start', 'end', 'line', 'end_line', 'quoted', 'expands', 'multiline', 'continued', 'hazards', 'raw')

    def __init__(self, start, line):
        self.start = start
        self.line = line
        self.end = start
        self.end_line = line
        self.quoted = False      # any quoting: not a reserved word, a literal here-document
        self.expands = False     # needs an expansion ($, `, ~): its value is not static
        self.multiline = False   # a quoted newline inside
        self.continued = False   # a backslash-newline inside
        self.hazards = []
        self.raw = ''


class Command(object):
    """A top-level command (an and-or list) with the lines it spans and what an editor may do with it.

    kind: 'assign' (only assignments), 'export' (export or readonly of NAME=word), 'simple' (another simple
    command), 'compound', 'function'. `assignments` are those of a top-level 'assign' or 'export' command.
    """

    __slots__ = ('start', 'end', 'line', 'end_line', 'kind', 'assignments', 'words', 'plain')

    def __init__(self, start, line):
        self.start = start
        self.line = line
        self.end = start
        self.end_line = line
        self.kind = None
        self.assignments = []
        self.words = 0
        self.plain = True  # a single simple command: no pipe, &&, ||, !, redirection or here-document


class Script(object):
    """What parse() found in a file."""

    def __init__(self, text):
        self.text = text
        self.commands = []
        self.assignments = []
        self.hazards = []
        self.heredocs = []      # (first line, last line) of every here-document body
        self.error = None       # ShellSyntaxError when the text cannot be followed
        self.trailing_backslash = False
        self._lines = [0] + [match.end() for match in re.finditer('\n', text)]

    def line_of(self, pos):
        return bisect.bisect_right(self._lines, pos)


class _Heredoc(object):
    __slots__ = ('delimiter', 'strip_tabs', 'literal', 'line')

    def __init__(self, delimiter, strip_tabs, literal, line):
        self.delimiter = delimiter
        self.strip_tabs = strip_tabs
        self.literal = literal
        self.line = line


class _Parser(object):
    """Lexer and parser over one text; a $(...) is parsed by the same object, one level deeper."""

    def __init__(self, script):
        self.script = script
        self.text = script.text
        self.pos = 0
        self.peeked = None
        self.pending = []       # here-documents whose body starts after the next newline
        self.depth = 0          # compound commands and substitutions around the current command

    # --- lexer ---------------------------------------------------------------------------------------

    def _error(self, message, pos=None):
        raise ShellSyntaxError(message, self.script.line_of(self.pos if pos is None else pos))

    def _hazard(self, pos, what):
        self.script.hazards.append(Hazard(self.script.line_of(pos), what))

    def _skip_blanks(self):
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in ' \t':
                self.pos += 1
            elif text.startswith('\\\n', self.pos):
                self.pos += 2
            elif char == '#':
                newline = text.find('\n', self.pos)
                self.pos = len(text) if newline < 0 else newline
            else:
                break

    def peek(self):
        if self.peeked is None:
            self.peeked = self._lex()
        return self.peeked

    def next(self):
        token = self.peek()
        self.peeked = None
        return token

    def _lex(self):
        """('eof', pos) | ('newline', pos) | ('op', text, pos) | ('io', digits, pos) | ('word', Word)."""
        self._skip_blanks()
        text = self.text
        if self.pos >= len(text):
            return ('eof', self.pos)
        start = self.pos
        if text[start] == '\n':
            self.pos += 1
            self._read_heredocs()
            return ('newline', start)
        for operator in _OPERATORS:
            if text.startswith(operator, start):
                self.pos += len(operator)
                return ('op', operator, start)
        word = self._word()
        if word.raw.isdigit() and text[self.pos:self.pos + 1] in ('<', '>'):
            return ('io', word.raw, start)
        return ('word', word)

    def _word(self):
        text = self.text
        word = Word(self.pos, self.script.line_of(self.pos))
        while self.pos < len(text):
            char = text[self.pos]
            if char in _METACHARS:
                break
            if char == '\\':
                if self.pos + 1 >= len(text):
                    self.script.trailing_backslash = True
                    self.pos += 1
                    continue
                word.quoted = True
                if text[self.pos + 1] == '\n':
                    word.continued = True
                self.pos += 2
            elif char == "'":
                word.quoted = True
                close = text.find("'", self.pos + 1)
                if close < 0:
                    self._error('unterminated single quote', self.pos)
                word.multiline = word.multiline or '\n' in text[self.pos:close]
                self.pos = close + 1
            elif char == '"':
                word.quoted = True
                self._double_quoted(word)
            elif char in '$`':
                self._dollar(word)
            else:
                if char == '~' and (self.pos == word.start or text[self.pos - 1] in ':='):
                    word.expands = True
                self.pos += 1
        word.end = self.pos
        word.end_line = self.script.line_of(max(self.pos - 1, word.start))
        word.raw = text[word.start:word.end]
        return word

    def _double_quoted(self, word):
        text = self.text
        opening = self.pos
        self.pos += 1
        while self.pos < len(text):
            char = text[self.pos]
            if char == '"':
                self.pos += 1
                return
            if char == '\\':
                if text[self.pos + 1:self.pos + 2] == '\n':
                    word.continued = True
                self.pos += 2
            elif char in '$`':
                self._dollar(word)
            else:
                word.multiline = word.multiline or char == '\n'
                self.pos += 1
        self._error('unterminated double quote', opening)

    def _dollar(self, word):
        """The $ or ` at self.pos: a substitution, an expansion, or a literal $."""
        text = self.text
        start = self.pos
        if text[start] == '`':
            word.expands = True
            self.pos += 1
            while self.pos < len(text) and text[self.pos] != '`':
                self.pos += 2 if text[self.pos] == '\\' else 1
            if self.pos >= len(text):
                self._error('unterminated backquote', start)
            self.pos += 1
            word.hazards.append((start, 'command substitution `...`'))
            return
        following = text[start + 1:start + 2]
        if text.startswith('$((', start):
            word.expands = True
            self._arithmetic(start)
            word.hazards.append((start, 'arithmetic expansion $((...))'))
        elif following == '(':
            word.expands = True
            self.pos = start + 2
            self._nested_program(start)
            word.hazards.append((start, 'command substitution $(...)'))
        elif following == '{':
            word.expands = True
            self._parameter(word, start)
        elif following == "'":
            # bash reads $'...' as an ANSI-C string, dash as a $ and a quoted string: no static value.
            word.expands = True
            self.pos += 1
        elif following and (NAME.match(following) or following in _SPECIAL):
            word.expands = True
            match = NAME.match(text, start + 1)
            self.pos = match.end() if match else start + 2
        else:
            self.pos += 1

    def _arithmetic(self, start):
        depth = 0
        self.pos = start + 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '(':
                depth += 1
            elif char == ')':
                depth -= 1
                if depth == 0:
                    self.pos += 1
                    return
            self.pos += 1
        self._error('unterminated $((', start)

    def _parameter(self, word, start):
        """${...}: nested words until the matching }, with quotes and substitutions inside."""
        match = _PARAMETER.match(self.text, start + 2)
        body_end = match.end() if match else start + 2
        operator = match.group(3) if match else None
        posix = match and (operator or self.text[body_end:body_end + 1] == '}') and not (match.group(1) and operator)
        if not posix:
            # Substrings, patterns and indirection are bash's; bash evaluates some of them as arithmetic.
            word.hazards.append((start, 'expansion %s (not POSIX)' % self.text[start:start + 12].split('\n')[0]))
        elif operator in ('=', ':=') and NAME.fullmatch(match.group(2)):
            self.script.assignments.append(Assignment(match.group(2), self.script.line_of(start), 'parameter', None))
        self.pos = body_end
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '}':
                self.pos += 1
                return
            if char == '\\':
                self.pos += 2
            elif char == "'":
                close = self.text.find("'", self.pos + 1)
                if close < 0:
                    self._error('unterminated single quote', self.pos)
                self.pos = close + 1
            elif char == '"':
                self._double_quoted(word)
            elif char in '$`':
                self._dollar(word)
            else:
                word.multiline = word.multiline or char == '\n'
                self.pos += 1
        self._error('unterminated ${', start)

    def _nested_program(self, start):
        """The program of a $(...) (self.pos after the parenthesis), parsed one level deeper up to its )."""
        saved = self.peeked, self.pending
        self.peeked, self.pending = None, []
        self.depth += 1
        self._list(ops=(')',))
        token = self.next()
        if token[:2] != ('op', ')'):
            self._error('unterminated $(', start)
        self.depth -= 1
        self.peeked, self.pending = saved

    def _read_heredocs(self):
        """The bodies of the here-documents started on the line that just ended (self.pos after its newline)."""
        text = self.text
        while self.pending:
            heredoc = self.pending.pop(0)
            first = self.script.line_of(self.pos)
            while True:
                if self.pos >= len(text):
                    self._hazard(self.pos, 'here-document of line %d ends at the end of the file' % heredoc.line)
                    break
                newline = text.find('\n', self.pos)
                end = len(text) if newline < 0 else newline
                line = text[self.pos:end]
                if (line.lstrip('\t') if heredoc.strip_tabs else line) == heredoc.delimiter:
                    self.pos = end + 1 if newline >= 0 else end
                    break
                assigned = _LOOKS_ASSIGNED.match(line)
                if assigned:
                    self.script.assignments.append(Assignment(assigned.group(1), self.script.line_of(self.pos), 'heredoc', None))
                if not heredoc.literal:
                    self._heredoc_expansions(line, self.pos)
                self.pos = end + 1
            self.script.heredocs.append((first, self.script.line_of(max(self.pos - 1, 0))))

    def _heredoc_expansions(self, line, offset):
        """Substitutions in an unquoted here-document line (they run when the document is read)."""
        for index, char in enumerate(line):
            if char == '`' or (char == '$' and line[index + 1:index + 2] == '('):
                self._hazard(offset + index, 'command substitution in a here-document')
                return

    # --- parser --------------------------------------------------------------------------------------

    def _is(self, token, *words):
        """Whether the token is one of these reserved words (an unquoted word spelled so)."""
        return token[0] == 'word' and not token[1].quoted and token[1].raw in words

    def _linebreak(self):
        while self.peek()[0] == 'newline':
            self.next()

    def _expect(self, *words):
        token = self.next()
        if not self._is(token, *words):
            self._error('%s expected' % ' or '.join(words), self._token_pos(token))
        return token

    @staticmethod
    def _token_pos(token):
        return token[1].start if token[0] == 'word' else token[-1]

    def _at_end(self, words, ops):
        token = self.peek()
        return token[0] == 'eof' or self._is(token, *words) or (token[0] == 'op' and token[1] in ops)

    def _list(self, words=(), ops=()):
        """Commands until a terminator: one of `words` (reserved) or `ops`, or the end of the text."""
        self._linebreak()
        while not self._at_end(words, ops):
            self._and_or(None)
            token = self.peek()
            if token[0] == 'op' and token[1] in (';', '&'):
                if token[1] == '&':
                    self._hazard(token[2], 'a command run in the background (&)')
                self.next()
            elif token[0] not in ('newline', 'eof') and not self._at_end(words, ops):
                self._error('unexpected %s' % (token[1].raw if token[0] == 'word' else token[1]), self._token_pos(token))
            self._linebreak()

    def program(self):
        """The top-level commands, each with its span."""
        while True:
            self._linebreak()
            token = self.peek()
            if token[0] == 'eof':
                return
            start = self._token_pos(token)
            command = Command(start, self.script.line_of(start))
            heredocs = len(self.script.heredocs)
            self._and_or(command)
            token = self.peek()
            command.end = self._token_pos(token)
            command.end_line = self.script.line_of(max(command.end - 1, start))
            if len(self.script.heredocs) > heredocs:
                # The bodies were read when the newline after the command was: they belong to it.
                command.plain = False
                command.end_line = max([command.end_line] + [last for dummy, last in self.script.heredocs[heredocs:]])
            self.script.commands.append(command)
            if token[0] == 'op' and token[1] in (';', '&'):
                if token[1] == '&':
                    self._hazard(token[2], 'a command run in the background (&)')
                self.next()
            elif token[0] not in ('newline', 'eof'):
                self._error('unexpected %s' % (token[1].raw if token[0] == 'word' else token[1]), self._token_pos(token))

    def _and_or(self, command):
        self._pipeline(command)
        while self.peek()[0] == 'op' and self.peek()[1] in ('&&', '||'):
            self.next()
            self._linebreak()
            if command is not None:
                command.plain = False
            self._pipeline(command)

    def _pipeline(self, command):
        if self._is(self.peek(), '!'):
            self.next()
            if command is not None:
                command.plain = False
        self._command(command)
        while self.peek()[:2] == ('op', '|'):
            self._hazard(self.peek()[2], 'a pipeline (|)')
            self.next()
            self._linebreak()
            if command is not None:
                command.plain = False
            self._command(command)

    def _command(self, command):
        token = self.peek()
        compound = {'if': self._if, 'while': self._loop, 'until': self._loop, 'for': self._for, 'case': self._case, '{': self._brace}
        if token[0] == 'word' and not token[1].quoted and token[1].raw in compound:
            self._kind(command, 'compound')
            self._nested(compound[token[1].raw])
            self._redirections(command)
        elif token[:2] == ('op', '('):
            self._kind(command, 'compound')
            self._nested(self._subshell)
            self._redirections(command)
        elif self._is(token, 'then', 'else', 'elif', 'fi', 'do', 'done', 'esac', '}'):
            self._error('unexpected %s' % token[1].raw, token[1].start)
        elif token[0] in ('word', 'io') or (token[0] == 'op' and token[1] in _REDIRECTIONS):
            self._simple(command)
        else:
            self._error('unexpected %s' % (token[1] if token[0] != 'word' else token[1].raw), self._token_pos(token))

    def _kind(self, command, kind):
        if command is not None and command.kind is None:
            command.kind = kind

    def _nested(self, parse):
        self.depth += 1
        try:
            parse()
        finally:
            self.depth -= 1

    def _if(self):
        self._expect('if')
        self._list(words=('then',))
        self._expect('then')
        self._list(words=('elif', 'else', 'fi'))
        while self._is(self.peek(), 'elif'):
            self.next()
            self._list(words=('then',))
            self._expect('then')
            self._list(words=('elif', 'else', 'fi'))
        if self._is(self.peek(), 'else'):
            self.next()
            self._list(words=('fi',))
        self._expect('fi')

    def _loop(self):
        self.next()
        self._list(words=('do',))
        self._do_group()

    def _do_group(self):
        self._expect('do')
        self._list(words=('done',))
        self._expect('done')

    def _for(self):
        self._expect('for')
        token = self.next()
        if token[0] != 'word' or not NAME.fullmatch(token[1].raw):
            self._error('a name expected after for', self._token_pos(token))
        self.script.assignments.append(Assignment(token[1].raw, token[1].line, 'for', token[1]))
        self._linebreak()
        if self._is(self.peek(), 'in'):
            self.next()
            while self.peek()[0] == 'word':
                self._hazards_of(self.next()[1])
            if self.peek()[:2] == ('op', ';'):
                self.next()
        elif self.peek()[:2] == ('op', ';'):
            self.next()
        self._linebreak()
        self._do_group()

    def _case(self):
        self._expect('case')
        token = self.next()
        if token[0] != 'word':
            self._error('a word expected after case', self._token_pos(token))
        self._hazards_of(token[1])
        self._linebreak()
        self._expect('in')
        self._linebreak()
        while not self._is(self.peek(), 'esac'):
            if self.peek()[0] == 'eof':
                self._error('esac expected')
            if self.peek()[:2] == ('op', '('):
                self.next()
            while True:
                token = self.next()
                if token[0] != 'word':
                    self._error('a pattern expected', self._token_pos(token))
                self._hazards_of(token[1])
                if self.peek()[:2] != ('op', '|'):
                    break
                self.next()
            token = self.next()
            if token[:2] != ('op', ')'):
                self._error(') expected after a case pattern', self._token_pos(token))
            self._list(words=('esac',), ops=(';;',))
            if self.peek()[:2] == ('op', ';;'):
                self.next()
                self._linebreak()
            elif not self._is(self.peek(), 'esac'):
                self._error(';; or esac expected', self._token_pos(self.peek()))
        self.next()

    def _brace(self):
        self._expect('{')
        self._list(words=('}',))
        self._expect('}')

    def _subshell(self):
        self.next()
        self._list(ops=(')',))
        token = self.next()
        if token[:2] != ('op', ')'):
            self._error(') expected', self._token_pos(token))

    def _redirections(self, command):
        while self.peek()[0] == 'io' or (self.peek()[0] == 'op' and self.peek()[1] in _REDIRECTIONS):
            self._redirection(command)

    def _redirection(self, command):
        token = self.next()
        if token[0] == 'io':
            token = self.next()
            if token[0] != 'op':
                self._error('a redirection expected', self._token_pos(token))
        operator, pos = token[1], token[2]
        target = self.next()
        if target[0] != 'word':
            self._error('a file name expected after %s' % operator, pos)
        if command is not None:
            command.plain = False
        if operator in ('<<', '<<-'):
            delimiter = re.sub(r'\\(.)|[\'"]', lambda m: m.group(1) or '', target[1].raw)
            self.pending.append(_Heredoc(delimiter, operator == '<<-', target[1].quoted, self.script.line_of(pos)))
        else:
            self._hazard(pos, 'a redirection (%s %s)' % (operator, target[1].raw))

    def _hazards_of(self, word):
        for pos, what in word.hazards:
            self._hazard(pos, what)
        if word.multiline or word.continued:
            # Lines inside the word that a reader would take for assignments of their own.
            for number, line in enumerate(word.raw.split('\n')[1:], word.line + 1):
                assigned = _LOOKS_ASSIGNED.match(line)
                if assigned:
                    place = 'string' if word.multiline else 'continuation'
                    self.script.assignments.append(Assignment(assigned.group(1), number, place, word))

    def _simple(self, command):
        assignments = []
        name = None
        arguments = []
        while True:
            token = self.peek()
            if token[0] == 'io' or (token[0] == 'op' and token[1] in _REDIRECTIONS):
                self._redirection(command)
                continue
            if token[0] != 'word':
                break
            word = self.next()[1]
            self._hazards_of(word)
            if name is None and _ASSIGNMENT.match(word.raw):
                assignments.append(word)
            elif name is None:
                name = word
                if self.peek()[:2] == ('op', '(') and not assignments and NAME.fullmatch(word.raw):
                    self._function(command, word)
                    return
            else:
                arguments.append(word)
        self._record(command, assignments, name, arguments)

    def _function(self, command, name):
        self.next()
        token = self.next()
        if token[:2] != ('op', ')'):
            self._error(') expected after %s(' % name.raw, self._token_pos(token))
        self._hazard(name.start, 'a function definition (%s)' % name.raw)
        self._kind(command, 'function')
        self._linebreak()
        self.depth += 1
        try:
            self._command(None)
        finally:
            self.depth -= 1

    def _record(self, command, assignments, name, arguments):
        top = command is not None and self.depth == 0
        if name is None:
            self._kind(command, 'assign')
            found = [_assignment(word, 'top' if top else 'compound') for word in assignments]
        else:
            self._kind(command, 'simple')
            self.script.hazards.extend(_command_hazards(name, arguments))
            found = [_assignment(word, 'prefix') for word in assignments]
            builtin = None if name.quoted else name.raw
            if builtin in ('export', 'readonly', 'unset'):
                place = 'compound' if builtin == 'export' and not top else builtin
                for word in arguments:
                    if builtin != 'unset' and _ASSIGNMENT.match(word.raw):
                        found.append(_assignment(word, place))
                    elif builtin != 'export' and NAME.fullmatch(word.raw):
                        found.append(Assignment(word.raw, word.line, place, word))
                if top and builtin == 'export' and not assignments and command.kind == 'simple':
                    command.kind = 'export'
        self.script.assignments.extend(found)
        if top:
            command.words += len(assignments) + (1 if name is not None else 0) + len(arguments)
            command.assignments.extend(assignment for assignment in found if assignment.place in ('top', 'export'))


def _assignment(word, place):
    return Assignment(_ASSIGNMENT.match(word.raw).group(1), word.line, place, word)


def _command_hazards(name, arguments):
    """A command other than the no-ops and the variable builtins runs something when the file is sourced."""
    word = name.raw
    if name.quoted or name.expands or word not in SAFE_COMMANDS:
        return [Hazard(name.line, 'runs the command %s' % word.split('\n')[0])]
    if word in ('export', 'readonly', 'unset'):
        for argument in arguments:
            if not (_ASSIGNMENT.match(argument.raw) or NAME.fullmatch(argument.raw)):
                return [Hazard(argument.line, '%s with the argument %s' % (word, argument.raw.split('\n')[0]))]
    return []


# Commands that change nothing outside the shell's variables when the file is sourced ([ and test are builtins).
SAFE_COMMANDS = frozenset((':', 'true', 'false', '[', 'test', 'export', 'readonly', 'unset'))


def parse(text):
    """The Script of a shell text. A text the parser cannot follow has Script.error set (and what was read before it)."""
    script = Script(text)
    parser = _Parser(script)
    try:
        parser.program()
        if parser.pending:
            parser._hazard(len(text), 'here-document of line %d has no body' % parser.pending[0].line)
    except ShellSyntaxError as exc:
        script.error = exc
    return script
