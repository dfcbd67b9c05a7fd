# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dmesg analysis: the one place that knows what a panic looks like (kernel release, reason, RIP, frames, signature)."""

from __future__ import annotations

import hashlib
import re

# Only this much of a dmesg file is read: its head (boot: the kernel release) and its tail (the crash).
DMESG_HEAD = 128 * 1024
DMESG_TAIL = 512 * 1024

PREFIX_RE = re.compile(r'[ \t]*(?:<\d+>)?(?:\[\s*(\d+\.\d+)\])?(?:\[\s*[TC]\d+\])? ?')
PANIC_RE = re.compile(r'Kernel panic - not syncing')
TRIGGER_RE = re.compile('|'.join('(?:%s)' % p for p in (
    r'(?:sysrq: )?(?:SysRq ?: )?Trigger a crash',
    r'(?:[\w-]+: )?BUG: ',
    r'kernel BUG at ',
    r'general protection fault',
    r'Unable to handle kernel ',
    r'divide error: ',
    r'invalid opcode: ',
    r'Internal error: ',
    r'Oops(?:: | - |#)',
    r'WARNING: (?:CPU: \d+ PID: |at )',
    r'(?:NMI )?[Ww]atchdog: (?:Watchdog detected hard LOCKUP|BUG: )',
)))
CONTROL_BYTES = bytes(range(0, 9)) + b'\x0b\x0c' + bytes(range(14, 32))
HUNG_RE = re.compile(r'INFO: task .* blocked for more than')
RIP_RE = re.compile(r'(?:RIP: (?:\w{4}:)?(?:\[<[0-9a-f]+>\] )?|pc : |EIP: (?:\w{4}:)?(?:\[<[0-9a-f]+>\] )?)'
                    r'([A-Za-z_][\w.$]*)\+0x[0-9a-f]+/0x[0-9a-f]+')
FRAME_RE = re.compile(r'\s*(?:\[<[0-9a-f]+>\] )?(\? )?(?:\[<[0-9a-f]+>\] )?([A-Za-z_.$][\w.$]*)\+0x[0-9a-f]+/0x[0-9a-f]+')
FRAME_MARKER_RE = re.compile(r'\s*</?(?:TASK|IRQ|NMI|SOFTIRQ|EOE|EOI)>\s*$')
VERSION_RE = re.compile(r'Linux version (\d+\.\d+[^\s]*)')
CPU_RE = re.compile(r'CPU: \d+ (?:UID: \d+ )?PID: \d+ Comm: .*?(?:Not tainted|Tainted: ([A-Z ]*?)) +(\d+\.\d+\S*)(?: #|$)')
TAINT_LIST_RE = re.compile(r'Tainted: ((?:\[[A-Z]\]=\w+(?:, )?)+)')
# Frames that only describe how the report was printed, the same for every crash.
GENERIC_FRAMES = frozenset((
    'dump_stack', 'dump_stack_lvl', 'show_stack', 'show_trace_log_lvl', 'dump_backtrace', 'panic', 'vpanic',
    'nmi_panic', 'check_panic_on_warn', '__warn', 'warn_slowpath_fmt', 'report_bug', 'handle_bug', 'exc_invalid_op',
    'asm_exc_invalid_op', 'die', 'oops_end', 'page_fault_oops', 'do_user_addr_fault', 'exc_page_fault',
    'asm_exc_page_fault', 'kernelmode_fixup_or_oops', '__bad_area_nosemaphore', 'bad_area_nosemaphore', 'no_context',
    'do_trap', 'do_error_trap', 'exc_general_protection', 'asm_exc_general_protection', 'watchdog_timer_fn',
    '__hrtimer_run_queues', 'hrtimer_interrupt', '__sysvec_apic_timer_interrupt', 'sysvec_apic_timer_interrupt',
    'asm_sysvec_apic_timer_interrupt', '__schedule', 'schedule', 'schedule_timeout', 'schedule_preempt_disabled',
    'io_schedule', 'crash_kexec', '__crash_kexec',
))
FRAME_SUFFIX_RE = re.compile(r'(?:\.(?:cold|isra|constprop|part|localalias|lto_priv)(?:\.\d+)?)+$')
MAX_FRAMES = 8
SIGNATURE_FRAMES = 4
WINDOW_LINES = 400
AFTER_LINES = 80
# A whole oops or hung-task report fits in this much text before the panic line (and its dump_stack after it);
# parsing only this keeps a 10,000-dump index under 10 s.
WINDOW_BYTES = 24 * 1024
AFTER_BYTES = 8 * 1024
WINDOW_SECONDS = 10.0


class DmesgLines:
    """dmesg lines as (seconds as text or '', message), parsed only when looked at: most lines never are."""

    def __init__(self, text):
        self.raw = text.splitlines()
        self.parsed = {}

    def __len__(self):
        return len(self.raw)

    def __getitem__(self, key):
        if isinstance(key, slice):
            return [self[idx] for idx in range(*key.indices(len(self.raw)))]
        item = self.parsed.get(key)
        if item is None:
            line = self.raw[key]
            match = PREFIX_RE.match(line)
            item = self.parsed[key] = (match.group(1) or '', line[match.end():])
        return item

    def __iter__(self):
        return (self[idx] for idx in range(len(self.raw)))


