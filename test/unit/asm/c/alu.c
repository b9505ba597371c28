/* Arithmetic of every kind on 64 and 32 bits; signed division, sign-extending moves and bswap on cpu v4. */
#include "common.h"

volatile u64 sink64;
volatile u32 sink32;
volatile u16 sink16;

SEC("xdp") int arithmetic(u64 *ctx)
{
	u64 a = ctx[0], b = ctx[1];
	u32 x = ctx[2], y = ctx[3];
	s64 sa = ctx[4];
	s32 sx = ctx[6];

	sink64 = a + b; sink64 = a - b; sink64 = a * b; sink64 = a / b; sink64 = a % b;
	sink64 = a | b; sink64 = a & b; sink64 = a ^ b; sink64 = a << (b & 63); sink64 = a >> (b & 63);
	sink64 = sa >> (b & 63); sink64 = -a;
	sink64 = a + 7; sink64 = a - 0x12345; sink64 = a * 3; sink64 = a / 10; sink64 = a % 10;
	sink64 = a | 0x10; sink64 = a & 0xff; sink64 = a ^ 0x5a; sink64 = a << 3; sink64 = a >> 5; sink64 = sa >> 7;
	sink32 = x + y; sink32 = x - y; sink32 = x * y; sink32 = x / y; sink32 = x % y;
	sink32 = x | y; sink32 = x & y; sink32 = x ^ y; sink32 = x << (y & 31); sink32 = x >> (y & 31);
	sink32 = sx >> (y & 31); sink32 = -x;
	sink32 = x + 9; sink32 = x * 0x10001; sink32 = x / 3; sink32 = x % 5; sink32 = x ^ 0xffffffff;
	sink64 = 0x1122334455667788ULL; sink64 = a + 0x100000000ULL; sink64 = -1;
	sink64 = __builtin_bswap64(a); sink32 = __builtin_bswap32(x); sink16 = __builtin_bswap16((u16)x);
#if __BPF_CPU_VERSION__ >= 4
	s64 sb = ctx[5];
	s32 sy = ctx[7];
	sink64 = sa / sb; sink64 = sa % sb; sink64 = sa / 7; sink64 = sa % -7;
	sink32 = sx / sy; sink32 = sx % sy; sink32 = sx / 3; sink32 = sx % 3;
	sink64 = (s64)(s8)a; sink64 = (s64)(s16)a; sink64 = (s64)(s32)a;
	sink32 = (s32)(s8)x; sink32 = (s32)(s16)x;
#endif
	return 0;
}
