// load_libbpf — the C baseline for Waggle's load benchmark: how long Debian's libbpf takes to
// open, load and close one BPF object, measured separately with CLOCK_MONOTONIC.
//
// usage: load_libbpf OBJECT [ITERATIONS=30] [WARMUP=2]
//
// Each iteration runs bpf_object__open_file (parse ELF + BTF), bpf_object__load (create maps,
// relocate, BPF_PROG_LOAD every program) and bpf_object__close (close every fd). WARMUP
// iterations run first and are not counted, except that the very first iteration is reported
// as "cold_total_ms": libbpf probes kernel features once per process and caches the answers.
// Nothing is attached. libbpf's own messages are captured and shown only if something fails.
//
// Output: one JSON line on stdout, times in milliseconds:
//   {"tool":"libbpf","libbpf_version":"1.1","object":"...","programs":5,"maps":5,
//    "iterations":30,"warmup":2,"cold_total_ms":…,"user_cpu_ms":…,"system_cpu_ms":…,
//    "open_ms":{"min":…,"median":…,"max":…},"load_ms":{…},"close_ms":{…},
//    "open_load_ms":{…},"total_ms":{…}}
// where open_load = open + load and total = open + load + close, per iteration, and user_cpu_ms /
// system_cpu_ms are getrusage(RUSAGE_SELF) CPU time per counted iteration: the split between
// libbpf's own work and the kernel's (bpf() commands, fd teardown).
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <bpf/libbpf.h>
#include "bench_common.h"

#define DEFAULT_ITERATIONS 30
#define DEFAULT_WARMUP 2
#define MAX_ITERATIONS 100000

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void print_stats(const char *name, double *samples, int n, int last)
{
	double median;

	qsort(samples, (size_t)n, sizeof(*samples), compare_doubles);
	median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
	printf("\"%s\":{\"min\":%.3f,\"median\":%.3f,\"max\":%.3f}%s", name, samples[0], median,
	       samples[n - 1], last ? "" : ",");
}

static void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* Milliseconds between two rusage times. */
static double cpu_ms(const struct timeval *from, const struct timeval *to)
{
	return (double)(to->tv_sec - from->tv_sec) * 1e3 + (double)(to->tv_usec - from->tv_usec) / 1e3;
}

static int parse_count(const char *arg, const char *what, int min)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < min || v > MAX_ITERATIONS) {
		fprintf(stderr, "load_libbpf: bad %s '%s' (expected %d..%d)\n", what, arg, min, MAX_ITERATIONS);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	double *t_open, *t_load, *t_close, *t_open_load, *t_total, cold_total = 0;
	struct rusage usage_start, usage_end;
	int iterations = DEFAULT_ITERATIONS, warmup = DEFAULT_WARMUP, programs = 0, maps = 0;
	const char *path;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: %s OBJECT [ITERATIONS=%d] [WARMUP=%d]\n", argv[0],
			DEFAULT_ITERATIONS, DEFAULT_WARMUP);
		return 2;
	}
	path = argv[1];
	if (argc > 2)
		iterations = parse_count(argv[2], "iteration count", 1);
	if (argc > 3)
		warmup = parse_count(argv[3], "warmup count", 0);

	t_open = calloc((size_t)iterations, sizeof(double));
	t_load = calloc((size_t)iterations, sizeof(double));
	t_close = calloc((size_t)iterations, sizeof(double));
	t_open_load = calloc((size_t)iterations, sizeof(double));
	t_total = calloc((size_t)iterations, sizeof(double));
	if (!t_open || !t_load || !t_close || !t_open_load || !t_total) {
		fprintf(stderr, "load_libbpf: out of memory\n");
		return 1;
	}

	libbpf_set_print(capture_print);
	for (int i = 0; i < warmup + iterations; i++) {
		if (i == warmup)
			getrusage(RUSAGE_SELF, &usage_start);
		struct bpf_object *obj;
		struct bpf_program *prog;
		struct bpf_map *map;
		double t0, t1, t2, t3;
		int err;

		libbpf_log_len = 0;
		libbpf_log[0] = '\0';
		t0 = now_ms();
		obj = bpf_object__open_file(path, NULL);
		t1 = now_ms();
		if (!obj) {
			fprintf(stderr, "load_libbpf: open %s failed: %s\n%s", path, strerror(errno), libbpf_log);
			return 1;
		}
		err = bpf_object__load(obj);
		t2 = now_ms();
		if (err) {
			fprintf(stderr, "load_libbpf: load %s failed: %s\n%s", path, strerror(-err), libbpf_log);
			bpf_object__close(obj);
			return 1;
		}
		if (i == 0) {
			programs = maps = 0;
			bpf_object__for_each_program(prog, obj)
				programs++;
			bpf_object__for_each_map(map, obj)
				maps++;
		}
		bpf_object__close(obj);
		t3 = now_ms();

		if (i == 0)
			cold_total = t3 - t0;
		if (i < warmup)
			continue;
		t_open[i - warmup] = t1 - t0;
		t_load[i - warmup] = t2 - t1;
		t_close[i - warmup] = t3 - t2;
		t_open_load[i - warmup] = t2 - t0;
		t_total[i - warmup] = t3 - t0;
	}

	getrusage(RUSAGE_SELF, &usage_end);
	printf("{\"tool\":\"libbpf\",\"libbpf_version\":\"%u.%u\",\"object\":", libbpf_major_version(),
	       libbpf_minor_version());
	print_json_string(path);
	printf(",\"programs\":%d,\"maps\":%d,\"iterations\":%d,\"warmup\":%d,\"cold_total_ms\":%.3f,",
	       programs, maps, iterations, warmup, cold_total);
	printf("\"user_cpu_ms\":%.4f,\"system_cpu_ms\":%.4f,",
	       cpu_ms(&usage_start.ru_utime, &usage_end.ru_utime) / iterations,
	       cpu_ms(&usage_start.ru_stime, &usage_end.ru_stime) / iterations);
	print_stats("open_ms", t_open, iterations, 0);
	print_stats("load_ms", t_load, iterations, 0);
	print_stats("close_ms", t_close, iterations, 0);
	print_stats("open_load_ms", t_open_load, iterations, 0);
	print_stats("total_ms", t_total, iterations, 1);
	printf("}\n");
	return 0;
}
