# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stack frames of kernel reports: how a frame line reads, and which frames are infrastructure.

The guilty frame of a report is its first frame that is not infrastructure: code that only reports,
traps, locks, copies, allocates or walks generic data structures on behalf of its caller. A bug is
almost never there (and when it is, every caller crashes in it, so naming the caller still groups
crashes by the code path that hit it). The skip list below is that infrastructure, by kernel source
area; a name is matched against it after its compiler suffix (.isra.0, .cold, .constprop.0) is cut.
"""

import re

# One frame line, after the dmesg prefix: x86-64 ` func+0x1f/0x20 [mod]`, older x86 with addresses
# ` [<ffffffff8141e8a4>] ? func+0x94/0x150`, arm64 `  func+0x1c/0x30`, lockdep's `at: func+0x..`-less
# lines are handled by their report kind. `? ` marks an address found on the stack that the unwinder
# could not prove is a return address (arch/x86/kernel/dumpstack.c printk_stack_address): unreliable.
FRAME_RE = re.compile(r'[ \t]*(?:\[<?(?:0x)?[0-9a-f]{1,16}>?\] ?){0,2}(\? )?'
                      r'([A-Za-z_][\w.$]{0,127})\+0x[0-9a-f]{1,16}/0x[0-9a-f]{1,16}')
# arm (32-bit) unwinder lines: `[<c0123>] (callee) from [<c0456>] (caller+0x10/0x14)`.
ARM_FRAME_RE = re.compile(r'[ \t]*\[<[0-9a-f]{1,16}>\] \(([A-Za-z_][\w.$]{0,127})\) from '
                          r'\[<[0-9a-f]{1,16}>\] \(([A-Za-z_][\w.$]{0,127})\+0x')
# A symbolizer's (scripts/decode_stacktrace.sh, syzkaller) extra line for code inlined into the next
# frame: `func file.c:12 [inline]`. Inlining differs between builds of one kernel, so inline frames
# never name a bug; the frame holding them does.
INLINE_SUFFIX = ' [inline]'


def parse_frame(message):
    """(names, reliable) of a frame line, or None. Inline lines count as none. An arm line names the
    callee and its caller."""
    if message.endswith(INLINE_SUFFIX):
        return None
    match = FRAME_RE.match(message)
    if match:
        return (match.group(2),), match.group(1) is None
    match = ARM_FRAME_RE.match(message)
    if match:
        return match.groups(), True
    return None


def base_name(name):
    """The function a frame names, without the compiler's clone suffixes (foo.isra.0, foo.cold)."""
    return name.split('.', 1)[0]


# Syscall entry points carry wrapper prefixes that differ by architecture and kernel version
# (include/linux/syscalls.h SYSCALL_DEFINEx, arch/x86/include/asm/syscall_wrapper.h,
# arch/arm64/include/asm/syscall_wrapper.h): __x64_sys_foo, __arm64_sys_foo and old SyS_foo are one
# syscall. The arch wrappers reduce to sys_foo, the inner helpers to their name; the longest matching
# prefix goes, once.
SYSCALL_PREFIXES = sorted((
    '__x64_', '__ia32_', '__arm64_', '__riscv_', '__s390x_', '__s390_', '__se_', '__se_sys_', '__do_sys_',
    '__sys_', '___sys_', '____sys_', 'sys_', 'SyS_', 'SYSC_', 'compat_SyS_', 'compat_SYSC_', 'ksys_',
), key=len, reverse=True)


def canonical(name):
    """Frame name as titles give it: clone suffix cut, syscall wrapper prefix dropped."""
    name = base_name(name)
    for prefix in SYSCALL_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix):]
    return name


