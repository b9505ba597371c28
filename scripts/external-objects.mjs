#!/usr/bin/env node
// Builds a corpus of eBPF objects that other people wrote, to check that Waggle loads them exactly as
// libbpf does (test/kernel/external-objects.test.ts compares the kernel's translated instructions).
//
// The sources come from Debian's linux-source-6.1 package (/usr/src/linux-source-6.1.tar.xz):
//   - tools/bpf/runqslower/runqslower.bpf.c
//   - samples/bpf/*.bpf.c: xdp_sample.bpf.c alone, and the XDP samples the way their Makefile builds
//     them: each compiled, then linked with xdp_sample.bpf.o by `bpftool gen object`
//   - tools/testing/selftests/bpf/progs/*.c
// Only objects with CO-RE relocations are kept, and not those with programs this machine refuses to load
// (BPF trampolines); whether libbpf itself can load an object is for the test to find out.
//
// Every object is compiled with clang-19 -target bpf -g -O2 and the other flags of its own upstream
// Makefile, against a vmlinux.h that `bpftool btf dump file /sys/kernel/btf/vmlinux format c` generates
// from THIS kernel, and against the system's libbpf headers (libbpf-dev, /usr/include/bpf):
//   runqslower  -g -O2 -target bpf -I<inc> -I tools/include/uapi
//   samples     -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wno-compare-distinct-pointer-types
//               -I<inc> -I samples/bpf -I tools/include <clang's system dirs as -idirafter>
//   selftests   -g -D__TARGET_ARCH_x86 -I<inc> -I selftests/bpf -I tools/include/uapi
//               <clang's system dirs as -idirafter> -Wno-compare-distinct-pointer-types
//               -DENABLE_ATOMICS_TESTS -O2 -target bpf -mcpu=v3  (test_progs' flavour; plus
//               -fno-inline for test_l4lb_noinline and test_xdp_noinline, as the Makefile says)
// where <inc> holds vmlinux.h and a `bpf` link to /usr/include/bpf (upstream's INCLUDE_DIR layout).
// Upstream's `-I$(srctree)/include` for samples is left out: no sample includes a kernel header. The
// selftests' -Werror is left out: the 6.1 sources draw new clang-19 warnings against the 6.18 types
// (const qualifiers, -Wvisibility) that do not change the object.
//
// A source is skipped, with the reason printed, when:
//   - it has no CO-RE marker (vmlinux.h, BPF_CORE_READ, bpf_core_*, preserve_access_index,
//     __builtin_preserve_*), directly or through a local header;
//   - its name says it is a negative test (`fail`): it is written to be rejected;
//   - it has fentry/fexit/fmod_ret/lsm/freplace or struct_ops programs: this kernel refuses BPF
//     trampolines (BPF_PROG_LOAD gives EPERM, see shared/anchors/kernel-capabilities.md);
//   - clang-19 rejects it against this kernel's vmlinux.h (its first error is printed);
//   - the object has no CO-RE relocation record in .BTF.ext, or every program is SEC("?…"),
//     so libbpf would load nothing.
//
// Objects are cached in $TMPDIR/waggle-external-objects (os.tmpdir()), keyed by a hash of the source,
// the tarball, the flags, the toolchain, the libbpf headers and vmlinux.h; the extracted source tree and
// vmlinux.h are cached too, so a second run does no work.
//
// Usage:
//   node scripts/external-objects.mjs            build (or reuse) and print what compiled and what was skipped
//   node scripts/external-objects.mjs --json     the same, but print only the manifest as JSON
//   node scripts/external-objects.mjs --force    rebuild every object
//   WAGGLE_LINUX_SOURCE=/path/linux-source-6.1.tar.xz overrides the tarball.
// Exit status: 0 when it built (or reused) the corpus, 2 when a tool or the tarball is missing (the
// manifest then has `unavailable` with the reason), 1 on any other failure.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';

/** Bump to invalidate every cached object when the build rules change. */
const RULES_VERSION = 4;
const TARBALL = process.env.WAGGLE_LINUX_SOURCE ?? '/usr/src/linux-source-6.1.tar.xz';
/** The tarball's top directory. */
const TOP = 'linux-source-6.1';
const CACHE = join(tmpdir(), 'waggle-external-objects');
const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';
const LIBBPF_HEADERS = '/usr/include/bpf';
const CLANG = 'clang-19';
const BPFTOOL = 'bpftool';

