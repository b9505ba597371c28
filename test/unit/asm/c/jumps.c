/* Conditional jumps of every comparison, signed and unsigned, 64- and 32-bit, against registers and immediates; loops. */
#include "common.h"

#define BRANCH(cond) if (cond) n += __LINE__

SEC("xdp") int jumps(u64 *ctx)
{
	u64 a = ctx[0], b = ctx[1];
	s64 sa = ctx[2], sb = ctx[3];
	u32 x = ctx[4], y = ctx[5];
	s32 sx = ctx[6], sy = ctx[7];
	int n = 0;

	BRANCH(a == b); BRANCH(a != b); BRANCH(a > b); BRANCH(a >= b); BRANCH(a < b); BRANCH(a <= b);
	BRANCH(sa > sb); BRANCH(sa >= sb); BRANCH(sa < sb); BRANCH(sa <= sb); BRANCH(a & b);
	BRANCH(a == 3); BRANCH(a != 4); BRANCH(a > 5); BRANCH(a >= 6); BRANCH(a < 7); BRANCH(a <= 8);
	BRANCH(sa > -9); BRANCH(sa >= -10); BRANCH(sa < -11); BRANCH(sa <= -12); BRANCH(a & 0x40);
	BRANCH(x == y); BRANCH(x != y); BRANCH(x > y); BRANCH(x >= y); BRANCH(x < y); BRANCH(x <= y);
	BRANCH(sx > sy); BRANCH(sx >= sy); BRANCH(sx < sy); BRANCH(sx <= sy); BRANCH(x & y);
	BRANCH(x == 13); BRANCH(x > 14); BRANCH(sx < -15); BRANCH(x & 0x80);
	for (u32 i = 0; i < (x & 15); i++)
		n += ctx[i & 7];
	return n;
}