# Infrastructure, by kernel source area. Each entry is a regular expression searched in the base
# name; anchors keep it to the family it names.
SKIP_PATTERNS = (
    # Reporting and printing: lib/dump_stack.c, kernel/printk/, lib/vsprintf.c, lib/hexdump.c,
    # arch/*/kernel/dumpstack.c and stacktrace.c, the unwinders, drivers/base/core.c dev_printk.
    r'dump_stack', r'show_stack', r'show_trace', r'dump_backtrace', r'walk_stack', r'stack_trace_',
    r'arch_stack_walk', r'^unwind_', r'^__unwind_', r'^show_regs$', r'^__show_regs$', r'printk', r'^vprintk',
    r'^print_', r'^__print_', r'print_tainted', r'^get_taint$', r'^va_format$', r'^vsnprintf$',
    r'snprintf$', r'^sprintf$', r'kasprintf', r'^string$', r'^pointer$', r'hex_dump', r'^dev_(?:info|notice|warn|err|alert|crit|emerg)$',
    r'^_dev_(?:info|notice|warn|err|alert|crit|emerg)$',
    # Panic, BUG and WARN machinery: kernel/panic.c, lib/bug.c, arch/x86/kernel/traps.c,
    # arch/arm64/kernel/traps.c, arch/*/mm/fault.c, arch/arm64/kernel/entry-common.c,
    # arch/powerpc/kernel/traps.c (program_check_exception).
    r'panic', r'^__warn', r'warn_slowpath', r'^report_bug$', r'^fixup_bug', r'^handle_bug$', r'invalid_op',
    r'do_error_trap', r'_trap$', r'^do_trap', r'^die$', r'^__die', r'^oops_', r'^page_fault_oops$',
    r'^kernelmode_fixup_or_oops$', r'^no_context$', r'bad_area', r'^do_user_addr_fault$', r'^do_kern_addr_fault$',
    r'^exc_', r'^asm_exc_', r'^handle_page_fault$', r'^do_(?:kernel|translation)_fault$', r'^__do_kernel_fault$',
    r'^do_mem_abort$', r'^el1_', r'^el1h_64_', r'^arm64_notify_die$', r'^bug_handler$', r'^brk_handler$',
    r'^call_break_hook$', r'^do_debug_exception$', r'program_check_', r'^__fortify_report$', r'fortify_panic',
    # Sanitizer and coverage runtimes: mm/kasan/, mm/kmsan/, kernel/kcsan/, mm/kfence/, lib/ubsan.c,
    # kernel/kcov.c; their checks run inside the function that made the bad access.
    r'kasan', r'__asan', r'hwasan', r'kmsan', r'__msan', r'^kcsan_', r'^__tsan_', r'^kfence_', r'^__kfence_',
    r'ubsan', r'__sanitizer', r'^write_comp_data$', r'^check_memory_region', r'^describe_object',
    r'^check_heap_object$', r'^check_object$', r'^read_word_at_a_time$', r'_once_.*nocheck',
    # Locking primitives and lockdep: kernel/locking/, include/linux/spinlock*.h, kernel/softirq.c
    # (bh enable/disable), kernel/trace/trace_preemptirq.c.
    r'lockdep', r'^lock_acquire', r'^lock_release$', r'^__lock_acquire', r'^lock_acquired$', r'^lock_contended$',
    r'lock_class', r'^mark_lock', r'^(?:reacquire|mark)_held_locks$', r'^lock_is_held', r'^match_held_lock$',
    r'^validate_chain$', r'^check_prev_add', r'^check_noncircular$', r'^check_irq_usage$',
    r'spin_lock', r'spin_trylock', r'spin_unlock', r'^_raw_', r'^do_raw_', r'^raw_spin_rq',
    r'read_lock', r'read_trylock', r'read_unlock', r'write_lock', r'write_trylock', r'write_unlock',
    r'^down$', r'^__down', r'^down_', r'^up_read', r'^up_write', r'^rwsem_', r'^__rwsem_', r'^percpu_(?:down|up)_',
    r'^mutex_', r'^__mutex_', r'^rt_mutex_', r'^__rt_mutex_', r'^osq_', r'^owner_on_cpu$', r'seqprop_assert',
    r'bh_enable', r'bh_disable', r'^(?:trace|lockdep)_(?:hard|soft)irqs?_',
    # Atomics, bit operations and reference counts: include/linux/atomic/, include/linux/refcount.h,
    # lib/refcount.c, include/linux/kref.h, lib/ref_tracker.c.
    r'atomic(?:64|_long)?_(?:dec|inc|read|set|or|xor|and|add|sub|fetch|xchg|cmpxchg|try)', r'(?:set|clear|change|test)_bit', r'^refcount_', r'^__refcount_',
    r'^kref_', r'ref_tracker',
    # Memory and string helpers: lib/string.c, arch/*/lib/mem*, lib/usercopy.c, lib/iov_iter.c,
    # include/linux/uaccess.h, kernel/sched/core.c (might_sleep checks).
    r'memcpy', r'memmove', r'memset', r'memcmp', r'memchr', r'memdup', r'^str(?:n?cmp|n?cpy|lcpy|scpy|n?len|chr|rchr|n?str|n?dup)$',
    r'^kstrn?dup', r'^__str', r'copy_(?:to|from)_user', r'^_copy_(?:to|from)_', r'^raw_copy_', r'copy_(?:to|from)_iter',
    r'copy_page_(?:to|from)_iter', r'copy_folio_to_iter', r'^(?:__)?(?:put|get)_user', r'might_fault',
    r'might_sleep', r'might_resched',
    # Allocators: mm/slab*.c, mm/slub.c, mm/page_alloc.c, mm/vmalloc.c, mm/util.c, mm/mempool.c,
    # include/linux/slab.h and gfp.h wrappers; an allocation fails or warns on behalf of its caller.
    r'kv?[mzc]alloc', r'^krealloc', r'^_*kmem_cache_', r'^slab_', r'^__slab_',
    r'^___slab_', r'^allocate_slab$', r'^new_slab$', r'^(?:__)?alloc_pages', r'^alloc_page', r'^__alloc_frozen_pages',
    r'^folio_alloc', r'^__folio_alloc', r'^kv?free$', r'^kfree_skb', r'^__kmem_cache_free', r'^mempool_', r'^__vmalloc', r'^vmalloc',
    r'^vzalloc', r'^kvrealloc',
    # Generic data structures: lib/list_debug.c, lib/rbtree.c, lib/klist.c, lib/xarray.c.
    r'^__list_', r'^list_(?:add|del|replace|move|splice)', r'^rb_', r'^__rb_', r'^xas_(?:start|load|find)',
    # Retpoline thunks (arch/x86/lib/retpoline.S) and MMIO accessors (include/asm-generic/io.h):
    # they run on behalf of the calling driver.
    r'_indirect_thunk_', r'^(?:__raw_)?(?:read|write)[bwlq]$', r'^logic_(?:in|out)',
    # CRC helpers (lib/crc*.c): a bad buffer is the caller's.
    r'^crc\d', r'^crc_itu_t', r'^__crc',
    # Deferred work, timers, waits (kernel/workqueue.c, kernel/time/timer.c, kernel/sched/wait.c and
    # completion.c, kernel/kthread.c): they wait for, queue or cancel work for their caller, so a hang
    # or an object-debugging warning inside them belongs to the caller.
    r'del_timer', r'timer_delete', r'^lock_timer_base$', r'^__mod_timer$', r'^mod_timer$',
    r'stop_timer_sync', r'flush_work', r'^__cancel_work', r'^cancel_(?:delayed_)?work', r'^try_to_grab_pending$',
    r'flush_workqueue', r'drain_workqueue', r'destroy_workqueue', r'^queue_work', r'^__queue_work$', r'^insert_work$',
    r'queue_delayed_work', r'^wait_for_completion', r'^complete$', r'^finish_wait$', r'^__wake_up', r'^kthread_stop',
    # Object debugging (lib/debugobjects.c): it reports misuse found in its caller.
    r'debug_object', r'_is_static_object$',
    # Driver core, kobject and sysfs plumbing (drivers/base/core.c, drivers/base/devres.c, lib/kobject.c,
    # lib/kobject_uevent.c, fs/sysfs/): registration and teardown on a driver's behalf.
    r'^kobject_', r'^__kobject_', r'add_uevent_var', r'^get_device_parent$', r'^put_device$', r'^get_device$',
    r'^device_(?:add|del|register|unregister|destroy|release|for_each_child|remove_file|create_file)$',
    r'^devres_release', r'^sysfs_(?:remove|create)_', r'^klist_',
    # USB core URB and control helpers (drivers/usb/core/urb.c, message.c): they check the driver's URB.
    r'^usb_(?:submit|kill|poison|unlink)_urb', r'^usb_kill_anchored_urbs', r'^usb_(?:control|bulk|interrupt)_msg',
    r'^usb_start_wait_urb', r'^usb_hcd_submit_urb',
    # Page cache, inode and dentry helpers that assert their caller's state (mm/filemap.c, fs/inode.c,
    # fs/dcache.c, mm/truncate.c) and address conversion (arch/x86/mm/physaddr.c).
    r'^(?:__)?(?:un)?lock_page', r'^folio_(?:un)?lock', r'^__folio_lock', r'^drop_nlink$', r'^clear_nlink$', r'^dput$',
    r'^fast_dput$', r'^iput', r'^ihold$', r'^__filemap_get_folio', r'^filemap_alloc_folio', r'^pagecache_get_page$',
    r'^find_or_create_page$', r'^grab_cache_page', r'^read_cache_', r'^do_read_cache_', r'^truncate_inode_pages',
    r'^find_lock_entries$', r'^__phys_addr$',
    # Helpers whose only job is a warning or an assertion about their caller (mm/page_alloc.c
    # warn_alloc, kernel/locking/irqflag-debug.c warn_bogus_irq_restore, fs/btrfs/messages.c assertfail).
    r'^warn_', r'assertfail', r'^__assert_fail',
    # Subsystem cores unregistering a driver's device (drivers/tty/tty_io.c, drivers/char/hw_random/core.c,
    # drivers/i2c/i2c-core-base.c, drivers/char/misc.c, net/core/dev.c): a use-after-free inside is the
    # driver handing over a freed object.
    r'unregister_(?:device|netdev)', r'^hwrng_unregister$', r'^i2c_del_adapter$', r'^misc_deregister$',
    r'^__unregister_client$', r'^rollback_registered',
)