/** Parts of the tarball the corpus needs (GNU tar wildcards; `*` also matches `/`). */
const EXTRACT = [
  `${TOP}/tools/bpf/runqslower/*`,
  `${TOP}/samples/bpf/*.bpf.c`,
  `${TOP}/samples/bpf/*.h`,
  `${TOP}/samples/bpf/Makefile`,
  `${TOP}/tools/testing/selftests/bpf/*.h`,
  `${TOP}/tools/testing/selftests/bpf/Makefile`,
  `${TOP}/tools/testing/selftests/bpf/progs/*`,
  `${TOP}/tools/include/*`,
];

const RUNQSLOWER = 'tools/bpf/runqslower';
const SAMPLES = 'samples/bpf';
const SELFTESTS = 'tools/testing/selftests/bpf';

/** Any of these in a source (or a local header it includes) means it may use CO-RE. */
const CORE_MARKERS = /vmlinux\.h|BPF_CORE_READ|bpf_core_[a-z_]+\s*\(|preserve_access_index|__builtin_preserve_/;
/** Program sections that need a BPF trampoline, which this kernel refuses (EPERM at BPF_PROG_LOAD). */
const TRAMPOLINE_SECTION = /^(fentry|fexit|fmod_ret|lsm|lsm_cgroup|freplace)(\.s)?(\/|$)/;
const STRUCT_OPS_SECTION = /^\.?struct_ops(\.s|\.link)?(\/|$)/;

const args = new Set(process.argv.slice(2));
const JSON_ONLY = args.has('--json');
const FORCE = args.has('--force');
for (const a of args) {
  if (!['--json', '--force'].includes(a)) {
    console.error(`unknown argument ${a}\nusage: node scripts/external-objects.mjs [--json] [--force]`);
    process.exit(1);
  }
}
const say = JSON_ONLY ? () => {} : (line = '') => console.log(line);

const sha = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : p instanceof Uint8Array ? p : JSON.stringify(p)).update('\0');
  return h.digest('hex');
};

