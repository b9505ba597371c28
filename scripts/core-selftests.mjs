#!/usr/bin/env node
// Builds the Linux kernel's own CO-RE relocation selftests for test/kernel/core-selftests.test.ts.
//
// The sources come from Debian's linux-source-6.1 package (/usr/src/linux-source-6.1.tar.xz): only
// the files the CO-RE cases need are extracted from tools/testing/selftests/bpf —
//   progs/test_core_reloc_*.c   the BPF programs (one object per program family)
//   progs/btf__core_reloc_*.c   the "kernel" types each case targets; their objects' .BTF is the target BTF
//   progs/core_reloc_types.h    every type the cases use, as the C test (prog_tests/core_reloc.c) sees them
//   prog_tests/core_reloc.c     the table of cases, kept for reference (the TypeScript table transcribes it)
// plus tools/include/uapi/linux/bpf*.h (the selftests' APIDIR).
//
// Everything is compiled as the selftests Makefile does it (CLANG_BPF_BUILD_RULE with BPF_CFLAGS and
// CLANG_CFLAGS): `clang -g -Werror -D__TARGET_ARCH_<arch> -mlittle-endian -I<include> -I<selftests/bpf>
// -I<tools/include/uapi> <clang's system dirs as -idirafter> -Wno-compare-distinct-pointer-types
// -DENABLE_ATOMICS_TESTS -O2 -target bpf -c SRC -mcpu=v3 -o OBJ`, with two differences:
//   - <include> holds a vmlinux.h generated from this machine's /sys/kernel/btf/vmlinux by bpftool, and
//     the libbpf headers are the system's (/usr/include/bpf, libbpf-dev) instead of a libbpf build;
//   - an empty gnu/stubs-32.h is searched last: `-target bpf` does not define __x86_64__, so glibc's
//     <stdint.h> asks for the 32-bit stubs header, which only a multilib libc6-dev-i386 would provide
//     (it lists unimplemented functions; no type comes from it).
// One more object is generated: core_reloc_types.bpf.o, from a file that includes core_reloc_types.h
// and refers to each of its types, so that the test can lay out input and expected output bytes with
// exactly the definitions the C test uses (BTF only records types something refers to).
//
// Objects are cached in $TMPDIR/waggle-core-selftests (or $WAGGLE_CORE_SELFTESTS_CACHE), named by a
// hash of their source, the headers, the flags and the compiler version: a second run compiles nothing.
//
// Usage:
//   node scripts/core-selftests.mjs            extract and build what is missing; print what was built
//   node scripts/core-selftests.mjs --json     the same, but print the manifest (JSON) on stdout and the
//                                              progress on stderr (the test runs it this way)
//   node scripts/core-selftests.mjs --force    rebuild every object
//   node scripts/core-selftests.mjs --cache DIR
// Exit status: 0 when the build ran (objects that failed to compile are listed, not fatal), 77 when a
// prerequisite is missing (the reason is printed; in --json mode as {"skip": reason}), 2 on other errors.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

const TARBALL = process.env.WAGGLE_LINUX_SOURCE ?? '/usr/src/linux-source-6.1.tar.xz';
const SOURCE_PACKAGE = 'linux-source-6.1';
const CLANG = 'clang-19';
const BPFTOOL = 'bpftool';
const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';
const LIBBPF_HEADERS = '/usr/include/bpf';
/** Exit status for "cannot build here" (automake's SKIP). */
const EXIT_SKIP = 77;

const SELFTESTS = 'tools/testing/selftests/bpf';
/** Tarball members to extract, relative to the tree's top directory (tar --wildcards patterns). */
const MEMBERS = [
  `${SELFTESTS}/progs/test_core_reloc_*.c`,
  `${SELFTESTS}/progs/btf__core_reloc_*.c`,
  `${SELFTESTS}/progs/core_reloc_types.h`,
  `${SELFTESTS}/prog_tests/core_reloc.c`,
  'tools/include/uapi/linux/bpf.h',
  'tools/include/uapi/linux/bpf_common.h',
];

/** __TARGET_ARCH_<arch> as the selftests' SRCARCH spells it, per Node architecture. */
const SRCARCH = { x64: 'x86', arm64: 'arm64', s390x: 's390', ppc64: 'powerpc', riscv64: 'riscv' };

