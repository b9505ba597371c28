/* A branch over more than 32767 instructions: cpu v4 turns it into gotol; older cpus fail to compile it. */
#include "common.h"

#define STORE *(volatile u32 *)ctx = 1;
#define X10(x) x x x x x x x x x x
#define X40000(x) X10(X10(X10(X10(x x x x))))

SEC("xdp") int long_jump(u64 *ctx)
{
#if __BPF_CPU_VERSION__ >= 4
	if (ctx[1] == 0) {
		X40000(STORE)
	}
#endif
	return 0;
}