class NameSet:
    """Names matched the way the lists here write them: `^name$` exact, `^prefix`, `suffix$`, a plain
    substring, anything else a regular expression. Plain forms are checked with str methods (fast)."""

    def __init__(self, patterns):
        exact, prefixes, suffixes, inner, other = set(), [], [], [], []
        for pattern in patterns:
            body = pattern[1 if pattern.startswith('^') else 0:-1 if pattern.endswith('$') else None]
            if re.escape(body) != body:
                other.append(pattern)
            elif pattern.startswith('^') and pattern.endswith('$'):
                exact.add(body)
            elif pattern.startswith('^'):
                prefixes.append(body)
            elif pattern.endswith('$'):
                suffixes.append(body)
            else:
                inner.append(body)
        self.exact, self.prefixes, self.suffixes, self.inner = frozenset(exact), tuple(prefixes), tuple(suffixes), inner
        self.other = re.compile('|'.join('(?:%s)' % pattern for pattern in other)) if other else None

    def __contains__(self, name):
        return (name in self.exact or name.startswith(self.prefixes) or name.endswith(self.suffixes)
                or any(part in name for part in self.inner)
                or self.other is not None and self.other.search(name) is not None)


SKIP = NameSet(SKIP_PATTERNS)
_EXTRA = {}
_VERDICTS = {}
VERDICTS_MAX = 8192