def crash_window(text):
    """The part of a dmesg around its last panic line (all of it without one): boot chatter needs no parsing."""
    pos = text.rfind('Kernel panic - not syncing')
    if pos < 0:
        return text
    start = text.rfind('\n', 0, max(pos - WINDOW_BYTES, 0)) + 1
    end = text.find('\n', min(pos + AFTER_BYTES, len(text)))
    return text[start:end if end >= 0 else len(text)]


def is_trigger(message):
    return TRIGGER_RE.match(message) is not None


def find_crash(lines):
    """Index of the line that ended the kernel's life: the last panic line, else the last oops-like line."""
    for idx in range(len(lines) - 1, -1, -1):
        if PANIC_RE.search(lines.raw[idx]):
            return idx
    for idx in range(len(lines) - 1, -1, -1):
        if is_trigger(lines[idx][1]):
            return idx
    return None


def find_reason(lines, crash):
    """First line of the report that led to the crash: walk back over adjacent trigger lines."""
    crash_ts = float(lines[crash][0] or 'nan')
    reason = None
    idx = crash
    while idx >= 0 and crash - idx <= WINDOW_LINES:
        seconds, message = lines[idx]
        if seconds and crash_ts - float(seconds) > WINDOW_SECONDS:
            break
        if is_trigger(message):
            if reason is not None and reason - idx > 8:
                break
            reason = idx
        idx -= 1
    return reason if reason is not None else crash


def parse_frames(lines, start):
    frames = []
    for _seconds, message in lines[start + 1:start + 200]:
        if FRAME_MARKER_RE.match(message):
            if message.strip() == '</TASK>':
                break
            continue
        match = FRAME_RE.match(message)
        if not match:
            break
        if match.group(1):
            continue
        name = match.group(2)
        if name in GENERIC_FRAMES or FRAME_SUFFIX_RE.sub('', name) in GENERIC_FRAMES:
            continue
        frames.append(name)
        if len(frames) == MAX_FRAMES:
            break
    return frames


def find_trace(lines, start, stop):
    for idx in range(max(start, 0), min(stop, len(lines))):
        if lines[idx][1].strip().startswith('Call Trace:') or lines[idx][1].strip() == 'Call trace:':
            return parse_frames(lines, idx)
    return []


def parse_taint(message):
    listed = TAINT_LIST_RE.search(message)
    if listed:
        return ''.join(re.findall(r'\[([A-Z])\]', listed.group(1)))
    match = CPU_RE.search(message)
    if match:
        return (match.group(1) or '').replace(' ', '').replace('G', '')
    return None


def reason_class(reason):
    """Reason without numbers, addresses or [comm:pid], so one bug reads the same everywhere."""
    text = re.sub(r'\[[^\]]*\]\s*$', '', reason)
    text = re.sub(r'0x[0-9a-fA-F]+|\b[0-9a-fA-F]{8,}\b', '#', text)
    text = re.sub(r'\d+', '#', text)
    return re.sub(r'\s+', ' ', text).strip()


def make_signature(reason, rip, frames):
    if not reason and not rip and not frames:
        return None
    norm_frames = [FRAME_SUFFIX_RE.sub('', f) for f in frames[:SIGNATURE_FRAMES]]
    key = '|'.join([reason_class(reason or ''), FRAME_SUFFIX_RE.sub('', rip or ''), ','.join(norm_frames)])
    return hashlib.sha256(key.encode('utf-8')).hexdigest()[:12]


def analyse_dmesg(text):
    """Kernel release, panic reason, RIP symbol, taint, top frames and signature of one dmesg text."""
    result = {'kernel': None, 'reason': None, 'rip': None, 'taint': None, 'frames': [], 'signature': None}
    version = VERSION_RE.search(text)
    lines = DmesgLines(crash_window(text))
    crash = find_crash(lines)
    if crash is not None:
        reason = find_reason(lines, crash)
        result['reason'] = lines[reason][1].strip()
        stop = crash + AFTER_LINES
        for _seconds, message in lines[reason:stop]:
            rip = RIP_RE.search(message)
            if rip and not result['rip']:
                result['rip'] = rip.group(1)
            if result['taint'] is None and 'Comm: ' in message:
                result['taint'] = parse_taint(message)
                cpu = CPU_RE.search(message)
                if cpu and not version:
                    result['kernel'] = cpu.group(2)
        trace_from = reason
        if reason == crash and 'hung_task' in lines[crash][1]:
            # The panicking thread is khungtaskd; the blocked task's stack is the interesting one.
            for idx in range(crash, max(crash - WINDOW_LINES, 0) - 1, -1):
                if HUNG_RE.search(lines.raw[idx]):
                    trace_from = idx
                    break
        result['frames'] = find_trace(lines, trace_from, stop)
        result['signature'] = make_signature(result['reason'], result['rip'], result['frames'])
    if version:
        result['kernel'] = version.group(1)
    elif result['kernel'] is None:
        for _seconds, message in lines:
            cpu = CPU_RE.search(message)
            if cpu:
                result['kernel'] = cpu.group(2)
                break
    return result


def decode_dmesg(data):
    if not data:
        return ''
    if data.count(b'\0') > len(data) // 100:
        raise ValueError('dmesg is binary (NUL bytes)')
    text = data.decode('utf-8', 'replace')
    bad = len(data) - len(data.translate(None, CONTROL_BYTES)) + text.count('\ufffd')
    if bad > len(text) // 20:
        raise ValueError('dmesg is binary (%d of %d characters unprintable)' % (bad, len(text)))
    return text
