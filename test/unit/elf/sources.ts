/**
 * C sources the ELF tests compile at test time, and the compilers that build them. Each source is
 * small but exercises one family of sections, symbols and relocations that real eBPF objects contain.
 */

/** A C source and the compilations it should go through. */
export interface TestSource {
  /** A short name; objects are called `<name>.<variant>.o`. */
  readonly name: string;
  /** The C text. */
  readonly text: string;
  /** Which compilations to run. */
  readonly variants: readonly CompileVariant[];
}

/** One way of compiling a source: the tool and the arguments before `-c <src> -o <obj>`. */
export interface CompileVariant {
  /** Appears in the object name. */
  readonly name: string;
  /** The compiler executable. */
  readonly tool: string;
  /** Arguments before `-c`. */
  readonly args: readonly string[];
}

/** Debian's multiarch include folder, where `asm/types.h` lives. */
const MULTIARCH: Record<string, string> = { x64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu" };
const multiarchInclude = `/usr/include/${MULTIARCH[process.arch] ?? `${process.arch}-linux-gnu`}`;

const clangBpf: CompileVariant = {
  name: "bpfel",
  tool: "clang-19",
  args: ["-target", "bpf", "-g", "-O2", "-idirafter", multiarchInclude],
};
const clangBpfBigEndian: CompileVariant = {
  name: "bpfeb",
  tool: "clang-19",
  args: ["-target", "bpfeb", "-g", "-O2", "-idirafter", multiarchInclude],
};
const gccBpf: CompileVariant = {
  name: "gcc",
  tool: "bpf-gcc",
  args: ["-O2", "-idirafter", "/usr/include", "-idirafter", multiarchInclude],
};
const clangX86: CompileVariant = {
  name: "x86_64",
  tool: "clang-19",
  args: ["-target", "x86_64-linux-gnu", "-O2", "-fcommon"],
};

/** A map, globals in .data/.rodata/.bss, a subprogram call and a license: R_BPF_64_64 and R_BPF_64_32. */
const mapsAndCalls = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

int gvar = 3;
static int bss_var;
const volatile int ro = 7;

static __noinline int helper(int x)
{
	return x + bss_var + ro;
}

SEC("xdp")
int xdp_prog(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&counts, &k);
	if (v)
		(*v)++;
	return helper(gvar) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
`;

/** Several programs, custom data sections, weak and hidden symbols, a kconfig extern, bpf_printk strings. */
const manySections = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifdef __clang__
#define SUBPROG __attribute__((noinline))
extern int LINUX_KERNEL_VERSION __kconfig;
#else
#define SUBPROG
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

__u64 hits;
__u32 custom_value SEC(".data.custom") = 42;
const char greeting[] = "hello";
__attribute__((visibility("hidden"))) int hidden_counter = 1;
__attribute__((weak)) int weak_knob = 5;

static SUBPROG __u64 bump(__u64 *counter, __u64 by)
{
	*counter += by;
	return *counter;
}

SEC("socket")
int count_packets(struct __sk_buff *skb)
{
	__u32 key = skb->len;
	__u64 one = 1, *value = bpf_map_lookup_elem(&seen, &key);
	if (value)
		bump(value, one);
	else
		hits++;
#ifdef __clang__
	bpf_printk("%s %d", greeting, custom_value);
	if (LINUX_KERNEL_VERSION == 0)
		return 0;
#endif
	return bump(&hits, weak_knob + hidden_counter) > 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	return bump(&hits, 2) & 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
`;

/** Ordinary C for x86-64: SHT_RELA with negative addends, .eh_frame, a common symbol, an undefined one. */
const hostCode = `
int common_var;
static int counter;
extern int external(int);
const char *names[] = { "alpha", "beta" };

int next_value(int step)
{
	counter += step;
	return external(counter) + names[step & 1][0] + common_var;
}
`;

/** Every source the tests compile. */
export const testSources: readonly TestSource[] = [
  { name: "maps_and_calls", text: mapsAndCalls, variants: [clangBpf, clangBpfBigEndian, gccBpf] },
  { name: "many_sections", text: manySections, variants: [clangBpf, clangBpfBigEndian, gccBpf] },
  { name: "host_code", text: hostCode, variants: [clangX86] },
];