function which(bin) {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Why the corpus cannot be built here, or undefined. */
function unavailableReason() {
  if (!existsSync(TARBALL)) return `${TARBALL} is missing (apt-get install -y linux-source-6.1)`;
  if (!which(CLANG)) return `${CLANG} is missing (apt-get install -y clang-19)`;
  if (!which(BPFTOOL)) return `${BPFTOOL} is missing (apt-get install -y bpftool)`;
  if (!existsSync(join(LIBBPF_HEADERS, 'bpf_helpers.h'))) return `${LIBBPF_HEADERS}/bpf_helpers.h is missing (apt-get install -y libbpf-dev)`;
  if (!existsSync(VMLINUX_BTF)) return `${VMLINUX_BTF} is missing: the kernel has no BTF`;
  return undefined;
}

/** Runs a command; resolves with { code, stdout, stderr }. */
function run(cmd, argv, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { ...options, env: { ...process.env, LC_ALL: 'C' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (e) => resolve({ code: -1, stdout, stderr: String(e) }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function runSync(cmd, argv, options = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, LC_ALL: 'C' }, ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${(r.stderr || r.error || '').toString().trim()}`);
  return r.stdout;
}

/** Extracts the parts of the tarball we need, once per tarball (keyed by path, size and mtime). */
function extractTree() {
  const st = statSync(TARBALL);
  const key = sha(TARBALL, String(st.size), String(st.mtimeMs)).slice(0, 16);
  const tree = join(CACHE, `tree-${key}`);
  if (existsSync(join(tree, '.complete'))) return { root: join(tree, TOP), key, built: false };
  rmSync(tree, { recursive: true, force: true });
  const partial = `${tree}.partial-${process.pid}`;
  mkdirSync(partial, { recursive: true });
  runSync('tar', ['-xJf', TARBALL, '-C', partial, '--wildcards', ...EXTRACT]);
  writeFileSync(join(partial, '.complete'), `${TARBALL}\n`);
  try {
    renameSync(partial, tree);
  } catch {
    // Another run finished first: use its tree.
    rmSync(partial, { recursive: true, force: true });
  }
  return { root: join(tree, TOP), key, built: true };
}

/** vmlinux.h of the running kernel plus a `bpf` link to libbpf's headers: upstream's INCLUDE_DIR. */
function includeDir() {
  const btf = readFileSync(VMLINUX_BTF);
  const key = sha(btf).slice(0, 16);
  const dir = join(CACHE, `include-${key}`);
  if (!existsSync(join(dir, 'vmlinux.h'))) {
    const partial = `${dir}.partial-${process.pid}`;
    mkdirSync(partial, { recursive: true });
    writeFileSync(join(partial, 'vmlinux.h'), runSync(BPFTOOL, ['btf', 'dump', 'file', VMLINUX_BTF, 'format', 'c']));
    symlinkSync(LIBBPF_HEADERS, join(partial, 'bpf'));
    try {
      renameSync(partial, dir);
    } catch {
      rmSync(partial, { recursive: true, force: true });
    }
  }
  return { dir, key };
}

/** clang's own system include directories, as upstream's get_sys_includes makes them (-idirafter). */
function clangSystemIncludes() {
  const r = spawnSync(CLANG, ['-v', '-E', '-'], { input: '', encoding: 'utf8' });
  const text = `${r.stdout}${r.stderr}`;
  const start = text.indexOf('#include <...> search starts here:');
  const end = text.indexOf('End of search list.');
  if (start < 0 || end < 0) return [];
  return text.slice(start, end).split('\n').slice(1).map((l) => l.trim()).filter(Boolean).flatMap((d) => ['-idirafter', d]);
}

/** Identity of the toolchain: clang, bpftool (the linker), libbpf's headers. */
function toolchainKey() {
  const clang = runSync(CLANG, ['--version']).split('\n')[0];
  const bpftool = runSync(BPFTOOL, ['version']).trim();
  const headers = readdirSync(LIBBPF_HEADERS).sort().map((f) => sha(f, readFileSync(join(LIBBPF_HEADERS, f))));
  return { clang, bpftool, key: sha(clang, bpftool, headers).slice(0, 16) };
}

// ---------------------------------------------------------------------------------------------
// Object inspection: ELF sections and the CO-RE records of .BTF.ext

/** Program sections (executable, non-empty) and the number of CO-RE relocation records. */
function inspectObject(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 64 || dv.getUint32(0, false) !== 0x7f454c46) throw new Error('not an ELF file');
  const shoff = Number(dv.getBigUint64(0x28, true));
  const shentsize = dv.getUint16(0x3a, true);
  const shnum = dv.getUint16(0x3c, true);
  const shstrndx = dv.getUint16(0x3e, true);
  const header = (i) => {
    const o = shoff + i * shentsize;
    return {
      name: dv.getUint32(o, true),
      type: dv.getUint32(o + 4, true),
      flags: Number(dv.getBigUint64(o + 8, true)),
      offset: Number(dv.getBigUint64(o + 0x18, true)),
      size: Number(dv.getBigUint64(o + 0x20, true)),
    };
  };
  const strtab = header(shstrndx);
  const nameAt = (off) => {
    let e = strtab.offset + off;
    while (bytes[e] !== 0) e++;
    return Buffer.from(bytes.subarray(strtab.offset + off, e)).toString('latin1');
  };
  const SHT_PROGBITS = 1;
  const SHF_EXECINSTR = 4;
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    sections.push({ ...h, sectionName: nameAt(h.name) });
  }
  const programs = sections
    .filter((s) => s.type === SHT_PROGBITS && s.flags & SHF_EXECINSTR && s.size > 0 && s.sectionName !== '.text')
    .map((s) => s.sectionName);
  let coreRelocations = 0;
  const ext = sections.find((s) => s.sectionName === '.BTF.ext');
  if (ext) {
    // struct btf_ext_header: magic, version, flags, hdr_len, func_info off/len, line_info off/len,
    // core_relo off/len (the last two only when hdr_len says so).
    const at = ext.offset;
    const hdrLen = dv.getUint32(at + 4, true);
    if (hdrLen >= 32) {
      const off = dv.getUint32(at + 24, true);
      const len = dv.getUint32(at + 28, true);
      if (len > 0) {
        const base = at + hdrLen + off;
        const recordSize = dv.getUint32(base, true);
        for (let p = base + 4; p < base + len; ) {
          const count = dv.getUint32(p + 4, true);
          coreRelocations += count;
          p += 8 + count * recordSize;
        }
      }
    }
  }
  return { programs, coreRelocations };
}

// ---------------------------------------------------------------------------------------------
// Source screening

/** The source's text and every local header it includes (transitively), for marker searches. */
function sourceText(file, searchDirs, seen = new Set()) {
  if (seen.has(file)) return '';
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  let all = text;
  for (const m of text.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)) {
    for (const dir of [dirname(file), ...searchDirs]) {
      const candidate = join(dir, m[1]);
      if (existsSync(candidate)) {
        all += `\n${sourceText(candidate, searchDirs, seen)}`;
        break;
      }
    }
  }
  return all;
}

/** Sections named by SEC("…") in the text. */
function secNames(text) {
  return [...text.matchAll(/SEC\(\s*"([^"]*)"\s*\)/g)].map((m) => m[1]);
}

/** The reason a source is left out before compiling it, or undefined. */
function staticSkipReason(file, text) {
  if (/fail/.test(basename(file))) return 'negative test: its name says the verifier is meant to reject it';
  if (!CORE_MARKERS.test(text)) return 'no CO-RE: no vmlinux.h, BPF_CORE_READ, bpf_core_*(), preserve_access_index or __builtin_preserve_*';
  return programSectionsReason(secNames(text));
}

/** The reason a set of program sections cannot be compared here, or undefined. */
function programSectionsReason(sections) {
  const live = sections.filter((s) => !s.startsWith('?'));
  const trampoline = [...new Set(live.filter((s) => TRAMPOLINE_SECTION.test(s)).map((s) => s.split('/')[0]))];
  if (trampoline.length) return `has ${trampoline.join('/')} programs: this kernel refuses BPF trampolines (EPERM at BPF_PROG_LOAD)`;
  if (sections.some((s) => STRUCT_OPS_SECTION.test(s.replace(/^\?/, '')))) return 'has struct_ops programs: loading them needs struct_ops map registration';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The corpus

/** One object to build: a single compile, or (samples) compiles linked by `bpftool gen object`. */
function describeCorpus(root, inc, sysIncludes) {
  const entries = [];
  const skipped = [];
  const uapi = join(root, 'tools/include/uapi');

  // runqslower
  const rq = join(root, RUNQSLOWER, 'runqslower.bpf.c');
  entries.push({
    id: 'runqslower',
    source: `${RUNQSLOWER}/runqslower.bpf.c`,
    objectName: 'runqslower.bpf.o',
    units: [{ file: rq, cwd: dirname(rq), flags: ['-g', '-O2', '-target', 'bpf', '-I', inc, '-I', uapi] }],
  });

  // samples/bpf: *.bpf.c; the Makefile's LINKED_SKELS are linked with their deps by bpftool.
  const samplesDir = join(root, SAMPLES);
  const sampleFlags = [
    '-g', '-O2', '-target', 'bpf', '-D__TARGET_ARCH_x86', '-Wno-compare-distinct-pointer-types',
    '-I', inc, '-I', samplesDir, '-I', join(root, 'tools/include'), ...sysIncludes,
  ];
  const makefile = readFileSync(join(samplesDir, 'Makefile'), 'utf8');
  const linkDeps = new Map();
  for (const m of makefile.matchAll(/^(\S+)\.skel\.h-deps\s*:=\s*(.+)$/gm)) {
    linkDeps.set(m[1], m[2].trim().split(/\s+/).map((o) => o.replace(/\.bpf\.o$/, '.bpf.c')));
  }
  for (const name of readdirSync(samplesDir).filter((f) => f.endsWith('.bpf.c')).sort()) {
    const stem = name.replace(/\.bpf\.c$/, '');
    const file = join(samplesDir, name);
    const deps = linkDeps.get(stem) ?? [name];
    const text = deps.map((d) => sourceText(join(samplesDir, d), [samplesDir])).join('\n');
    const source = deps.length > 1 ? `${SAMPLES}/${name} + ${deps.filter((d) => d !== name).map((d) => `${SAMPLES}/${d}`).join(' + ')} (bpftool gen object)` : `${SAMPLES}/${name}`;
    const reason = staticSkipReason(file, text);
    if (reason) {
      skipped.push({ source, reason });
      continue;
    }
    entries.push({
      id: `samples/${stem}`,
      source,
      objectName: `${stem}.bpf.o`,
      units: deps.map((d) => ({ file: join(samplesDir, d), cwd: samplesDir, flags: sampleFlags })),
    });
  }

  // selftests
  const selftests = join(root, SELFTESTS);
  const progs = join(selftests, 'progs');
  const baseFlags = [
    '-g', '-D__TARGET_ARCH_x86', '-I', inc, '-I', selftests, '-I', uapi,
    ...sysIncludes, '-Wno-compare-distinct-pointer-types', '-DENABLE_ATOMICS_TESTS',
    '-O2', '-target', 'bpf', '-mcpu=v3',
  ];
  const noinline = new Set(['test_l4lb_noinline', 'test_xdp_noinline']);
  for (const name of readdirSync(progs).filter((f) => f.endsWith('.c')).sort()) {
    const stem = name.slice(0, -2);
    const file = join(progs, name);
    const source = `${SELFTESTS}/progs/${name}`;
    const reason = staticSkipReason(file, sourceText(file, [selftests]));
    if (reason) {
      skipped.push({ source, reason });
      continue;
    }
    entries.push({
      id: `selftests/${stem}`,
      source,
      objectName: `${stem}.bpf.o`,
      units: [{ file, cwd: progs, flags: noinline.has(stem) ? [...baseFlags, '-fno-inline'] : baseFlags }],
    });
  }
  return { entries, skipped };
}

/** Units being compiled, by cache key: entries that share a unit (xdp_sample.bpf.c) compile it once. */
const compiling = new Map();

/** Compiles one unit into the cache; resolves with { object } or { error }. */
function compileUnit(unit, keys) {
  const key = sha(RULES_VERSION, keys, readFileSync(unit.file), relative(keys.root, unit.file), unit.flags.map((f) => f.replaceAll(keys.root, '<src>'))).slice(0, 20);
  if (!compiling.has(key)) compiling.set(key, compileUnitOnce(unit, key));
  return compiling.get(key);
}

async function compileUnitOnce(unit, key) {
  const dir = join(CACHE, 'units', key);
  const object = join(dir, basename(unit.file).replace(/\.c$/, '.o'));
  const errorFile = join(dir, 'error.txt');
  if (!FORCE && existsSync(join(dir, '.complete'))) {
    return existsSync(errorFile) ? { error: readFileSync(errorFile, 'utf8'), cached: true } : { object, cached: true };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const r = await run(CLANG, [...unit.flags, '-c', basename(unit.file), '-o', object], { cwd: unit.cwd });
  if (r.code !== 0) writeFileSync(errorFile, r.stderr || `clang exited with ${r.code}`);
  writeFileSync(join(dir, '.complete'), '');
  return r.code === 0 ? { object, cached: false } : { error: r.stderr, cached: false };
}

/** The first compiler error, shortened to one line. */
function firstError(stderr) {
  const line = stderr.split('\n').find((l) => / error: /.test(l)) ?? stderr.split('\n').find(Boolean) ?? 'failed';
  return line.replace(/^\S*\/([^/\s]+:\d+:\d+:)/, '$1').trim();
}

/** Builds one entry: compiles its units and links them when there are several. */
async function buildEntry(entry, keys) {
  const results = [];
  for (const unit of entry.units) results.push(await compileUnit(unit, keys));
  const failed = results.findIndex((r) => r.error !== undefined);
  if (failed >= 0) {
    return { error: `clang-19 rejects ${basename(entry.units[failed].file)}: ${firstError(results[failed].error)}`, cached: results.every((r) => r.cached) };
  }
  const key = sha(RULES_VERSION, entry.id, results.map((r) => r.object)).slice(0, 20);
  const dir = join(CACHE, 'objects', key);
  const object = join(dir, entry.objectName);
  if (!FORCE && existsSync(join(dir, '.complete'))) return { object, cached: true };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (results.length === 1) {
    writeFileSync(object, readFileSync(results[0].object));
  } else {
    const r = await run(BPFTOOL, ['gen', 'object', object, ...results.map((x) => x.object)]);
    if (r.code !== 0) return { error: `bpftool gen object failed: ${r.stderr.trim().split('\n')[0]}`, cached: false };
  }
  writeFileSync(join(dir, '.complete'), '');
  return { object, cached: false };
}

async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

async function main() {
  const unavailable = unavailableReason();
  if (unavailable) {
    if (JSON_ONLY) console.log(JSON.stringify({ unavailable }));
    else console.error(`external objects unavailable: ${unavailable}`);
    process.exit(2);
  }
  mkdirSync(CACHE, { recursive: true });
  const started = Date.now();
  const tree = extractTree();
  const inc = includeDir();
  const tools = toolchainKey();
  const sysIncludes = clangSystemIncludes();
  const { entries, skipped } = describeCorpus(tree.root, inc.dir, sysIncludes);
  const keys = { tarball: tree.key, vmlinux: inc.key, toolchain: tools.key, root: tree.root };

  const built = await pool(entries, availableParallelism(), (e) => buildEntry(e, keys));
  const objects = [];
  let fresh = 0;
  for (const [i, entry] of entries.entries()) {
    const result = built[i];
    if (!result.cached) fresh++;
    if (result.error) {
      skipped.push({ source: entry.source, reason: result.error });
      continue;
    }
    const { programs, coreRelocations } = inspectObject(new Uint8Array(readFileSync(result.object)));
    let reason;
    if (coreRelocations === 0) reason = 'compiled, but the object has no CO-RE relocation record';
    else if (programs.length > 0 && programs.every((s) => s.startsWith('?'))) reason = 'every program is SEC("?…") (autoload off): libbpf loads none of them';
    else if (programs.length === 0) reason = 'compiled, but the object has no program';
    else reason = programSectionsReason(programs);
    if (reason) {
      skipped.push({ source: entry.source, reason });
      continue;
    }
    objects.push({ id: entry.id, source: entry.source, object: result.object, sections: programs, coreRelocations });
  }

  const manifest = {
    tarball: TARBALL,
    tree: tree.root,
    vmlinuxHeader: join(inc.dir, 'vmlinux.h'),
    clang: tools.clang,
    bpftool: tools.bpftool,
    cache: CACHE,
    objects,
    skipped: skipped.sort((a, b) => a.source.localeCompare(b.source)),
  };
  writeFileSync(join(CACHE, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (JSON_ONLY) {
    console.log(JSON.stringify(manifest));
    return;
  }

  say(`external CO-RE objects from ${TARBALL} (${tools.clang}; ${tools.bpftool.split('\n')[0]}; vmlinux.h of ${VMLINUX_BTF})`);
  say(`cache ${CACHE}: ${entries.length - fresh} of ${entries.length} builds reused, ${fresh} run, ${((Date.now() - started) / 1000).toFixed(1)} s${tree.built ? ' (tarball extracted)' : ''}`);
  say('');
  say(`compiled ${objects.length} objects:`);
  for (const o of objects) {
    const kinds = [...new Set(o.sections.map((s) => s.replace(/^\?/, '').split('/')[0]))].join(' ');
    say(`  ${o.source}  (${o.sections.length} program section${o.sections.length === 1 ? '' : 's'}: ${kinds}; ${o.coreRelocations} CO-RE relocations)`);
  }
  say('');
  say(`skipped ${skipped.length} sources:`);
  const byReason = new Map();
  for (const s of skipped) {
    const general = /^(no CO-RE|negative test|has .* programs|every program|compiled, but)/.test(s.reason);
    const k = general ? s.reason : `\0${s.source}`;
    if (!byReason.has(k)) byReason.set(k, []);
    byReason.get(k).push(s);
  }
  for (const [k, list] of [...byReason].sort(([a], [b]) => a.localeCompare(b))) {
    if (k.startsWith('\0')) {
      say(`  ${list[0].source}: ${list[0].reason}`);
    } else {
      say(`  ${k} (${list.length}):`);
      say(`    ${list.map((s) => s.source.replace(`${SELFTESTS}/progs/`, 'progs/')).join(', ')}`);
    }
  }
  say('');
  say(`manifest: ${join(CACHE, 'manifest.json')}`);
}

main().catch((error) => {
  console.error(error?.stack ?? String(error));
  process.exit(1);
});
