# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Report kinds: which kernel messages start a crash report, and how each kind is named.

A title is `<kind> in <guilty function>` in syzbot's conventions (kinds without a location, like
`kernel panic: Attempted to kill init!`, are the kind alone). Each rule names the printk it reads
(kernel source file) and where its guilty function comes from: the faulting instruction (RIP:/pc :),
the call trace, a lockdep `at:` line, the allocation stack, or a stall's dispatcher. A rule returns a
Title; the caller checks the report's stacks unless the kind prints none (stackless).
"""

import re

from kdump_collector.triage_frames import compile_skip, first_guilty, hang_frame, is_infrastructure, stall_frame

# Messages that start a report, searched anywhere in a line (a report header is often glued to other
# output on a busy console). Alternatives of literals and bounded classes: the search is linear.
HEADER_RE = re.compile(
    r'BUG:|BUG [\w.:-]{1,64} \((?:Not t|T)ainted|WARNING:|INFO:|Unable to handle kernel|general protection fault'
    r'|stack segment: |Kernel panic - not syncing|PANIC: double fault|kernel BUG|Kernel BUG|divide error:'
    r'|divide_error:|invalid opcode:|UBSAN:|Booting the kernel|unregister_netdevice: waiting for'
    r'|VFS: Close: file count is 0|VFS: Busy inodes after unmount|Internal error:|Unhandled fault:|Alignment trap:'
    r'|Trigger a crash|Watchdog detected hard LOCKUP|unreferenced object 0x')
# How header lines are found before any other regex runs: short upper-case words by a literal regex (it scans
# for their rare first letter), long phrases by str.find (it skips ahead by their length), and the oops lines
# of die() (x86 traps.c, arm64 traps.c: "general protection fault: 0000 [#1] SMP") by the '#' of their oops
# counter, one cheap character search for all of them.
HEADER_WORDS = ('BUG', 'WARNING', 'INFO', 'UBSAN', 'PANIC', 'LOCKUP')
HEADER_PHRASES = ('Kernel panic - not syncing', 'Unable to handle kernel', 'Unhandled fault', 'Alignment trap',
                  'Booting the kernel', 'Trigger a crash', 'unregister_netdevice', 'unreferenced object',
                  'file count is 0', 'Busy inodes after unmount')
OOPS_COUNTER = '[#'
# Messages that contain a header word but report no bug: informational printks (kernel/locking/
# lockdep.c, kernel/rcu/tree_stall.h, kernel/events/core.c, fs/ext4, fs/xfs, arch/x86/kernel/cpu/bugs.c,
# drivers/video/fbdev, lib/debugobjects.c's own ODEBUG line) and user-space faults of
# arch/x86/kernel/traps.c (`traps: foo[1] general protection fault ip:.. error:0 in libc.so`).
IGNORED_RE = re.compile(
    r'INFO: lockdep is turned off|INFO: Stall ended before state dump start|INFO: NMI handler'
    r'|INFO: recovery required on readonly filesystem|(?:handler|interrupt)[^\n]{0,80}took too long|_INFO:'
    r'|WARNING: [Tt]he mand mount option|WARNING: Unprivileged eBPF is enabled|WARNING: See https'
    r'|WARNING: kernel not compiled with|WARNING: fbcon: Driver|EXT4-fs[^:]{0,40}:|XFS \(\w{1,32}\): WARNING'
    r'|uses (?:deprecated v2 capabilities|wireless extensions)|WARNING: workqueue cpumask'
    r'|general protection fault[^\n]{0,100} error:\d{1,10} in |ODEBUG:|WARNING: /etc/ssh/moduli')
# Headers that continue a report under way rather than start a new one: the oops line after `kernel
# BUG at`, the panic closing a fatal report, arm64's `Internal error:` after its `Unable to handle
# kernel`, a double fault while handling a fault, kmemleak's object lines.
CONTINUATION_RE = re.compile(r'invalid opcode: 0000|Kernel panic - not syncing|unregister_netdevice: waiting for'
                             r'|PANIC: double fault|Internal error:|unreferenced object 0x')

FUNC = r'([A-Za-z_]\w{0,127})(?:\.[\w.]{0,64})?\+0x'
SRC = r'[\w/.-]{1,200}\.[a-z]{1,4}:\d{1,9}'
LOCKDEP_AT_RE = re.compile(r'at: (?:\[<?(?:0x)?[0-9a-f]{1,16}>?\] {1,4})?' + FUNC)
PC_FUNC_RE = re.compile(r'\[<?(?:0x)?[0-9a-f]{1,16}>?\] {1,4}' + FUNC)
READ_WRITE_RE = re.compile(r'(Read|Write) (?:of size|at addr) [0-9a-f]')


def header_kind(message):
    """(position of the report header in message, whether it starts a report), or (-1, False)."""
    match = HEADER_RE.search(message)
    if match is None or IGNORED_RE.search(message) is not None:
        return -1, False
    return match.start(), CONTINUATION_RE.match(message, match.start()) is None


class Title:
    """What a rule decided: kind, guilty frame (raw name), whether a frame was expected, whether the
    report is corrupted by its own form, and whether the kind prints no stack."""

    def __init__(self, kind, frame=None, needs_frame=False, corrupted=False, stackless=False, unknown=False):
        self.kind = kind
        self.frame = frame
        self.needs_frame = needs_frame
        self.corrupted = corrupted
        self.stackless = stackless
        self.unknown = unknown


def pick(names, skip=()):
    return first_guilty(names, compile_skip(skip))


def located(kind, names, skip=(), stackless=False):
    return Title(kind, pick(names, skip), needs_frame=True, stackless=stackless)


def fixed(kind, stackless=False):
    return lambda report, header: Title(kind, stackless=stackless)


def verbatim(header, corrupted=False):
    """A header no rule knows: its own text is the title (normalised later); nothing to check."""
    return Title(header, corrupted=corrupted, stackless=True, unknown=True)


def dispatched(kind, names, skip=()):
    """Stalls and overflows: the frame above the first generic dispatcher."""
    extra = compile_skip(skip)
    return Title(kind, stall_frame([name for name in names if not is_infrastructure(name, extra)]), needs_frame=True)


# --- sanitizers: mm/kasan/report.c, mm/kmsan/report.c, kernel/kcsan/report.c, mm/kfence/report.c ---

KASAN_IN_RE = re.compile(r'BUG: KASAN: ([a-z-]{1,64}(?: or [a-z-]{1,64})?) in ' + FUNC)
KASAN_ADDRESS_RE = re.compile(r'BUG: KASAN: ([a-z-]{1,64}) on address')
# KASAN's hardware tag mode reports from the arm64 fault path (arch/arm64/mm/fault.c).
KASAN_HW_SKIP = (r'kernel_fault', r'tag_check', r'mem_abort', r'^el1_', r'^el1h_')
FREE_SKIP = (r'slab_', r'kfree', r'vunmap', r'vfree')


def kasan(report, header):
    access = report.search(READ_WRITE_RE, 1, 12)
    match = KASAN_IN_RE.match(header)
    if match:
        bug, func = match.group(1), match.group(2)
        names = [func] + report.trace_names(1)
        if bug in ('double-free', 'invalid-free', 'double-free or invalid-free'):
            return located('KASAN: invalid-free', names, FREE_SKIP)
        if access is not None:
            return located('KASAN: %s %s' % (bug, access.group(1)), names, KASAN_HW_SKIP)
    match = KASAN_ADDRESS_RE.match(header)
    if match and access is not None:
        return Title('KASAN: %s %s' % (match.group(1), access.group(1)))
    return Title('KASAN: ' + header[len('BUG: KASAN: '):], corrupted=True)


KMSAN_SKIP = (r'alloc_skb', r'netlink_ack', r'netlink_rcv_skb', r'_encrypt$', r'^(?:crypto|cipher|drbg|rng)_')
USB_SKIP = (r'usb_submit_urb', r'usb_start_wait_urb', r'usb_bulk_msg', r'usb_interrupt_msg', r'usb_control_msg')


def kmsan(report, header):
    # The use's stack follows the header directly; the origin stacks come after.
    match = re.match(r'BUG: KMSAN: ([a-z-]{1,64}) in ' + FUNC, header)
    if match is None:
        return Title('KMSAN: ' + header[len('BUG: KMSAN: '):], corrupted=True)
    skip = ((r'alloc_skb',) + USB_SKIP) if match.group(1) == 'kernel-usb-infoleak' else KMSAN_SKIP
    title = located('KMSAN: ' + match.group(1), report.stack_names(1), skip, stackless=True)
    origin = report.find(('Uninit was created at:', ' created at:'), 1)
    # Without the origin's stack (cut, or "(stack is not available)") the report is incomplete.
    title.corrupted = origin is None or not report.stack_names(origin + 1)
    return title


def kcsan(report, header):
    # "BUG: KCSAN: data-race in foo / bar": the two racing functions are the location.
    kind, _sep, where = header[len('BUG: '):].partition(' in ')
    return Title(kind, where.strip() or None, stackless=True)


KFENCE_RE = re.compile(r'BUG: KFENCE: ((?:use-after-free|out-of-bounds|invalid) (?:read|write)|invalid free'
                       r'|memory corruption) in ' + FUNC)


def kfence(report, header):
    match = KFENCE_RE.match(header)
    if match is None:
        return Title('KFENCE: ' + header[len('BUG: KFENCE: '):], corrupted=True)
    bug = match.group(1)
    return located('KFENCE: ' + bug, [match.group(2)] + report.stack_names(1),
                   stackless=bug in ('invalid free', 'memory corruption'))


# --- faults and traps: arch/x86/mm/fault.c, arch/x86/kernel/traps.c, arch/arm64/mm/fault.c ---------

def faulting(kind):
    """Kinds named by the faulting function: RIP/pc first, then the call trace below it."""
    return lambda report, header: located(kind, report.rip_and_trace_names())


def paging(report, header):
    text = header.lower()
    if 'null pointer dereference' in text:
        kind = 'BUG: unable to handle kernel NULL pointer dereference'
    elif 'paging request' in text or 'page fault for address' in text or 'data access' in text:
        kind = 'BUG: unable to handle kernel paging request'
    elif 'access to user memory' in text:
        kind = 'BUG: unable to handle kernel access to user memory'
    else:
        # The second printk of the header was lost (x86 show_fault_oops prints it in two).
        return Title('BUG: unable to handle kernel', corrupted=True)
    return located(kind, report.rip_and_trace_names())


def rip_only(kind):
    def rule(report, header):
        rip = report.rip()
        return located(kind, [rip[0]] if rip else [])
    return rule


# --- BUG: family: kernel/sched/core.c, kernel/locking/, mm/, kernel/watchdog.c, mm/kmemleak.c -------

def spinlock(report, header):
    match = re.match(r'BUG: (spinlock|rwlock) (lockup suspected|already unlocked|recursion|cpu recursion|bad magic'
                     r'|wrong owner|wrong CPU|trylock failure on UP)', header)
    if match is None:
        return verbatim(header)
    return located('BUG: %s %s' % match.groups(), report.trace_names(0), (r'spin_', r'_lock', r'_unlock'))


def stall(kind):
    """Soft lockups, hard lockups and stack-guard hits: the dispatcher rule over RIP and the trace."""
    return lambda report, header: dispatched(kind, report.rip_and_trace_names())


def rcu_stall(report, header):
    # kernel/rcu/tree_stall.h: the stalled CPU's registers follow the timer interrupt that found it;
    # a CPU that detects its own stall prints them first (NMI backtrace of itself), then its trace.
    start = report.find(('apic_timer_interrupt', 'Exception stack', 'el1h_64_irq'), 1)
    if start is None:
        names = report.rip_and_trace_names() if header.startswith('INFO: rcu_') and 'self-detected' in header else []
    else:
        rip = report.rip(start)
        names = [rip[0]] + report.stack_names(rip[1] + 1) if rip else report.stack_names(start + 1)
    return dispatched('INFO: rcu detected stall', names, (r'apic_timer_interrupt', r'rcu'))


WORKQUEUE_LOCK_SKIP = (r'process_one_work', r'flush_workqueue', r'drain_workqueue', r'destroy_workqueue')


def lockdep_at(kind, after, stackless=False):
    """Lockdep names the lock's acquirer in `..., at: func+0x..` lines (kernel/locking/lockdep.c
    print_lock); the first one after `after`, then the stack. Workqueue functions take their work's
    lockdep map, so they are skipped: the deadlock is the work item's."""
    def rule(report, header):
        start = report.find((after,), 1) if after else 1
        names = []
        if start is not None:
            for idx in range(start, report.end):
                match = LOCKDEP_AT_RE.search(report.lines[idx])
                if match:
                    names.append(match.group(1))
            names += report.trace_names(start)
        return located(kind, names, WORKQUEUE_LOCK_SKIP, stackless=stackless)
    return rule


