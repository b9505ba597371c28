// map_libbpf — the C baseline for Waggle's map benchmarks: the cost of one map operation from
// userspace through Debian's libbpf (libbpf-dev 1.1.2), in ns per operation.
//
// usage: map_libbpf [N=1000000] [REPS=3] [BATCH=4096]        (as root)
//
// Maps: HASH u32 -> u64 and ARRAY u32 -> u64, both max_entries 2^20, the hash preallocated
// (map_flags 0). Both are created afresh for every repetition and closed after it; creating them
// is not timed. Each repetition then times these loops, in this order, each over i = 0..N-1 with
// the key and value written before every call (key = the loop index, as a u32):
//
//   hash_update_new             bpf_map_update_elem(hash, key i, value i, BPF_ANY)     -> 0
//   hash_update_existing        bpf_map_update_elem(hash, key i, value i + 1, BPF_ANY) -> 0
//   hash_lookup_hit             bpf_map_lookup_elem(hash, key i)                       -> 0, i + 1
//   hash_lookup_miss            bpf_map_lookup_elem(hash, key i + 2^30)                -> -ENOENT
//   hash_lookup_batch_per_elem  bpf_map_lookup_batch(hash, BATCH at a time) from the start of the
//                               map until -ENOENT; time / elements returned (must be N). The
//                               kernel walks all 2^20 buckets whatever N is, and fails with
//                               ENOSPC if one bucket holds more than BATCH elements.
//   hash_delete                 bpf_map_delete_elem(hash, key i)                       -> 0
//   array_update                bpf_map_update_elem(array, key i, value i, BPF_ANY)    -> 0
//   array_lookup                bpf_map_lookup_elem(array, key i)                      -> 0, i
//   getppid                     syscall(SYS_getppid), for the cost of a bare syscall
//
// Every result is checked (a wrong return or value is an error: exit 1) and the values read are
// summed, so no loop can be dropped; the sum goes to stderr as one "checksum" line. Times come
// from CLOCK_MONOTONIC around each whole loop, divided by its operation count.
//
// Output: one JSON line on stdout, ns per operation, min and median over the REPS repetitions
// (median = the element at index floor(REPS / 2) of the sorted values, as bench/lib.mjs computes):
//   {"tool":"libbpf","n":1000000,"reps":3,"batch":4096,"ops":{"hash_update_new":{"min":…,
//    "median":…},"hash_update_existing":{…},…,"getppid":{…}}}
// Exit status: 0, 1 on a failed map operation, 2 on bad arguments.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>

#define MAX_ENTRIES (1u << 20)
#define MISS_OFFSET (1u << 30)
#define DEFAULT_N 1000000
#define DEFAULT_REPS 3
#define DEFAULT_BATCH 4096
#define MAX_REPS 1000

enum op {
	HASH_UPDATE_NEW,
	HASH_UPDATE_EXISTING,
	HASH_LOOKUP_HIT,
	HASH_LOOKUP_MISS,
	HASH_DELETE,
	HASH_LOOKUP_BATCH_PER_ELEM,
	ARRAY_LOOKUP,
	ARRAY_UPDATE,
	GETPPID,
	NUM_OPS
};

/* JSON names, in output order. */
static const char *const op_names[NUM_OPS] = {
	[HASH_UPDATE_NEW] = "hash_update_new",
	[HASH_UPDATE_EXISTING] = "hash_update_existing",
	[HASH_LOOKUP_HIT] = "hash_lookup_hit",
	[HASH_LOOKUP_MISS] = "hash_lookup_miss",
	[HASH_DELETE] = "hash_delete",
	[HASH_LOOKUP_BATCH_PER_ELEM] = "hash_lookup_batch_per_elem",
	[ARRAY_LOOKUP] = "array_lookup",
	[ARRAY_UPDATE] = "array_update",
	[GETPPID] = "getppid",
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static long parse_arg(const char *arg, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno || v < min || v > max) {
		fprintf(stderr, "map_libbpf: bad %s '%s' (expected %ld..%ld)\n", what, arg, min, max);
		exit(2);
	}
	return v;
}

/* Reports a failed or unexpected map operation and exits. err is libbpf's return (-errno). */
static void fail(const char *what, uint32_t key, int err)
{
	fprintf(stderr, "map_libbpf: %s, key %u: %s\n", what, key,
		err ? strerror(-err) : "unexpected success");
	exit(1);
}

static void fail_value(const char *what, uint32_t key, uint64_t got, uint64_t want)
{
	fprintf(stderr, "map_libbpf: %s, key %u: value %llu, expected %llu\n", what, key,
		(unsigned long long)got, (unsigned long long)want);
	exit(1);
}

