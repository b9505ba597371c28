/* Loads and stores of every size, stores of immediates, and sign-extending loads (cpu v4). */
#include "common.h"

volatile s64 signed_sink;

SEC("tc") int memory(u8 *p)
{
	volatile u8 b = p[0];
	volatile u16 h = *(u16 *)(p + 2);
	volatile u32 w = *(u32 *)(p + 4);
	volatile u64 d = *(u64 *)(p + 8);

	*(volatile u8 *)(p + 16) = 5;
	*(volatile u16 *)(p + 18) = 0x1234;
	*(volatile u32 *)(p + 20) = -3;
	*(volatile u64 *)(p + 24) = 7;
	*(volatile u8 *)(p + 32) = b;
	*(volatile u16 *)(p + 34) = h;
	*(volatile u32 *)(p + 36) = w;
	*(volatile u64 *)(p + 40) = d;
	*(volatile u64 *)(p - 8) = d;

	signed_sink = *(volatile s8 *)(p + 1);
	signed_sink = *(volatile s16 *)(p + 2);
	signed_sink = *(volatile s32 *)(p + 4);
	return b + h + w + d;
}