def ip_line(kind):
    """Reports that print the lock's ip as `[<address>] func+0x..` (lockdep print_ip_sym)."""
    def rule(report, header):
        names = []
        for idx in range(1, report.end):
            match = PC_FUNC_RE.search(report.lines[idx])
            if match:
                names.append(match.group(1))
                break
        return located(kind, names + report.trace_names(0))
    return rule


def held_locks(kind):
    """`... still has locks held!`: the first held lock's acquirer."""
    def rule(report, header):
        for idx in range(1, report.end):
            match = LOCKDEP_AT_RE.search(report.lines[idx]) or PC_FUNC_RE.search(report.lines[idx])
            if match:
                return located(kind, [match.group(1)])
        return located(kind, [])
    return rule


def traced(kind, skip=()):
    return lambda report, header: located(kind, report.trace_names(0), skip)


PAGE_SKIP = (r'(?:free|put|get|update|release)_page', r'free_unref', r'^_*folio', r'truncate_inode_pages',
             r'page_frag_free', r'alloc', r'vmap', r'page_owner')


def bad_page(report, header):
    # mm/page_alloc.c bad_page(): with page_owner, the stack that allocated the page names the bug.
    match = re.match(r'BUG: Bad page (state|cache)', header)
    start = report.find(('page last allocated',), 1)
    return located('BUG: Bad page ' + match.group(1), report.stack_names(start + 1) if start is not None else [],
                   PAGE_SKIP)