function parseArgs(argv) {
  const opts = { json: false, force: false, cache: process.env.WAGGLE_CORE_SELFTESTS_CACHE ?? join(tmpdir(), 'waggle-core-selftests') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') opts.json = true;
    else if (a === '--force') opts.force = true;
    else if (a === '--cache') opts.cache = resolve(argv[++i] ?? fail('--cache needs a directory'));
    else if (a.startsWith('--cache=')) opts.cache = resolve(a.slice('--cache='.length));
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node scripts/core-selftests.mjs [--json] [--force] [--cache DIR]\n');
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
/** Progress goes to stdout, or to stderr when stdout carries the JSON manifest. */
const say = (line) => (opts.json ? process.stderr : process.stdout).write(`${line}\n`);

function fail(message) {
  process.stderr.write(`core-selftests: ${message}\n`);
  process.exit(2);
}

function skip(reason) {
  if (opts.json) process.stdout.write(`${JSON.stringify({ skip: reason })}\n`);
  else say(`core-selftests: skip: ${reason}`);
  process.exit(EXIT_SKIP);
}

const sha = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : Buffer.from(p)).update('\0');
  return h.digest('hex');
};

function which(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).status === 0;
}

// ---------------------------------------------------------------------------------------------
// Prerequisites

if (!existsSync(TARBALL)) skip(`${TARBALL} is missing: apt-get install -y ${SOURCE_PACKAGE}`);
if (!which(CLANG)) skip(`${CLANG} is missing: apt-get install -y clang-19`);
if (!which(BPFTOOL)) skip(`${BPFTOOL} is missing: apt-get install -y bpftool`);
if (!existsSync(VMLINUX_BTF)) skip(`${VMLINUX_BTF} is missing: the kernel has no BTF to generate vmlinux.h from`);
if (!existsSync(join(LIBBPF_HEADERS, 'bpf_core_read.h'))) skip(`${LIBBPF_HEADERS}/bpf_core_read.h is missing: apt-get install -y libbpf-dev`);
const srcarch = SRCARCH[process.arch];
if (!srcarch) skip(`no __TARGET_ARCH_ for ${process.arch}`);

const cache = opts.cache;
mkdirSync(cache, { recursive: true });

// ---------------------------------------------------------------------------------------------
// 1. Extract the needed files, once per tarball (keyed by its path, size and mtime).

