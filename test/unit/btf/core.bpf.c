/* CO-RE relocations of every kind, in two program sections and a subprogram, for the .BTF.ext tests. */

#define SEC(name) __attribute__((section(name), used))

struct task {
	int pid;
	unsigned int flags: 3;
	int prio: 5;
	struct task *parent;
	char comm[16];
} __attribute__((preserve_access_index));

enum state { RUNNING = 0, SLEEPING = 1 };
typedef struct task task_t;

static __attribute__((noinline)) int parent_pid(struct task *t)
{
	return t->parent->pid;
}

SEC("kprobe/fields") int fields(struct task *t)
{
	int sum = 0;

	sum += __builtin_preserve_field_info(t->pid, 0);     /* FIELD_BYTE_OFFSET */
	sum += __builtin_preserve_field_info(t->comm, 1);    /* FIELD_BYTE_SIZE */
	sum += __builtin_preserve_field_info(t->prio, 2);    /* FIELD_EXISTS */
	sum += __builtin_preserve_field_info(t->prio, 3);    /* FIELD_SIGNED */
	sum += __builtin_preserve_field_info(t->flags, 4);   /* FIELD_LSHIFT_U64 */
	sum += __builtin_preserve_field_info(t->flags, 5);   /* FIELD_RSHIFT_U64 */
	return sum + parent_pid(t) + t->comm[1];
}

SEC("kprobe/types") int types(void *ctx)
{
	int sum = 0;

	sum += __builtin_btf_type_id(*(struct task *)0, 0);                  /* TYPE_ID_LOCAL */
	sum += __builtin_btf_type_id(*(struct task *)0, 1);                  /* TYPE_ID_TARGET */
	sum += __builtin_preserve_type_info(*(task_t *)0, 0);                /* TYPE_EXISTS */
	sum += __builtin_preserve_type_info(*(struct task *)0, 1);           /* TYPE_SIZE */
	sum += __builtin_preserve_enum_value(*(enum state *)SLEEPING, 0);    /* ENUMVAL_EXISTS */
	sum += __builtin_preserve_enum_value(*(enum state *)SLEEPING, 1);    /* ENUMVAL_VALUE */
	sum += __builtin_preserve_type_info(*(struct task *)0, 2);           /* TYPE_MATCHES */
	return sum;
}

char _license[] SEC("license") = "GPL";