LEAK_SKIP = (r'kmemleak', r'mmap', r'kmem', r'slab', r'alloc', r'create_object', r'idr_get', r'list_lru_init',
             r'kasprintf', r'kvasprintf', r'pcpu_create', r'strdup', r'strndup', r'memdup')


def memory_leak(report, header):
    # mm/kmemleak.c print_unreferenced(): the allocation's backtrace names the leaking caller.
    start = report.find(('backtrace:', 'backtrace (crc'), 1)
    return located('memory leak', report.stack_names(start + 1) if start is not None else [], LEAK_SKIP)


def last_function(report, header):
    # kernel/workqueue.c process_one_work(): "last function: <work function>".
    idx = report.find(('last function: ',), 1)
    match = re.search(r'last function: (\w{1,128})', report.lines[idx]) if idx is not None else None
    return Title('BUG: workqueue leaked lock or atomic', match.group(1) if match else None, needs_frame=True,
                 stackless=True)


def dentry(report, header):
    # fs/dcache.c umount_check(): "... still in use (1) [unmount of ext4 sda1]"; the device and file
    # system vary by host, the operation does not.
    match = re.search(r'\[(\w{1,32}) of ', header)
    return Title('BUG: Dentry still in use', match.group(1) if match else None, needs_frame=True)