const tarStat = statSync(TARBALL);
const top = basename(TARBALL).replace(/\.tar\.[a-z0-9]+$/, '');
const srcKey = sha(TARBALL, String(tarStat.size), String(tarStat.mtimeMs), ...MEMBERS).slice(0, 12);
const srcRoot = join(cache, `src-${srcKey}`);
if (!existsSync(join(srcRoot, '.complete'))) {
  const started = Date.now();
  const tmp = `${srcRoot}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const tar = spawnSync('tar', ['-xJf', TARBALL, '-C', tmp, '--wildcards', ...MEMBERS.map((m) => `${top}/${m}`)], { encoding: 'utf8' });
  if (tar.status !== 0) fail(`tar -xJf ${TARBALL} failed: ${tar.stderr.trim()}`);
  writeFileSync(join(tmp, '.complete'), `${TARBALL}\n`);
  rmSync(srcRoot, { recursive: true, force: true });
  renameSync(tmp, srcRoot);
  say(`extracted ${MEMBERS.length} patterns from ${TARBALL} into ${srcRoot} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
const tree = join(srcRoot, top);
const selftests = join(tree, SELFTESTS);
const progsDir = join(selftests, 'progs');
const apiDir = join(tree, 'tools/include/uapi');

// ---------------------------------------------------------------------------------------------
// 2. vmlinux.h from this kernel's BTF, and the stub header.

const vmlinuxBtf = readFileSync(VMLINUX_BTF);
const vmlinuxKey = sha(vmlinuxBtf).slice(0, 12);
const includeDir = join(cache, `include-${vmlinuxKey}`);
if (!existsSync(join(includeDir, 'vmlinux.h'))) {
  mkdirSync(includeDir, { recursive: true });
  const dump = spawnSync(BPFTOOL, ['btf', 'dump', 'file', VMLINUX_BTF, 'format', 'c'], { maxBuffer: 1 << 30 });
  if (dump.status !== 0) fail(`bpftool btf dump failed: ${dump.stderr}`);
  writeFileSync(`${join(includeDir, 'vmlinux.h')}.tmp-${process.pid}`, dump.stdout);
  renameSync(`${join(includeDir, 'vmlinux.h')}.tmp-${process.pid}`, join(includeDir, 'vmlinux.h'));
  say(`generated ${join(includeDir, 'vmlinux.h')} from ${VMLINUX_BTF}`);
}
const stubsDir = join(cache, 'stubs');
mkdirSync(join(stubsDir, 'gnu'), { recursive: true });
const STUB = '/* Empty: -target bpf makes glibc ask for the 32-bit stubs list (see scripts/core-selftests.mjs). */\n';
if (!existsSync(join(stubsDir, 'gnu', 'stubs-32.h'))) writeFileSync(join(stubsDir, 'gnu', 'stubs-32.h'), STUB);

// ---------------------------------------------------------------------------------------------
// 3. The types object's source: core_reloc_types.h plus one reference to each type it declares.

const typesHeader = readFileSync(join(progsDir, 'core_reloc_types.h'), 'utf8');
const genDir = join(cache, `gen-${srcKey}`);
mkdirSync(genDir, { recursive: true });
const typesSource = join(genDir, 'core_reloc_types.c');
const typesText = typesSourceText(typesHeader);
if (!existsSync(typesSource) || readFileSync(typesSource, 'utf8') !== typesText) writeFileSync(typesSource, typesText);

/** Names of the tagged types and typedefs declared at file scope in a C header (comments removed). */
function declaredTypes(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, ' ').replace(/^\s*#.*$/gm, ' ');
  const tags = new Set();
  const typedefs = new Set();
  // File-scope statements: split at ';' outside braces.
  let depth = 0;
  let start = 0;
  const statements = [];
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c === '{') depth++;
    if (c === '}') depth--;
    // A statement ends at a file-scope ';', or at the '}' closing a function body (`void f(...) {}`).
    const functionEnd = c === '}' && depth === 0 && /\)\s*\{[^]*$/.test(code.slice(start, i + 1)) && !/=\s*\{/.test(code.slice(start, i));
    if ((c === ';' && depth === 0) || functionEnd) {
      statements.push(code.slice(start, i + 1));
      start = i + 1;
    }
  }
  for (const s of statements) {
    const head = s.trim();
    const tag = /^(?:typedef\s+)?(?:const\s+)?(struct|union|enum)\s+(\w+)\s*\{/.exec(head);
    if (tag) tags.add(`${tag[1]} ${tag[2]}`);
    if (!head.startsWith('typedef')) continue;
    // The declared name: `(*name)(...)` for function pointers, else the last identifier before
    // optional array bounds and attributes.
    const outer = head.replace(/\{[\s\S]*\}/, '{}').replace(/__bpf_aligned|__attribute__\s*\(\([^)]*\)\)/g, ' ');
    const fn = /\(\s*\*\s*(\w+)\s*\)\s*\(/.exec(outer);
    const plain = /(\w+)\s*(?:\[[^\]]*\]\s*)*;\s*$/.exec(outer);
    const name = fn?.[1] ?? plain?.[1];
    if (name) typedefs.add(name);
  }
  return { tags: [...tags], typedefs: [...typedefs] };
}

