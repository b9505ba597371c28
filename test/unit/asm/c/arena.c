/* Pointers into a BPF arena: casts between address spaces become addr_space_cast (cpu v4). */
#include "common.h"

#define __arena __attribute__((address_space(1)))

struct {
	__uint(type, 33); /* BPF_MAP_TYPE_ARENA */
	__uint(map_flags, 1024); /* BPF_F_MMAPABLE */
	__uint(max_entries, 1);
} arena SEC(".maps");

int __arena *cell;

SEC("syscall") int arena_cast(void *ctx)
{
	int __arena *p = cell;
	int *q = (int *)p;
	if (q)
		*q += 1;
	cell = (int __arena *)q;
	return 0;
}