BUG_RULES = (
    ('BUG: KASAN:', kasan),
    ('BUG: KMSAN:', kmsan),
    ('BUG: KCSAN:', kcsan),
    ('BUG: KFENCE:', kfence),
    ('BUG: unable to handle', paging),
    ('BUG: Unable to handle', paging),
    ('BUG: kernel NULL pointer dereference', paging),
    ('BUG: Kernel NULL pointer dereference', paging),
    ('BUG: spinlock ', spinlock),
    ('BUG: rwlock ', spinlock),
    ('BUG: soft lockup', stall('BUG: soft lockup')),
    ('BUG: scheduling while atomic', traced('BUG: scheduling while atomic', (r'schedule',))),
    ('BUG: lock held when returning to user space',
     lockdep_at('BUG: lock held when returning to user space', 'leaving the kernel with locks still held', True)),
    ('BUG: bad unlock balance detected!', ip_line('BUG: bad unlock balance')),
    ('BUG: held lock freed!', ip_line('BUG: held lock freed')),
    ('BUG: Bad rss-counter state', fixed('BUG: Bad rss-counter state', stackless=True)),
    ('BUG: non-zero nr_ptes on freeing mm', fixed('BUG: non-zero nr_ptes on freeing mm', stackless=True)),
    ('BUG: non-zero nr_pmds on freeing mm', fixed('BUG: non-zero nr_pmds on freeing mm', stackless=True)),
    ('BUG: Dentry ', dentry),
    ('BUG: Bad page state', bad_page),
    ('BUG: Bad page cache', bad_page),
    ('BUG: Bad page map', fixed('BUG: Bad page map')),
    ('BUG: workqueue lockup', fixed('BUG: workqueue lockup', stackless=True)),
    ('BUG: sleeping function called from invalid context', traced('BUG: sleeping function called from invalid context')),
    ('BUG: workqueue leaked lock or atomic', last_function),
    ('BUG: memory leak', memory_leak),
    # lockdep's arm64 form of an invalid wait context; x86 reports it as a lockdep WARNING.
    ('BUG: Invalid wait context', traced('WARNING: locking bug', (r'lock_sock', r'release_sock'))),
)
PREEMPTIBLE_RE = re.compile(r'BUG: using (\w{1,64})\(\) in preemptible')
PREEMPTIBLE_SKIP = (r'dump_stack', r'preemption', r'preempt', r'debug_', r'processor_id', r'this_cpu')
STACK_GUARD_RE = re.compile(r'BUG: [^\n]{0,100}stack guard page was hit at')
STILL_LOCKS_RE = re.compile(r'(BUG|WARNING): [^\n]{0,200}still has locks held!')


