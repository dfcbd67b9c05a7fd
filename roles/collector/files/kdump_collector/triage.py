# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Crash triage: read a kernel log as a kernel developer does and name the crash in it.

analyse(text) finds the report that started the crash, names it in syzbot's conventions
(`<kind> in <guilty function>`), and hashes the normalised title into a signature that is the same
for one bug on every host and kernel build. Every step looks at a bounded slice of each line, and
each line at most a bounded number of times, so the time is linear in the input whatever its bytes.
"""

import hashlib
import re

from kdump_collector import triage_lines
from kdump_collector.triage_frames import base_name, canonical, parse_frame
from kdump_collector.triage_kinds import HEADER_PHRASES, HEADER_WORDS, OOPS_COUNTER, describe, header_kind

MESSAGE_SCAN = 512          # characters of a message any rule looks at
LINE_SCAN = triage_lines.PREFIX_SCAN + MESSAGE_SCAN
REPORT_LINES = 400          # lines of one report (a KASAN report with three stacks is ~120)
REPORT_SCAN = 3000          # raw lines walked to collect them (other contexts interleave)
REPORT_CHUNK = 1024 * 1024  # bytes after the header those lines are taken from
REPORT_BYTES = 4096         # report text kept for display and the console path
EPISODE_GAP = 300.0         # seconds between reports that still belong to one crash
MAX_ATTEMPTS = 8            # unknown headers without a report after them tried before giving up
EVIDENCE_LINES = 12         # lines after an unknown header searched for a report's CPU line or stack
SYSRQ_REACH = 4096          # bytes after a sysrq trigger line its panic or oops starts within
MAX_FRAMES = 8
# After this many lines, a panic or a lockdep splat is a consequence of the report, not part of it.
TAIL_AFTER = 22
TAIL_AFTER_KMSAN = 16       # KMSAN reports print no register dump
STACK_START = ('Call Trace:', 'Call trace:', 'Backtrace:', 'Allocated by task ', 'Freed by task ', 'Allocated:',
               'Freed:', 'Uninit was stored to memory at', 'Uninit was created at', 'Local variable ',
               'allocated by task ', 'freed by task ', 'page last allocated', 'page last free', 'backtrace:',
               'backtrace (crc')
RIP_RE = re.compile(r'(?:RIP: (?:\w{4}:)?|EIP: (?:\w{4}:)?|IP: |NIP |epc : |pc : |PC is at )(?:\[<?[0-9a-f]{1,16}>?\] ?)?'
                    r'([A-Za-z_][\w.$]{0,127})\+0x[0-9a-f]{1,16}/0x[0-9a-f]{1,16}')
VERSION_RE = re.compile(r'Linux version (\d{1,4}\.\d{1,4}[^\s]{0,120})')
TIMESTAMP_RE = re.compile(r'\[ {0,12}\d{1,10}\.\d{1,9}\]')
TAINT_LIST_RE = re.compile(r'Tainted: ((?:\[[A-Z]\]=\w{1,40}(?:, )?){1,20})')
# Stack dumps of other, harmless messages: seen inside a report, they mean it is interleaved.
OTHER_STACKS = ('FAULT_INJECTION: forcing a failure', 'vmalloc: allocation failure:', 'FAULT_FLAG_ALLOW_RETRY missing')
FAULT_INJECTION_FRAMES = ('should_fail', 'should_failslab')


def _empty():
    return {'kernel': None, 'reason': None, 'rip': None, 'taint': None, 'frames': [], 'title': None, 'kind': None,
            'guilty_frame': None, 'corrupted': False, 'signature': None, 'report': None}


class Line:
    __slots__ = ('start', 'end', 'seconds', 'caller', 'message', 'header')

    def __init__(self, text, start, end):
        self.start, self.end = start, end
        self.seconds, self.caller, message = triage_lines.split(text[start:min(end, start + LINE_SCAN)])
        self.message = message[:MESSAGE_SCAN]
        self.header = -1

    def context(self):
        """Who printed the line: its caller id, else 'console' for a time-stamped line, else ''.
        Lines of one report share it; lines of other tasks, CPUs or user space do not."""
        return self.caller or ('console' if self.seconds else '')


WORD_RES = tuple(re.compile(word) for word in HEADER_WORDS)


def header_lines(text):
    """Lines holding a report header, in order. Each header word is searched through the text once and each
    line it hits is split once, so a line repeating a word 50,000 times costs one line."""
    starts = {}

    def line_at(pos):
        """Note the line around pos; where the search goes on (its end)."""
        start = text.rfind('\n', 0, pos) + 1
        end = text.find('\n', pos)
        end = len(text) if end < 0 else end
        starts.setdefault(start, end)
        return end

    for pattern in WORD_RES:
        match = pattern.search(text)
        while match:
            match = pattern.search(text, line_at(match.start()))
    for phrase in HEADER_PHRASES:
        pos = text.find(phrase)
        while pos >= 0:
            pos = text.find(phrase, line_at(pos))
    pos = text.find('#')
    while pos >= 0:
        pos = text.find('#', line_at(pos) if text.startswith(OOPS_COUNTER, pos - 1) else pos + 1)
    found = []
    for start in sorted(starts):
        line = Line(text, start, starts[start])
        line.header = header_kind(line.message)[0]
        if line.header >= 0:
            found.append(line)
    return found


def seconds(line):
    try:
        return float(line.seconds) if line.seconds else None
    except ValueError:
        return None


def choose(found):
    """The header that started the crash: the first one of the last run of reports that led to the
    final panic (an old, survived WARNING hours earlier is not this crash's cause)."""
    if not found:
        return None
    panics = [line for line in found if line.message.startswith('Kernel panic', line.header)]
    if not panics:
        return found[0]
    chosen = anchor = panics[-1]
    later = seconds(anchor)
    for line in reversed(found[:found.index(anchor)]):
        now = seconds(line)
        if now is not None and later is not None and later - now > EPISODE_GAP:
            break
        chosen = line
        later = now if now is not None else later
    return chosen


class Report:
    """The lines of one report, from its header on, in the header's printk context.

    lines: messages up to the tail (a panic or lockdep splat the report caused); lines_all: every
    message of the context read (for display); end: where another report cuts in (the kind rules
    read up to it)."""

    def __init__(self, text, header, headers):
        self.lines = [header.message[header.header:]]
        self.lines_all = [self.lines[0]]
        self.end = None
        self.tail = None
        self.interleaved = False
        self.shown = None
        self.read(text, header, headers)
        if self.end is None:
            self.end = len(self.lines)

    def read(self, text, header, headers):
        context = header.context()
        tail_after = TAIL_AFTER_KMSAN if 'BUG: KMSAN:' in header.message else TAIL_AFTER
        nmi = False
        start = header.end + 1
        # One split of a bounded slice: at most REPORT_SCAN lines, each looked at in its first LINE_SCAN characters.
        for raw in text[start:start + REPORT_CHUNK].split('\n', REPORT_SCAN)[:REPORT_SCAN]:
            if len(self.lines_all) >= REPORT_LINES:
                break
            line_start, start = start, start + len(raw) + 1
            seconds, caller, message = triage_lines.split(raw[:LINE_SCAN])
            message = message[:MESSAGE_SCAN]
            if 'Sending NMI from CPU' in message:
                # An NMI backtrace of all CPUs: the other CPUs' lines belong to this report.
                nmi = True
            if (caller or ('console' if seconds else '')) != context and not (nmi and caller.startswith('C')):
                continue
            if context and message.lstrip().startswith('? '):
                continue
            idx = len(self.lines_all)
            self.lines_all.append(message)
            if self.tail is not None:
                continue
            if idx >= tail_after and ('Kernel panic - not syncing' in message
                                      or 'WARNING: possible circular locking dependency detected' in message):
                # panic_on_warn and oops-induced lockdep splats: consequences, not part of the report.
                self.tail = idx
                continue
            if self.end is None and (('FAULT_' in message or 'allocation failure:' in message)
                                     and any(other in message for other in OTHER_STACKS)
                                     or not header.caller and line_start in headers and header_kind(message)[1]):
                self.end = idx
            self.lines.append(message)

    # Helpers for the kind rules: all bounded by the report's lines.

    def find(self, needles, start=0, stop=None):
        for idx in range(start, self.end if stop is None else min(stop, self.end)):
            line = self.lines[idx]
            if any(needle in line for needle in needles):
                return idx
        return None

    def search(self, pattern, start, count):
        for idx in range(start, min(start + count, self.end)):
            match = pattern.search(self.lines[idx])
            if match:
                return match
        return None

    def rip(self, start=1):
        """(function, line index) of the first kernel RIP:/pc : line from start."""
        for idx in range(start, self.end):
            match = RIP_RE.search(self.lines[idx])
            if match:
                return match.group(1), idx
        return None

    def stack_names(self, start):
        """Reliable frame names from line start up to the next stack or the report's end."""
        names = []
        for idx in range(start, self.end):
            line = self.lines[idx]
            stripped = line.strip()
            if idx > start and stripped.startswith(STACK_START) and not stripped.startswith('stack backtrace:'):
                break
            if 'end trace' in line and '---[' in line:
                break
            frame = parse_frame(line)
            if frame is None:
                continue
            found, reliable = frame
            if reliable:
                names.extend(name for name in found if not names or name != names[-1])
        if names and self.shown is None:
            self.shown = names
        return names

    def trace_start(self, start):
        return self.find(('Call Trace:', 'Call trace:', 'Backtrace:'), start)

    def trace_names(self, start):
        idx = self.trace_start(start)
        return self.stack_names(idx + 1) if idx is not None else []

    def rip_and_trace_names(self):
        rip = self.rip()
        if rip is None:
            return self.trace_names(0)
        return [rip[0]] + self.trace_names(rip[1])


# Where a kernel starts printing a stack: x86 show_trace_log_lvl, arm64 dump_backtrace, arm
# unwind_backtrace, mm/kasan/report.c, mm/kmemleak.c, mm/kmsan/report.c, and riscv's show_regs whose
# last line (status: .. badaddr: .. cause: ..) the stack follows untitled.
STACK_KEYS = ('Call Trace', 'Call trace', 'Backtrace:', 'Allocated by task ', 'Freed by task ', 'backtrace:',
              'backtrace (crc', 'Uninit was stored to memory at', ' badaddr: ')
RISCV_KEY = ' badaddr: '


def fault_injected(lines):
    """A fault-injection report's stack (lib/fault-inject.c: dump_stack() right into should_fail())
    printed into this report by another CPU. should_fail deeper in a stack is only a task that was
    interrupted while injecting a fault, and belongs."""
    for idx, line in enumerate(lines):
        if 'should_fail' not in line or idx == 0:
            continue
        frame = parse_frame(line)
        if not frame or not frame[1] or not any(base_name(name) in FAULT_INJECTION_FRAMES for name in frame[0]):
            continue
        above = parse_frame(lines[idx - 1])
        if above and above[1] and base_name(above[0][-1]).startswith('dump_stack'):
            return True
    return False


def stack_missing(lines):
    """True when the report has no stack, or one of its stacks is cut before its first frame."""
    complete = False
    for key in STACK_KEYS:
        idx = next((idx for idx, line in enumerate(lines) if key in line and 'stack backtrace:' not in line), None)
        if idx is None:
            continue
        if len(lines) - idx < 3:
            return True
        found = False
        for line in lines[idx + 1:idx + 16]:
            if any(other in line for other in STACK_KEYS):
                break
            if '(stack is not available)' in line or parse_frame(line):
                found = True
                break
        if found:
            complete = True
        elif key != RISCV_KEY:
            return True
    return not complete


# Title normalisation: what differs between two hosts hitting one bug goes (addresses, numbers,
# file lines, CPU numbers, offsets), so the title and its hash group them.
NORMALISE = (
    (re.compile(r'([^A-Za-z0-9])(?:0x)?[0-9a-f]{6,}'), r'\1ADDR'),
    (re.compile(r'\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}'), 'IP'),
    (re.compile(r'(\.\w+)(?::\d+)+'), r'\1:LINE'),
    (re.compile(r'([A-Za-z][\w.]*)\+0x[0-9a-z]+/0x[0-9a-z]+'), r'\1'),
    (re.compile(r'CPU#\d+'), 'CPU'),
    (re.compile(r'(\W)\d+(?=\W|\Z)'), r'\1NUM'),
    (re.compile(r'\d{7,}'), 'NUM'),
)
TITLE_MAX = 120
UNPRINTABLE_RE = re.compile(r'[^ -~]')


def normalise(title):
    title = title[:2 * TITLE_MAX]
    for pattern, replacement in NORMALISE:
        title = pattern.sub(replacement, title)
    # Printable ASCII only, one space between words, bounded (corrupted lines can be long).
    return ' '.join(UNPRINTABLE_RE.sub('', title.replace('\t', ' '))[:TITLE_MAX].split())


def signature(title):
    return hashlib.sha256(title.encode('utf-8')).hexdigest()[:16]


def kernel_release(text, report):
    version = VERSION_RE.search(text)
    if version:
        return version.group(1)
    for line in report.lines_all if report else ():
        release = cpu_line(line)[1]
        if release:
            return release
    pos = text.find('Comm: ')
    looked = 0
    while pos >= 0 and looked < 1000:
        start = text.rfind('\n', 0, pos) + 1
        end = text.find('\n', pos)
        release = cpu_line(triage_lines.split(text[start:min(end if end >= 0 else len(text), start + 400)])[2])[1]
        if release:
            return release
        pos = text.find('Comm: ', end) if end >= 0 else -1
        looked += 1
    return None


TAINT_LETTERS = frozenset('GPFSRMBUDAWCIOELKXTN ')


def cpu_line(message):
    """(taint letters or None, release or None) of a `CPU: 1 PID: 2 Comm: x ... Tainted: ... 6.1.0 #1` line."""
    if 'Comm: ' not in message[:80] or 'PID: ' not in message[:40]:
        return None, None
    comm = message.find('Comm: ')
    rest = message[comm + 6:comm + 200]
    for marker in (' Not tainted ', ' Tainted: '):
        pos = rest.find(marker)
        if pos >= 0 and pos <= 40:
            tail = rest[pos + len(marker):]
            break
    else:
        return None, None
    words = tail.split()
    letters = []
    if marker == ' Tainted: ':
        while words and all(char in TAINT_LETTERS for char in words[0]):
            letters.append(words.pop(0))
    if not words:
        return None, None
    release = words[0]
    if len(words) < 2 or not words[1].startswith('#'):
        return None, None
    return ''.join(letters).replace('G', ''), release


def taint_of(report):
    for line in report.lines_all:
        listed = TAINT_LIST_RE.search(line)
        if listed:
            return ''.join(re.findall(r'\[([A-Z])\]', listed.group(1)))
        if 'Comm: ' in line:
            letters, release = cpu_line(line)
            if release:
                return letters
    return None


# Frames that only say how the report was printed, the same for every crash: left out of the
# displayed stack (the guilty frame uses the full skip list instead).
DISPLAY_SKIP = frozenset((
    'dump_stack', 'dump_stack_lvl', 'show_stack', 'show_trace_log_lvl', 'dump_backtrace', 'panic', 'vpanic',
    'nmi_panic', 'check_panic_on_warn', '__warn', 'warn_slowpath_fmt', 'report_bug', 'handle_bug', 'exc_invalid_op',
    'asm_exc_invalid_op', 'die', 'oops_end', 'page_fault_oops', 'do_user_addr_fault', 'exc_page_fault',
    'asm_exc_page_fault', 'kernelmode_fixup_or_oops', '__bad_area_nosemaphore', 'bad_area_nosemaphore', 'no_context',
    'do_trap', 'do_error_trap', 'exc_general_protection', 'asm_exc_general_protection', 'watchdog_timer_fn',
    '__hrtimer_run_queues', 'hrtimer_interrupt', '__sysvec_apic_timer_interrupt', 'sysvec_apic_timer_interrupt',
    'asm_sysvec_apic_timer_interrupt', '__schedule', 'schedule', 'schedule_timeout', 'schedule_preempt_disabled',
    'io_schedule', 'crash_kexec', '__crash_kexec',
))


def display_frames(report):
    """Up to MAX_FRAMES reliable frames of the stack the title came from (else the first one),
    printing machinery left out."""
    names = report.shown
    if names is None:
        idx = report.find(('Call Trace:', 'Call trace:', 'backtrace:', 'backtrace (crc'))
        names = report.stack_names(idx + 1) if idx is not None else []
    return [name for name in names if base_name(name) not in DISPLAY_SKIP][:MAX_FRAMES]


# Report families: a bounded name for every kind (a metrics label must not take values a host can invent,
# and a crafted header can make any kind). First matching prefix wins.
FAMILIES = (
    ('KASAN', 'kasan'), ('KMSAN', 'kmsan'), ('KCSAN', 'kcsan'), ('KFENCE', 'kfence'), ('UBSAN', 'ubsan'),
    ('possible deadlock', 'lockdep'), ('inconsistent lock state', 'lockdep'), ('WARNING: bad unlock', 'lockdep'),
    ('BUG: bad unlock', 'lockdep'), ('WARNING: held lock', 'lockdep'), ('BUG: held lock', 'lockdep'),
    ('WARNING: suspicious RCU', 'lockdep'), ('INFO: suspicious RCU', 'lockdep'), ('WARNING: locking bug', 'lockdep'),
    ('WARNING: still has locks', 'lockdep'), ('BUG: still has locks', 'lockdep'), ('WARNING: nested lock', 'lockdep'),
    ('WARNING: lock held', 'lockdep'), ('BUG: lock held', 'lockdep'), ('INFO: trying to register', 'lockdep'),
    ('INFO: task', 'hung_task'), ('INFO: rcu detected stall', 'rcu_stall'), ('BUG: soft lockup', 'soft_lockup'),
    ('BUG: hard lockup', 'hard_lockup'), ('memory leak', 'memory_leak'), ('kernel panic', 'panic'),
    ('kernel stack overflow', 'panic'), ('WARNING', 'warning'), ('general protection fault', 'fault'),
    ('BUG: unable to handle', 'fault'), ('divide error', 'fault'), ('invalid opcode', 'fault'),
    ('stack segment fault', 'fault'), ('PANIC: double fault', 'fault'), ('Internal error', 'fault'),
    ('Unhandled fault', 'fault'), ('Alignment trap', 'fault'), ('BUG', 'bug'), ('kernel BUG', 'bug'),
)
FAMILY_NAMES = tuple(sorted({name for _prefix, name in FAMILIES} | {'other'}))


def family(kind):
    """The bounded family of a kind (see FAMILIES), 'other' for kinds none names."""
    for prefix, name in FAMILIES:
        if kind.startswith(prefix):
            return name
    return 'other'


def evidence(report):
    """Whether an unknown header is followed by what every kernel report prints (dump_stack's CPU
    line, a stack, the module list); without it the line is some program's output."""
    for line in report.lines[1:EVIDENCE_LINES]:
        if line.startswith('CPU: ') and 'PID: ' in line or 'Modules linked in' in line or any(
                key in line for key in STACK_KEYS):
            return True
    return False


def after_sysrq(found, header):
    """The kernel's own report right after a `sysrq: Trigger a crash` line: the panic of
    sysrq_handle_crash (4.x and later) or the oops of its NULL write (older kernels)."""
    idx = found.index(header)
    if idx + 1 < len(found):
        following = found[idx + 1]
        if following.context() == header.context() and following.start - header.end <= SYSRQ_REACH:
            return following
    return header


def analyse(text):
    """Kernel release, report and its triage (title, kind, guilty frame, signature) of a kernel log."""
    result = _empty()
    found = header_lines(text)
    report = first = described = None
    for _attempt in range(MAX_ATTEMPTS):
        first = choose(found)
        if first is None:
            break
        header = after_sysrq(found, first) if first.message.startswith('Trigger a crash', first.header) else first
        report = Report(text, header, {line.start for line in found})
        described = describe(report, report.lines[0])
        if not described.unknown or evidence(report):
            break
        found = [line for line in found if line is not first and line is not header]
        report = None
    result['kernel'] = kernel_release(text, report)
    if report is None:
        return result
    result['reason'] = first.message.strip()
    rip = report.rip()
    result['rip'] = rip[0] if rip else None
    result['taint'] = taint_of(report)
    if report.end < len(report.lines) and (described.corrupted or described.needs_frame and described.frame is None):
        # Another report cut in before this one was complete: read on through it.
        report.end = len(report.lines)
        report.shown = None
        described = describe(report, report.lines[0])
        report.interleaved = True
    corrupted = (described.corrupted or report.interleaved or described.needs_frame and described.frame is None
                 or fault_injected(report.lines[:report.end])
                 # A time stamp inside the title: two console lines were glued together.
                 or TIMESTAMP_RE.search(described.kind) is not None
                 or not described.stackless and stack_missing(report.lines))
    frame = described.frame
    kind = normalise(described.kind)
    guilty = canonical(frame) if frame and '/' not in frame else frame
    title = '%s in %s' % (kind, guilty) if guilty else kind
    result.update(title=normalise(title), kind=kind, guilty_frame=guilty, corrupted=bool(corrupted))
    result['frames'] = display_frames(report)
    result['report'] = '\n'.join(report.lines_all)[:REPORT_BYTES]
    result['signature'] = signature(result['title'])
    return result
