/* Legacy packet access (LD_ABS, LD_IND) of every size, through llvm's intrinsics. */
#include "common.h"

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket") int legacy(void *skb)
{
	u64 offset = load_byte(skb, 14) & 15;
	return load_byte(skb, 23) + load_half(skb, 12) + load_word(skb, 26) + load_byte(skb, offset) +
	       load_half(skb, offset) + load_word(skb, offset);
}
