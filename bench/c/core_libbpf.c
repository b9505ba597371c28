// core_libbpf — the C baseline for Waggle's CO-RE benchmark: what resolving an object's CO-RE
// relocations against the kernel's BTF costs Debian's libbpf (libbpf-dev 1.1.2).
//
// usage: core_libbpf OBJECT MIN_BTF [ITERATIONS=30] [SECTION_PREFIX=raw_tp/]      (as root)
//
// libbpf 1.1 has no call that does CO-RE alone: it resolves relocations inside bpf_object__load(),
// after parsing /sys/kernel/btf/vmlinux (and before verifying the programs), and frees that BTF at
// the end of every load — it caches nothing between loads. So the cost is measured as a difference
// of two loads that differ in nothing but the target BTF:
//
//   load_vmlinux  bpf_object__load() of OBJECT with only the programs whose section starts with
//                 SECTION_PREFIX set to autoload (so that nothing but CO-RE needs vmlinux BTF):
//                 parses vmlinux BTF, resolves CO-RE against it, creates the maps, loads the programs.
//   load_min      the same object and programs, opened with btf_custom_path = MIN_BTF, the output of
//                 `bpftool gen min_core_btf /sys/kernel/btf/vmlinux MIN_BTF OBJECT`: vmlinux cut down
//                 to the types these relocations touch, so every relocation resolves to the same value
//                 and the kernel verifies the same instructions; vmlinux BTF is not read at all.
//   core          load_vmlinux - load_min, per iteration (the two alternate): the cost of CO-RE at
//                 vmlinux scale (parsing vmlinux BTF, finding candidates among its types, matching).
//
// Also measured directly: vmlinux_parse, btf__load_vmlinux_btf() (the call libbpf makes inside
// load), and vmlinux_btf_heap_mb, the malloc'd memory (mallinfo2 uordblks + hblkhd) that holding its
// result takes — libbpf's extra heap while it resolves CO-RE (it is freed at the end of each load).
// bpf_object__open_file and bpf_object__close are not timed. The first iteration (libbpf probes
// kernel features then, once per process) is run and dropped.
//
// Output: one JSON line on stdout, times in milliseconds:
//   {"tool":"libbpf","libbpf_version":"1.1","object":"...","programs":3,"iterations":30,
//    "vmlinux_parse_ms":{"min":…,"median":…,"max":…},"vmlinux_btf_heap_mb":…,
//    "load_vmlinux_ms":{…},"load_min_ms":{…},"core_ms":{…}}
// Exit status: 0, 1 when a load fails (libbpf's messages on stderr), 2 on bad arguments.
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bench_common.h"

#define DEFAULT_ITERATIONS 30
#define MAX_ITERATIONS 10000
#define WARMUP 1

/* Bytes malloc has handed out and not had back, including chunks it mmapped. */
static double malloc_in_use(void)
{
	struct mallinfo2 info = mallinfo2();

	return (double)info.uordblks + (double)info.hblkhd;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Prints "name":{min, median, max} (median: the element at index n / 2 of the sorted values, as bench/lib.mjs). */
static void print_stats(const char *name, double *samples, int n, int last)
{
	qsort(samples, (size_t)n, sizeof(*samples), compare_doubles);
	printf("\"%s\":{\"min\":%.3f,\"median\":%.3f,\"max\":%.3f}%s", name, samples[0], samples[n / 2],
	       samples[n - 1], last ? "" : ",");
}

static void fail(const char *what, int err)
{
	fprintf(stderr, "core_libbpf: %s: %s\n%s", what, strerror(err < 0 ? -err : err), libbpf_log);
	exit(1);
}

/* Opens the object (with min_btf as btf_custom_path, if not NULL) and keeps only the chosen programs. */
static struct bpf_object *open_object(const char *path, const char *min_btf, const char *prefix, int *programs)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = min_btf);
	struct bpf_object *obj = bpf_object__open_file(path, &opts);
	struct bpf_program *prog;
	int err = libbpf_get_error(obj);

	if (err)
		fail("bpf_object__open_file", err);
	*programs = 0;
	bpf_object__for_each_program(prog, obj) {
		int keep = strncmp(bpf_program__section_name(prog), prefix, strlen(prefix)) == 0;

		bpf_program__set_autoload(prog, keep);
		*programs += keep;
	}
	return obj;
}

