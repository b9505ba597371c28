/* Helper calls, local calls to static and global functions, a callback address, maps, globals and a kfunc. */
#include "common.h"

struct {
	__uint(type, 1); /* BPF_MAP_TYPE_HASH */
	__uint(max_entries, 16);
	__type(key, u32);
	__type(value, u64);
} counts SEC(".maps");

u64 total;
const volatile u32 limit = 10;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

static __noinline int square(int x)
{
	return x * x;
}

__noinline int cube(int x)
{
	return x * square(x);
}

static int step(u32 index, void *ctx)
{
	*(u64 *)ctx += index;
	return 0;
}

SEC("xdp") int calls(void *ctx)
{
	u32 key = bpf_get_prandom_u32() & 15;
	u64 *value = bpf_map_lookup_elem(&counts, &key);
	u64 sum = 0;

	if (!value) {
		u64 one = 1;
		bpf_map_update_elem(&counts, &key, &one, 0);
		return 0;
	}
	*value += square(key) + cube(key);
	bpf_loop(limit, step, &sum, 0);
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	total += sum + bpf_ktime_get_ns();
	return 1;
}

SEC("tc") int second(void *ctx)
{
	return square(3);
}