def compile_skip(extra):
    """The NameSet of a kind's own extra skips (built once per list)."""
    if not extra:
        return None
    found = _EXTRA.get(extra)
    if found is None:
        found = _EXTRA[extra] = NameSet(extra)
    return found


def is_infrastructure(name, extra=None):
    base = base_name(name)
    key = (base, id(extra))
    verdict = _VERDICTS.get(key)
    if verdict is None:
        if len(_VERDICTS) >= VERDICTS_MAX:
            _VERDICTS.clear()
        verdict = _VERDICTS[key] = base in SKIP or (extra is not None and base in extra)
    return verdict


def first_guilty(names, extra=None):
    for name in names:
        if not is_infrastructure(name, extra):
            return name
    return None


# Stalls (RCU stalls, soft lockups, stack overflows) stop a CPU anywhere in a loop, so the top frame
# changes from one report of a bug to the next. What stays is the entry into the code that loops: the
# frame just above the first generic dispatcher met from the top of the stack (for read, write, ioctl
# or connect, the one naming the driver or protocol).
STALL_DISPATCHERS = NameSet((
    # Syscall entry of every architecture and era: arch/x86/entry (and 3.x/4.x sysenter_dispatch,
    # tracesys_phase2), arch/arm64/kernel/syscall.c, arch/arm/kernel/entry-common.S.
    'do_syscall_', 'do_fast_syscall_', 'sysenter_dispatch', 'tracesys_phase2', 'invoke_syscall', 'el0_svc_handler',
    'ret_fast_syscall',
    # Deferred work, interrupts and cross-CPU calls: kernel/workqueue.c, kernel/softirq.c,
    # kernel/smpboot.c, kernel/time/timer.c and hrtimer.c, kernel/smp.c.
    'process_one_work', 'do_softirq', 'run_ksoftirqd', 'smpboot_thread_fn', 'call_timer_fn', '_run_timers',
    'run_timer_softirq', 'hrtimer_run', 'tasklet_action', 'tasklet_hi_action', 'smp_call_function',
    # Threads and CPUs: kernel/kthread.c, arch/*/kernel/smpboot.c and process.c, kernel/sched/idle.c.
    '^kthread$', 'ret_from_fork', 'start_secondary', 'cpu_startup_entry',
    # File operations: fs/read_write.c, fs/ioctl.c, block/ioctl.c, mm/mmap.c, fs/open.c, fs/file_table.c,
    # kernel/task_work.c and the return to user space (kernel/entry).
    'vfs_write', 'vfs_read', 'vfs_iter_read', 'vfs_iter_write', 'do_iter_read', 'do_iter_write', 'call_read_iter',
    'call_write_iter', 'new_sync_read', 'new_sync_write', 'do_iter_readv_writev', 'vfs_ioctl', 'ksys_ioctl',
    'compat_ioctl', 'blkdev_ioctl', 'blkdev_driver_ioctl', '^call_mmap', 'mmap_region', 'do_mmap', 'do_dentry_open',
    'vfs_open', '__fput', 'task_work_run', 'exit_to_usermode',
    # Sockets and netlink: net/socket.c, net/core/sock.c, net/netlink/, net/netfilter/nfnetlink.c,
    # net/core/rtnetlink.c, and packet receive (net/core/dev.c).
    '^sock_sendmsg', '^sock_recvmsg', '^sock_release', '^__sock_release', '^sock_mmap', '^sock_do_ioctl', '^sock_ioctl',
    '^compat_sock_ioctl', 'kernel_setsockopt', 'sock_common_setsockopt', 'kernel_listen', 'kernel_accept',
    'sk_common_release', '^setsockopt$', '^listen$', '^accept$', r'^(?:sys_)?(?:socketpair|connect|ioctl)',
    '^nfnetlink_rcv_msg', '^rtnetlink_rcv_msg', '^netlink_dump', 'netif_receive_skb',
    # Page faults: mm/memory.c, arch/x86/mm/fault.c.
    '__do_fault', 'do_page_fault', '^page_fault$',
))


