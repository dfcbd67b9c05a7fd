// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fleet_crashkind: make the kernel fail in a chosen way, on request, so that a crash test proves that the host's
 * panic policy turns that failure into a crash dump (fleet.kdump: sysrq_test's kind option).
 *
 * Load it only on a host you mean to crash. Root writes "<kind> [seconds]" to /proc/fleet_crashkind:
 *   oops              a NULL pointer dereference (panics with kernel.panic_on_oops=1)
 *   bug               BUG() (panics with kernel.panic_on_oops=1)
 *   warn              WARN() (panics with kernel.panic_on_warn=1)
 *   hung_task [S]     a kernel thread blocked in D state for S seconds (kernel.hung_task_panic)
 *   softlockup [S]    the writing CPU spins with preemption off for S seconds (kernel.softlockup_panic)
 * Without the matching setting the kernel only reports the failure and carries on: an oops or BUG() kills the
 * writing process, a WARN() returns, the thread wakes up and the CPU is released after S seconds.
 * Reading the file lists the kinds.
 */

#include <linux/capability.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#define CRASHKIND "fleet_crashkind"
#define HUNG_TASK_DEFAULT 300
#define HUNG_TASK_MAX 7200
#define SOFTLOCKUP_DEFAULT 40
#define SOFTLOCKUP_MAX 300

static const char kinds[] = "oops bug warn hung_task softlockup\n";

/* Never assigned: the compiler cannot prove it NULL, so the dereference stays a real one. */
static int *fleet_crashkind_null;

static noinline void fleet_crashkind_oops(void)
{
	WRITE_ONCE(*fleet_crashkind_null, 1);
}

static noinline void fleet_crashkind_bug(void)
{
	BUG();
}

static noinline void fleet_crashkind_warn(void)
{
	WARN(1, CRASHKIND ": WARN() on request\n");
}

/* TASK_UNINTERRUPTIBLE for the whole time, without a wake-up: what khungtaskd reports as a hung task. */
static int fleet_crashkind_hang(void *data)
{
	schedule_timeout_uninterruptible((unsigned long)data * HZ);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 17, 0)
	module_put_and_kthread_exit(0);
#else
	module_put_and_exit(0);
#endif
}

/* The timer interrupt still runs and sees that this CPU never schedules: a soft lockup. */
static noinline void fleet_crashkind_spin(unsigned long seconds)
{
	unsigned long end = jiffies + seconds * HZ;

	preempt_disable();
	while (time_before(jiffies, end))
		cpu_relax();
	preempt_enable();
}

static int fleet_crashkind_start_hang(unsigned long seconds)
{
	struct task_struct *task;

	/* The thread runs module code until it returns: the module must stay loaded. */
	__module_get(THIS_MODULE);
	task = kthread_run(fleet_crashkind_hang, (void *)seconds, CRASHKIND);
	if (IS_ERR(task)) {
		module_put(THIS_MODULE);
		return PTR_ERR(task);
	}
	return 0;
}

static ssize_t fleet_crashkind_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	char buf[32];
	char *rest, *kind;
	unsigned long seconds = 0;
	int err = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	rest = strim(buf);
	kind = strsep(&rest, " \t");
	if (rest) {
		rest = skip_spaces(rest);
		if (kstrtoul(rest, 10, &seconds) || seconds == 0)
			return -EINVAL;
	}

	if (strcmp(kind, "hung_task") == 0) {
		seconds = seconds ? seconds : HUNG_TASK_DEFAULT;
		if (seconds > HUNG_TASK_MAX)
			return -ERANGE;
	} else if (strcmp(kind, "softlockup") == 0) {
		seconds = seconds ? seconds : SOFTLOCKUP_DEFAULT;
		if (seconds > SOFTLOCKUP_MAX)
			return -ERANGE;
	} else if (seconds || (strcmp(kind, "oops") && strcmp(kind, "bug") && strcmp(kind, "warn"))) {
		return -EINVAL;
	}

	/* The marker line of the crashed kernel's log that the crash test looks for. */
	pr_emerg(CRASHKIND ": %s requested by %s[%d]\n", kind, current->comm, task_pid_nr(current));
	if (strcmp(kind, "oops") == 0)
		fleet_crashkind_oops();
	else if (strcmp(kind, "bug") == 0)
		fleet_crashkind_bug();
	else if (strcmp(kind, "warn") == 0)
		fleet_crashkind_warn();
	else if (strcmp(kind, "hung_task") == 0)
		err = fleet_crashkind_start_hang(seconds);
	else
		fleet_crashkind_spin(seconds);
	return err ? err : len;
}

static ssize_t fleet_crashkind_read(struct file *file, char __user *ubuf, size_t len, loff_t *ppos)
{
	return simple_read_from_buffer(ubuf, len, ppos, kinds, sizeof(kinds) - 1);
}

static const struct proc_ops fleet_crashkind_ops = {
	.proc_read = fleet_crashkind_read,
	.proc_write = fleet_crashkind_write,
	.proc_lseek = default_llseek,
};

static int __init fleet_crashkind_init(void)
{
	if (!proc_create(CRASHKIND, 0600, NULL, &fleet_crashkind_ops))
		return -ENOMEM;
	pr_info(CRASHKIND ": loaded; writing a kind to /proc/" CRASHKIND " makes the kernel fail that way\n");
	return 0;
}

static void __exit fleet_crashkind_exit(void)
{
	remove_proc_entry(CRASHKIND, NULL);
}

module_init(fleet_crashkind_init);
module_exit(fleet_crashkind_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("fleet.kdump contributors");
MODULE_DESCRIPTION("Kernel failures on request (oops, BUG, WARN, hung task, soft lockup) to prove a kdump panic policy");