def bug(report, header):
    for prefix, rule in BUG_RULES:
        if header.startswith(prefix):
            return rule(report, header)
    match = PREEMPTIBLE_RE.match(header)
    if match:
        return located('BUG: using %s() in preemptible code' % match.group(1), report.trace_names(0), PREEMPTIBLE_SKIP)
    if STACK_GUARD_RE.match(header):
        return stall('BUG: stack guard page was hit')(report, header)
    match = STILL_LOCKS_RE.match(header)
    if match:
        return held_locks(match.group(1) + ': still has locks held')(report, header)
    if not header[len('BUG:'):].strip():
        return Title('BUG: corrupted', corrupted=True)
    return verbatim(header)


# --- WARNING: family: kernel/panic.c __warn, lockdep, RCU lockdep, lib/debugobjects.c, ... -----------

# (source file of the WARN, kind, extra skips): warnings raised by a generic checker on behalf of its
# caller are named after the checker and located at the caller.
WARN_FILE_RULES = (
    ('lib/debugobjects.c', 'WARNING: ODEBUG bug', (r'debug_', r'rcu', r'hrtimer_', r'timer_', r'work_', r'percpu_',
                                                   r'vunmap', r'vfree', r'__free_', r'debug_check', r'kobject_')),
    ('mm/usercopy.c', 'WARNING: bad usercopy', (r'usercopy', r'__check')),
    ('lib/kobject.c', 'WARNING: kobject bug', (r'kobject_',)),
    ('fs/proc/generic.c', 'WARNING: proc registration bug', (r'proc_',)),
    ('lib/refcount.c', 'WARNING: refcount bug', (r'refcount', r'kobject_')),
)
# `WARNING: CPU: 1 PID: 2 at file.c:12 func+0x..` (__warn), `WARNING: at file.c:12 func()` (before
# 3.x), and since 6.19 `WARNING: file.c:12 at func+0x.., CPU#1: comm/2`.
WARN_AT_RE = re.compile(r'WARNING: (?:CPU: \d{1,5} PID: \d{1,10} at |at |\[[^\]]{0,64}\] )?(' + SRC + r')(?: |\Z)')
WARN_NEW_RE = re.compile(r'WARNING: (' + SRC + r') at ')
MALLOC_RE = re.compile(r' k?.?malloc')
LOCK_SOCK_SKIP = (r'lock_sock', r'release_sock')
LOCKDEP_RULES = (
    ('possible circular locking dependency detected', lockdep_at('possible deadlock', 'is trying to acquire lock')),
    ('possible irq lock inversion dependency detected', lockdep_at('possible deadlock', 'just changed the state of lock')),
    ('possible recursive locking detected', lockdep_at('possible deadlock', 'is trying to acquire lock')),
    ('inconsistent lock state', traced('inconsistent lock state')),
    ('bad unlock balance detected!', ip_line('WARNING: bad unlock balance')),
    ('held lock freed!', lockdep_at('WARNING: held lock freed', None)),
    ('lock held when returning to user space',
     lockdep_at('WARNING: lock held when returning to user space', 'leaving the kernel with locks still held', True)),
)
SAFE_UNSAFE_RE = re.compile(r'(?:WARNING|INFO): [\w-]{1,32}-safe -> [\w-]{1,32}-unsafe lock order detected')


