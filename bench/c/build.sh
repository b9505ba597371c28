#!/bin/sh
# Builds the C baselines of the benchmarks into bench/.build/ (git-ignored), against Debian's
# libbpf (libbpf-dev 1.1.2): bench/.build/load_libbpf, bench/.build/map_libbpf and bench/.build/core_libbpf.
# Needs: a C compiler, libbpf-dev, libelf-dev, zlib1g-dev (apt-get install gcc libbpf-dev libelf-dev zlib1g-dev).
# Usage: sh bench/c/build.sh        (from anywhere; prints the path of each binary it built)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/.." && pwd)/.build
cc=${CC:-cc}

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "bench/c/build.sh: no C compiler ($cc); install one with: apt-get install gcc" >&2
	exit 2
fi
for header in bpf/libbpf.h:libbpf-dev libelf.h:libelf-dev zlib.h:zlib1g-dev; do
	file=${header%%:*}
	pkg=${header#*:}
	if ! printf '#include <%s>\n' "$file" | "$cc" -E -x c - >/dev/null 2>&1; then
		echo "bench/c/build.sh: <$file> not found; install it with: apt-get install $pkg" >&2
		exit 2
	fi
done

mkdir -p "$out"
for name in load_libbpf map_libbpf core_libbpf; do
	"$cc" -O2 -g -Wall -Wextra -o "$out/$name" "$here/$name.c" -lbpf -lelf -lz
	echo "$out/$name"
done
