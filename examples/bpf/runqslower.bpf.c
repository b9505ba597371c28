/* runqslower — reports tasks that waited longer than a threshold in the CPU run queue, in the
 * manner of libbpf-tools' runqslower, with the container details such tools usually add: the
 * pid namespace and cgroup of each task.
 *
 * It is the "typical CO-RE object" of the CO-RE benchmark (bench/core.mjs): every kernel struct
 * below is declared with only the fields the program reads and carries preserve_access_index, so
 * each access is a CO-RE relocation resolved against the running kernel's BTF at load time —
 * 8 kernel types, the task state read through two flavors (task_struct___x / ___o, as
 * libbpf-tools' core_fixes.bpf.h does for the 5.14 rename of state to __state), field-exists
 * checks, and both the tp_btf programs and their raw_tp fallbacks.
 *
 * Programs: tp_btf/sched_wakeup, tp_btf/sched_wakeup_new, tp_btf/sched_switch and the same three
 * as raw_tp (a loader picks one set). Maps: start (HASH pid → enqueue time in ns), events
 * (PERF_EVENT_ARRAY of struct event). Knobs: min_us, target_tgid, target_pidns. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* Kernel facts the program needs without vmlinux.h. */
#define __VMLINUX_H__ 1
typedef int pid_t;
typedef _Bool bool;
#define true 1
#define false 0
#define TASK_RUNNING 0
#define TASK_COMM_LEN 16

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct kernfs_node {
	__u64 id;
};

struct cgroup {
	struct kernfs_node *kn;
};

struct css_set {
	struct cgroup *dfl_cgrp;
};

struct ns_common {
	unsigned int inum;
};

struct pid_namespace {
	struct ns_common ns;
};

struct nsproxy {
	struct pid_namespace *pid_ns_for_children;
};

struct task_struct {
	pid_t pid;
	pid_t tgid;
	char comm[TASK_COMM_LEN];
	struct task_struct *real_parent;
	struct nsproxy *nsproxy;
	struct css_set *cgroups;
};

/* The task state before and after Linux 5.14 renamed it. */
struct task_struct___o {
	volatile long state;
};

struct task_struct___x {
	unsigned int __state;
};

#pragma clang attribute pop

#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/* Report waits of at least this many microseconds. */
const volatile __u64 min_us = 10000;
/* Only this process (0: any). */
const volatile pid_t target_tgid = 0;
/* Only tasks in this pid namespace (its inode number; 0: any). */
const volatile __u32 target_pidns = 0;

struct event {
	char task[TASK_COMM_LEN];
	char prev_task[TASK_COMM_LEN];
	__u64 delta_us;
	__u64 cgroup_id;
	pid_t pid;
	pid_t prev_pid;
	pid_t ppid;
	__u32 pidns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

static __always_inline long task_state(void *task)
{
	struct task_struct___x *t = task;

	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___o *)task, state);
}

static __always_inline __u32 task_pidns(struct task_struct *task)
{
	return BPF_CORE_READ(task, nsproxy, pid_ns_for_children, ns.inum);
}

static __always_inline bool wanted(struct task_struct *task, __u32 tgid)
{
	if (target_tgid && tgid != target_tgid)
		return false;
	if (target_pidns && task_pidns(task) != target_pidns)
		return false;
	return true;
}

static __always_inline int trace_enqueue(struct task_struct *task, __u32 tgid, __u32 pid)
{
	__u64 ts;

	if (!pid || !wanted(task, tgid))
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

static __always_inline int handle_switch(void *ctx, struct task_struct *prev, struct task_struct *next)
{
	struct event event = {};
	__u64 *tsp, delta_us;
	__u32 pid;

	if (task_state(prev) == TASK_RUNNING)
		trace_enqueue(prev, BPF_CORE_READ(prev, tgid), BPF_CORE_READ(prev, pid));

	pid = BPF_CORE_READ(next, pid);
	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	delta_us = (bpf_ktime_get_ns() - *tsp) / 1000;
	if (min_us && delta_us <= min_us)
		goto cleanup;

	event.pid = pid;
	event.prev_pid = BPF_CORE_READ(prev, pid);
	event.ppid = BPF_CORE_READ(next, real_parent, tgid);
	event.pidns = task_pidns(next);
	if (bpf_core_field_exists(next->cgroups))
		event.cgroup_id = BPF_CORE_READ(next, cgroups, dfl_cgrp, kn, id);
	event.delta_us = delta_us;
	BPF_CORE_READ_STR_INTO(&event.task, next, comm);
	BPF_CORE_READ_STR_INTO(&event.prev_task, prev, comm);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &event, sizeof(event));

cleanup:
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	return trace_enqueue(p, p->tgid, p->pid);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	return trace_enqueue(p, p->tgid, p->pid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return handle_switch(ctx, prev, next);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(handle_sched_wakeup, struct task_struct *p)
{
	return trace_enqueue(p, BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(handle_sched_wakeup_new, struct task_struct *p)
{
	return trace_enqueue(p, BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("raw_tp/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return handle_switch(ctx, prev, next);
}