function typesSourceText(header) {
  const { tags, typedefs } = declaredTypes(header);
  const lines = [
    '// Generated by scripts/core-selftests.mjs: every type of core_reloc_types.h, referred to once so that',
    '// its BTF records them all (the test lays out input and expected output bytes with them).',
    '#include "progs/core_reloc_types.h"',
    '',
  ];
  [...tags, ...typedefs].forEach((t, i) => lines.push(`${t} *__waggle_type_${i};`));
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// 4. Compile.

/** clang's own system include directories, as the Makefile's get_sys_includes finds them. */
function systemIncludes() {
  const r = spawnSync(CLANG, ['-v', '-E', '-'], { input: '', encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  const from = out.indexOf('#include <...> search starts here:');
  const to = out.indexOf('End of search list.');
  if (from < 0 || to < 0) fail(`cannot read ${CLANG}'s include directories`);
  return out.slice(from, to).split('\n').slice(1).map((l) => l.trim()).filter((l) => l.startsWith('/'));
}

const clangVersion = spawnSync(CLANG, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? CLANG;
const flags = [
  '-g', '-Werror', `-D__TARGET_ARCH_${srcarch}`, '-mlittle-endian',
  '-I', includeDir, '-I', selftests, '-I', apiDir,
  ...systemIncludes().flatMap((d) => ['-idirafter', d]),
  '-idirafter', stubsDir,
  '-Wno-compare-distinct-pointer-types', '-DENABLE_ATOMICS_TESTS',
];

/** Everything besides the source that can change an object: compiler, flags, every header. */
const headerKey = sha(
  clangVersion,
  flags.join(' '),
  typesHeader,
  readFileSync(join(apiDir, 'linux/bpf.h')),
  readFileSync(join(apiDir, 'linux/bpf_common.h')),
  ...readdirSync(LIBBPF_HEADERS).sort().flatMap((f) => [f, readFileSync(join(LIBBPF_HEADERS, f))]),
  vmlinuxKey,
);

const sources = readdirSync(progsDir)
  .filter((f) => /^(test_core_reloc_|btf__core_reloc_).*\.c$/.test(f))
  .sort()
  .map((f) => ({ stem: f.slice(0, -2), path: join(progsDir, f) }));
sources.push({ stem: 'core_reloc_types', path: typesSource });

const objDir = join(cache, 'obj');
mkdirSync(objDir, { recursive: true });

const jobs = sources.map(({ stem, path }) => {
  const key = sha(headerKey, readFileSync(path)).slice(0, 16);
  return { stem, path, out: join(objDir, `${stem}.${key}.bpf.o`), log: join(objDir, `${stem}.${key}.log`) };
});

function compile(job) {
  return new Promise((done) => {
    const tmp = `${job.out}.tmp-${process.pid}`;
    // The Makefile's rule: $(CLANG) $3 -O2 -target bpf -c $1 -mcpu=v3 -o $2, run from selftests/bpf.
    const args = [...flags, '-O2', '-target', 'bpf', '-c', job.path, '-mcpu=v3', '-o', tmp];
    const child = spawn(CLANG, args, { cwd: selftests, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => {
      if (status === 0) {
        renameSync(tmp, job.out);
        done({ ok: true });
      } else {
        rmSync(tmp, { force: true });
        const text = `${CLANG} ${args.join(' ')}\n${stderr}`;
        writeFileSync(job.log, text);
        done({ ok: false, error: stderr.trim() || `exit status ${status}` });
      }
    });
  });
}

const started = Date.now();
const results = new Map();
const pending = jobs.filter((j) => {
  if (opts.force) return true;
  if (existsSync(j.out)) return (results.set(j.stem, { ok: true, cached: true }), false);
  if (existsSync(j.log)) {
    // Failed before with these exact inputs: report the same error without retrying.
    results.set(j.stem, { ok: false, cached: true, error: readFileSync(j.log, 'utf8').split('\n').slice(1).join('\n').trim() });
    return false;
  }
  return true;
});
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(availableParallelism(), pending.length) }, async () => {
    while (next < pending.length) {
      const job = pending[next++];
      results.set(job.stem, await compile(job));
    }
  }),
);

// ---------------------------------------------------------------------------------------------
// 5. Report and manifest.

const objects = {};
const failed = {};
let built = 0;
let cached = 0;
for (const j of jobs) {
  const r = results.get(j.stem);
  if (r.ok) {
    objects[j.stem] = j.out;
    if (r.cached) cached++;
    else built++;
  } else {
    failed[j.stem] = r.error;
  }
}
const ms = Date.now() - started;
for (const j of jobs) {
  const r = results.get(j.stem);
  const state = r.ok ? (r.cached ? 'cached' : 'built ') : 'FAILED';
  say(`${state}  ${j.stem}.bpf.o${r.ok ? '' : `  (${j.log})`}`);
  if (!r.ok) say(r.error.split('\n').slice(0, 6).map((l) => `        ${l}`).join('\n'));
}
say(`${jobs.length} objects: ${built} built, ${cached} cached, ${Object.keys(failed).length} failed (${(ms / 1000).toFixed(1)} s) with ${clangVersion}`);
say(`objects in ${objDir}`);

const manifest = {
  cacheDir: cache,
  tarball: TARBALL,
  sourceDir: selftests,
  coreRelocTable: join(selftests, 'prog_tests/core_reloc.c'),
  clang: clangVersion,
  flags,
  objects,
  failed,
};
writeFileSync(join(cache, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
if (opts.json) process.stdout.write(`${JSON.stringify(manifest)}\n`);