int main(int argc, char **argv)
{
	static double samples[NUM_OPS][MAX_REPS];
	uint32_t n = DEFAULT_N, batch = DEFAULT_BATCH;
	int reps = DEFAULT_REPS;
	uint64_t checksum = 0;
	uint32_t *batch_keys;
	uint64_t *batch_values;

	if (argc > 4) {
		fprintf(stderr, "usage: %s [N=%d] [REPS=%d] [BATCH=%d]\n", argv[0], DEFAULT_N, DEFAULT_REPS,
			DEFAULT_BATCH);
		return 2;
	}
	if (argc > 1)
		n = (uint32_t)parse_arg(argv[1], "operation count N", 1, MAX_ENTRIES);
	if (argc > 2)
		reps = (int)parse_arg(argv[2], "repetition count", 1, MAX_REPS);
	if (argc > 3)
		batch = (uint32_t)parse_arg(argv[3], "batch size", 1, MAX_ENTRIES);

	batch_keys = calloc(batch, sizeof(*batch_keys));
	batch_values = calloc(batch, sizeof(*batch_values));
	if (!batch_keys || !batch_values) {
		fprintf(stderr, "map_libbpf: out of memory\n");
		return 1;
	}

	for (int rep = 0; rep < reps; rep++) {
		LIBBPF_OPTS(bpf_map_create_opts, create_opts, .map_flags = 0); /* 0: preallocated */
		LIBBPF_OPTS(bpf_map_batch_opts, batch_opts);
		uint32_t key, out_batch = 0, count;
		uint64_t value;
		uint64_t elements = 0;
		int hash, array, err;
		int64_t t;

		hash = bpf_map_create(BPF_MAP_TYPE_HASH, "bench_hash", sizeof(key), sizeof(value),
				      MAX_ENTRIES, &create_opts);
		if (hash < 0)
			fail("create hash", 0, hash);
		array = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bench_array", sizeof(key), sizeof(value),
				       MAX_ENTRIES, &create_opts);
		if (array < 0)
			fail("create array", 0, array);

		t = now_ns();
		for (uint32_t i = 0; i < n; i++) {
			key = i;
			value = i;
			err = bpf_map_update_elem(hash, &key, &value, BPF_ANY);
			if (err)
				fail("hash update (new key)", key, err);
		}
		samples[HASH_UPDATE_NEW][rep] = (double)(now_ns() - t) / n;

		t = now_ns();
		for (uint32_t i = 0; i < n; i++) {
			key = i;
			value = (uint64_t)i + 1;
			err = bpf_map_update_elem(hash, &key, &value, BPF_ANY);
			if (err)
				fail("hash update (existing key)", key, err);
		}
		samples[HASH_UPDATE_EXISTING][rep] = (double)(now_ns() - t) / n;

		t = now_ns();
		for (uint32_t i = 0; i < n; i++) {
			key = i;
			err = bpf_map_lookup_elem(hash, &key, &value);
			if (err)
				fail("hash lookup (hit)", key, err);
			if (value != (uint64_t)i + 1)
				fail_value("hash lookup (hit)", key, value, (uint64_t)i + 1);
			checksum += value;
		}
		samples[HASH_LOOKUP_HIT][rep] = (double)(now_ns() - t) / n;

		t = now_ns();
		for (uint32_t i = 0; i < n; i++) {
			key = i + MISS_OFFSET;
			err = bpf_map_lookup_elem(hash, &key, &value);
			if (err != -ENOENT)
				fail("hash lookup (miss)", key, err);
		}
		samples[HASH_LOOKUP_MISS][rep] = (double)(now_ns() - t) / n;

		/* From the start (in_batch NULL) until -ENOENT, which may come with a last few elements. */
		t = now_ns();
		for (int first = 1;; first = 0) {
			count = batch;
			err = bpf_map_lookup_batch(hash, first ? NULL : &out_batch, &out_batch, batch_keys,
						   batch_values, &count, &batch_opts);
			if (err && err != -ENOENT) {
				/* ENOSPC: one hash bucket holds more than BATCH elements. */
				fprintf(stderr, "map_libbpf: hash lookup_batch (batch %u) after %llu elements: %s\n",
					batch, (unsigned long long)elements, strerror(-err));
				return 1;
			}
			elements += count;
			for (uint32_t j = 0; j < count; j++)
				checksum += batch_values[j];
			if (err)
				break;
		}
		samples[HASH_LOOKUP_BATCH_PER_ELEM][rep] =
			(double)(now_ns() - t) / (double)(elements ? elements : 1);
		if (elements != n) {
			fprintf(stderr, "map_libbpf: hash lookup_batch returned %llu elements, expected %u\n",
				(unsigned long long)elements, n);
			return 1;
		}

		t = now_ns();
		for (uint32_t i = 0; i < n; i++) {
			key = i;
			err = bpf_map_delete_elem(hash, &key);
			if (err)
				fail("hash delete", key, err);
		}
		samples[HASH_DELETE][rep] = (double)(now_ns() - t) / n;

		t = now_ns();
		for (uint32_t i = 0; i < n; i++) {
			key = i;
			value = i;
			err = bpf_map_update_elem(array, &key, &value, BPF_ANY);
			if (err)
				fail("array update", key, err);
		}
		samples[ARRAY_UPDATE][rep] = (double)(now_ns() - t) / n;

		t = now_ns();
		for (uint32_t i = 0; i < n; i++) {
			key = i;
			err = bpf_map_lookup_elem(array, &key, &value);
			if (err)
				fail("array lookup", key, err);
			if (value != i)
				fail_value("array lookup", key, value, i);
			checksum += value;
		}
		samples[ARRAY_LOOKUP][rep] = (double)(now_ns() - t) / n;

		t = now_ns();
		for (uint32_t i = 0; i < n; i++)
			checksum += (uint64_t)syscall(SYS_getppid);
		samples[GETPPID][rep] = (double)(now_ns() - t) / n;

		close(hash);
		close(array);
	}

	fprintf(stderr, "map_libbpf: checksum %llu\n", (unsigned long long)checksum);
	printf("{\"tool\":\"libbpf\",\"n\":%u,\"reps\":%d,\"batch\":%u,\"ops\":{", n, reps, batch);
	for (int op = 0; op < NUM_OPS; op++) {
		qsort(samples[op], (size_t)reps, sizeof(double), compare_doubles);
		printf("\"%s\":{\"min\":%.1f,\"median\":%.1f}%s", op_names[op], samples[op][0],
		       samples[op][reps / 2], op + 1 < NUM_OPS ? "," : "");
	}
	printf("}}\n");
	return 0;
}