def warning_stack_names(report, skip=()):
    """WARN()'s location: the RIP of its trap (or powerpc's interrupt line) and the frames printed
    right after it (kernels before 4.15), else the call trace."""
    rip = report.rip()
    if rip is not None:
        names = [rip[0]] + report.stack_names(rip[1] + 1)
    else:
        idx = report.find(('--- interrupt: ',), 1)
        match = re.search(r' at ' + FUNC, report.lines[idx]) if idx is not None else None
        names = [match.group(1)] + report.stack_names(idx + 1) if match else []
    return names if pick(names, skip) else report.trace_names(0)


def warned(kind, skip=()):
    return lambda report, header: located(kind, warning_stack_names(report, skip), skip)


def stack_regs(header):
    # arch/x86/kernel/unwind_frame.c: the unwinder met a bad frame pointer; with a hashed or hidden
    # address only the class is known.
    match = re.match(r"WARNING: kernel stack regs at [0-9a-f]{1,16} in \S{1,64} has bad '(\w{1,16})' value", header)
    if match:
        return Title("WARNING: kernel stack regs has bad '%s' value" % match.group(1), stackless=True)
    if re.match(r'WARNING: kernel stack frame pointer at [0-9a-f]{1,16} in \S{1,64} has bad value', header):
        return Title('WARNING: kernel stack frame pointer has bad value', stackless=True)
    return Title('WARNING: kernel stack regs has bad value', stackless=True)


def warn_at(report, header, source, rest):
    for path, kind, skip in WARN_FILE_RULES:
        if path in source:
            return warned(kind, skip)(report, header)
    if 'kernel/locking/lockdep.c' in source and 'lock_' in rest:
        return warned('WARNING: locking bug', LOCK_SOCK_SKIP)(report, header)
    if source.startswith('mm/') and MALLOC_RE.search(' ' + rest):
        return warned('WARNING: kmalloc bug', (r'kmalloc', r'krealloc', r'slab', r'kmem'))(report, header)
    if source.startswith('mm/vmalloc.c') and '__vmalloc_node' in rest:
        return warned('WARNING: zero-size vmalloc')(report, header)
    if 'usb_submit_urb' in rest:
        # drivers/usb/core/urb.c checks the URB a driver submits: the driver is named, with the check.
        frame = pick(warning_stack_names(report, USB_SKIP), USB_SKIP)
        return Title('WARNING', frame and frame + '/usb_submit_urb', needs_frame=True)
    return warned('WARNING')(report, header)