/* Milliseconds that bpf_object__load() of the object takes. */
static double time_load(const char *path, const char *min_btf, const char *prefix, int *programs)
{
	struct bpf_object *obj = open_object(path, min_btf, prefix, programs);
	double start, elapsed;
	int err;

	start = now_ms();
	err = bpf_object__load(obj);
	elapsed = now_ms() - start;
	if (err)
		fail(min_btf ? "bpf_object__load (min BTF)" : "bpf_object__load (vmlinux BTF)", err);
	bpf_object__close(obj);
	return elapsed;
}

int main(int argc, char **argv)
{
	const char *object, *min_btf, *prefix = "raw_tp/";
	double *parse, *with_vmlinux, *with_min, *core, heap_mb, before, start;
	int iterations = DEFAULT_ITERATIONS, programs = 0, i;
	struct btf *btf;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: %s OBJECT MIN_BTF [ITERATIONS] [SECTION_PREFIX]\n", argv[0]);
		return 2;
	}
	object = argv[1];
	min_btf = argv[2];
	if (argc > 3)
		iterations = atoi(argv[3]);
	if (argc > 4)
		prefix = argv[4];
	if (iterations < 1 || iterations > MAX_ITERATIONS) {
		fprintf(stderr, "core_libbpf: ITERATIONS must be 1 to %d\n", MAX_ITERATIONS);
		return 2;
	}
	libbpf_set_print(capture_print);
	parse = calloc((size_t)iterations, sizeof(*parse));
	with_vmlinux = calloc((size_t)iterations, sizeof(*with_vmlinux));
	with_min = calloc((size_t)iterations, sizeof(*with_min));
	core = calloc((size_t)iterations, sizeof(*core));
	if (!parse || !with_vmlinux || !with_min || !core)
		fail("calloc", ENOMEM);

	/* Parsing vmlinux BTF on its own, and the heap its result holds. */
	before = malloc_in_use();
	btf = btf__load_vmlinux_btf();
	if (libbpf_get_error(btf))
		fail("btf__load_vmlinux_btf", (int)libbpf_get_error(btf));
	heap_mb = (malloc_in_use() - before) / (1024.0 * 1024.0);
	btf__free(btf);
	for (i = 0; i < iterations; i++) {
		start = now_ms();
		btf = btf__load_vmlinux_btf();
		parse[i] = now_ms() - start;
		if (libbpf_get_error(btf))
			fail("btf__load_vmlinux_btf", (int)libbpf_get_error(btf));
		btf__free(btf);
	}

	/* The two loads, alternating; the first pair probes kernel features and is dropped. */
	for (i = -WARMUP; i < iterations; i++) {
		double a = time_load(object, NULL, prefix, &programs);
		double b = time_load(object, min_btf, prefix, &programs);

		if (i < 0)
			continue;
		with_vmlinux[i] = a;
		with_min[i] = b;
		core[i] = a - b;
	}
	if (programs == 0) {
		fprintf(stderr, "core_libbpf: no program's section starts with \"%s\"\n", prefix);
		return 2;
	}

	printf("{\"tool\":\"libbpf\",\"libbpf_version\":\"%d.%d\",\"object\":\"", LIBBPF_MAJOR_VERSION,
	       LIBBPF_MINOR_VERSION);
	for (const char *c = object; *c; c++)
		printf(*c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
	printf("\",\"programs\":%d,\"iterations\":%d,", programs, iterations);
	print_stats("vmlinux_parse_ms", parse, iterations, 0);
	printf("\"vmlinux_btf_heap_mb\":%.2f,", heap_mb);
	print_stats("load_vmlinux_ms", with_vmlinux, iterations, 0);
	print_stats("load_min_ms", with_min, iterations, 0);
	print_stats("core_ms", core, iterations, 1);
	printf("}\n");
	return 0;
}
