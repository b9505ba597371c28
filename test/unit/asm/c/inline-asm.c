/* Instructions clang does not emit from C, written in inline assembly: may_goto, callx, ld_pseudo, gotol. */
#include "common.h"

SEC("xdp") int inline_asm(void *ctx)
{
	asm volatile(
		"may_goto +1;"
		"r0 = 0;"
		"ld_pseudo r1, 2, 7;"
		"gotol +1;"
		"r0 = 1;"
		"callx r2;"
		::: "r0", "r1", "r2", "r3", "r4", "r5");
	return 0;
}