def warning(report, header):
    for phrase, rule in LOCKDEP_RULES:
        if header.startswith(('WARNING: ' + phrase, 'INFO: ' + phrase)):
            return rule(report, header)
    if header.startswith(('WARNING: suspicious RCU usage', 'INFO: suspicious RCU usage')):
        return located(header[:header.index(':')] + ': suspicious RCU usage', report.trace_names(0),
                       (r'rcu', r'kmem', r'slab'))
    if header.startswith('WARNING: Nested lock was not taken'):
        return warned('WARNING: nested lock was not taken')(report, header)
    if SAFE_UNSAFE_RE.match(header):
        start = report.find(('which became ',), 1)
        return located('possible deadlock', report.stack_names(start + 1) if start is not None else [])
    if header.startswith(('WARNING: kernel stack regs at ', 'WARNING: kernel stack frame pointer at ')):
        return stack_regs(header)
    if STILL_LOCKS_RE.match(header):
        return held_locks('WARNING: still has locks held')(report, header)
    match = WARN_AT_RE.match(header) or WARN_NEW_RE.match(header)
    if match:
        return warn_at(report, header, match.group(1), header[match.end():])
    if not header[len('WARNING:'):].strip():
        return Title('WARNING: corrupted', corrupted=True)
    return verbatim(header)


HUNG_RE = re.compile(r'blocked for more than \d{1,10} seconds')


def info(report, header):
    if header.startswith(('INFO: possible ', 'INFO: suspicious RCU usage')) or SAFE_UNSAFE_RE.match(header):
        return warning(report, header)
    if header.startswith('INFO: inconsistent lock state'):
        return lockdep_at('inconsistent lock state', 'takes')(report, header)
    if re.match(r'INFO: rcu_\w{1,16} (?:self-)?detected(?: expedited)? stall', header):
        return rcu_stall(report, header)
    if header.startswith('INFO: trying to register non-static key'):
        return located('INFO: trying to register non-static key', report.trace_names(0), (r'stack', r'lock', r'IRQ'))
    if header.startswith('INFO: task ') and report.search(HUNG_RE, 0, 3):
        # kernel/hung_task.c; a task name may hold a newline, so the line can be split.
        names = [name for name in report.trace_names(0) if not is_infrastructure(name)]
        return Title('INFO: task hung', hang_frame(names), needs_frame=True)
    if header.startswith('INFO: task ') and "can't die for more than" in header:
        return located("INFO: task can't die", report.trace_names(0), (r'schedule',))
    if header.startswith(('INFO: Freed in ', 'INFO: Allocated in ')):
        # SLUB debug's object history (mm/slub.c print_track) seen without the report it belongs to.
        return Title(header, corrupted=True, stackless=True)
    if not header[len('INFO:'):].strip():
        return Title('INFO: corrupted', corrupted=True)
    return verbatim(header)


# --- panics: callers of kernel/panic.c panic() ------------------------------------------------------

# panic() calls that only close a report printed before them: met first, they mean that report was
# lost (kernel/exit.c make_task_dead, kernel/panic.c check_panic_on_warn, kernel/hung_task.c).
CONSEQUENCE_PANICS = ('Fatal exception', 'panic_on_warn set', 'hung_task: blocked tasks')


def panic(report, header):
    reason = header[len('Kernel panic - not syncing:'):].strip()
    if reason.startswith('stack-protector: Kernel stack is corrupted in: '):
        # kernel/panic.c __stack_chk_fail names the function whose canary died.
        match = re.search(FUNC, reason)
        if match:
            return Title('kernel panic: stack is corrupted', match.group(1), needs_frame=True, stackless=True)
        return located('kernel panic: stack is corrupted', report.trace_names(0), (r'stack_chk',))
    if reason.startswith('corrupted stack end detected inside scheduler'):
        return dispatched('kernel panic: corrupted stack end', report.trace_names(0), (r'schedule', r'retint_kernel'))
    if reason.startswith('kernel stack overflow'):
        return dispatched('kernel stack overflow', report.trace_names(0), (r'bad_stack',))
    if reason.startswith('Attempted to kill init!'):
        return Title('kernel panic: Attempted to kill init!')
    if reason.startswith("Couldn't open N_TTY ldisc"):
        return Title("kernel panic: Couldn't open N_TTY ldisc")
    for consequence in CONSEQUENCE_PANICS:
        # x86 oops_end: "Fatal exception"; arm64 die(): "Oops - BUG: Fatal exception in interrupt".
        if consequence in reason:
            return Title('kernel panic: ' + consequence, corrupted=True)
    return Title('kernel panic: ' + reason)