def stall_frame(names):
    """The frame above the first dispatcher in names, or None."""
    previous = names[0] if names else None
    for name in names:
        if canonical(name) in STALL_DISPATCHERS:
            return 'smp_call_function' if 'smp_call_function' in name else previous
        previous = name
    return None


# A hung task waits at a victim's place: the lock or completion it waits for is the clue. Waits on an
# RCU grace period or on the RTNL group many reports (kernel/rcu/, net/core/rtnetlink.c); otherwise the
# first frame that is not scheduler, lock, wait or kthread plumbing.
HANG_GROUPS = (('rtnl_lock', None), ('synchronize_rcu', 'synchronize_rcu'), ('synchronize_srcu', 'synchronize_rcu'),
               ('synchronize_net', 'synchronize_rcu'), ('synchronize_sched', 'synchronize_rcu'))
HANG_SKIP = ('sched', '_lock', '_slowlock', 'down', 'rwsem', 'completion', 'kthread', 'wait', 'synchronize',
             'context_switch', '__switch_to', 'cancel_delayed_work', 'rcu_barrier')


def hang_frame(names):
    for name in names:
        for anchor, group in HANG_GROUPS:
            if anchor in name:
                return group or name
    for name in names:
        if not any(word in canonical(name) for word in HANG_SKIP):
            return name
    return None
