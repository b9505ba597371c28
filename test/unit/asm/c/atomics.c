/*
 * Atomic add (cpu v1); or, and, xor with and without fetch, xchg and cmpxchg (cpu v3), on 64 and 32 bits.
 * llvm 19 has no load-acquire or store-release (an acquire load is a plain load; a release store fails).
 */
#include "common.h"

u64 c64;
u32 c32;

SEC("xdp") int atomics(void *ctx)
{
	__sync_fetch_and_add(&c64, 1);
	__sync_fetch_and_add(&c32, 1);
#if __BPF_CPU_VERSION__ >= 3
	__sync_fetch_and_or(&c64, 2);
	__sync_fetch_and_and(&c64, 3);
	__sync_fetch_and_xor(&c64, 4);
	__sync_fetch_and_or(&c32, 2);
	__sync_fetch_and_and(&c32, 3);
	__sync_fetch_and_xor(&c32, 4);
	u64 r = __sync_fetch_and_add(&c64, 5) + __sync_fetch_and_or(&c64, 6) + __sync_fetch_and_and(&c64, 7) +
		__sync_fetch_and_xor(&c64, 8);
	u32 q = __sync_fetch_and_add(&c32, 5) + __sync_fetch_and_or(&c32, 6) + __sync_fetch_and_and(&c32, 7) +
		__sync_fetch_and_xor(&c32, 8);
	r += __sync_lock_test_and_set(&c64, r);
	q += __sync_lock_test_and_set(&c32, q);
	r += __sync_val_compare_and_swap(&c64, 9, r);
	q += __sync_val_compare_and_swap(&c32, 9, q);
	return r + q;
#else
	return 0;
#endif
}