def kernel_bug(report, header):
    if header.startswith('kernel BUG at mm/usercopy.c'):
        return traced('BUG: bad usercopy', (r'usercopy', r'__check'))(report, header)
    if header.startswith('kernel BUG at lib/list_debug.c'):
        return traced('BUG: corrupted list')(report, header)
    if header.startswith('kernel BUG at '):
        # Many skb helpers BUG_ON() on bad arguments: the caller is at fault (include/linux/skbuff.h).
        return located('kernel BUG', report.rip_and_trace_names(), (r'^skb_',))
    return Title(header)


def ubsan(report, header):
    # lib/ubsan.c: "UBSAN: <check> in file.c:12:3" (before 5.8: "UBSAN: Undefined behaviour in ...").
    match = re.match(r'UBSAN: ([\w -]{1,64}?) in ', header)
    if match is None:
        return verbatim(header, corrupted=True)
    check = 'undefined-behaviour' if match.group(1) == 'Undefined behaviour' else match.group(1)
    return located('UBSAN: ' + check, report.trace_names(0), (r'ubsan', r'overflow'))


# Header word -> rule, tried in order.
RULES = (
    ('BUG:', bug),
    ('WARNING:', warning),
    ('INFO:', info),
    ('Unable to handle kernel', paging),
    ('general protection fault', faulting('general protection fault')),
    ('stack segment: ', faulting('stack segment fault')),
    ('Kernel panic - not syncing', panic),
    ('PANIC: double fault', rip_only('PANIC: double fault')),
    ('kernel BUG', kernel_bug),
    ('Kernel BUG', lambda report, header: Title('kernel BUG ' + header[len('Kernel BUG '):])),
    ('divide error:', rip_only('divide error')),
    ('divide_error:', rip_only('divide error')),
    ('invalid opcode:', rip_only('invalid opcode')),
    ('UBSAN:', ubsan),
    ('Booting the kernel', fixed('unexpected kernel reboot', stackless=True)),
    ('unregister_netdevice: waiting for', fixed('unregister_netdevice: waiting for DEV to become free', stackless=True)),
    ('VFS: Close: file count is 0', fixed('VFS: Close: file count is zero (use-after-free)', stackless=True)),
    ('VFS: Busy inodes after unmount', fixed('VFS: Busy inodes after unmount (use-after-free)', stackless=True)),
    ('Internal error:', faulting('Internal error')),
    ('Unhandled fault:', faulting('Unhandled fault')),
    ('Alignment trap:', faulting('Alignment trap')),
    # drivers/tty/sysrq.c sysrq_handle_crash: a crash on purpose, one name on every kernel version
    # (since 4.x the kernel panics with this text; before, it oopsed on a NULL write).
    ('Trigger a crash', fixed('kernel panic: sysrq triggered crash')),
    # kernel/watchdog_perf.c and watchdog_buddy.c: a CPU stuck with interrupts off.
    ('Watchdog detected hard LOCKUP', stall('BUG: hard lockup')),
    ('unreferenced object 0x', memory_leak),
)


def describe(report, header):
    """Title of the report whose header (the message from its header word on) is given."""
    if header.startswith('BUG ') and not header.startswith('BUG:'):
        # mm/slub.c slab_bug(): "BUG <cache> (Not tainted): <problem>".
        return fixed('BUG: Object already free')(report, header) if 'Object already free' in header else verbatim(header)
    for word, rule in RULES:
        if header.startswith(word):
            return rule(report, header)
    return verbatim(header)
