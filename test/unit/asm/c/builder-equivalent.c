/* A small program that the builder test writes again with ProgramBuilder, expecting the same bytes. */
#include "common.h"

SEC("xdp") int pick(u32 *ctx)
{
	u32 limit = ctx[1];

	if (limit > 15)
		return 1;
	return bpf_get_prandom_u32() + limit;
}
