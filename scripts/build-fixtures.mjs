#!/usr/bin/env node
// Builds the committed eBPF objects: the test fixtures (fixtures/src → fixtures/obj) and the examples'
// programs (examples/bpf, objects beside their sources); *.bpf.c with clang-19, *.gcc.c with Debian's
// bpf-gcc. The objects are committed, so the build must be reproducible:
// clang runs with cwd = fixtures/src, a relative source path and -fdebug-compilation-dir=. (clang
// joins the compilation directory into the file names of BTF line info, so without it .BTF.ext would
// hold absolute paths; with it they read "./xdp_filter.bpf.c", "./include/net.h"); DWARF is stripped
// and BTF / BTF.ext are kept. Nothing here reads the clock or the running kernel.
//
// GCC 12 needs two more measures, both checked by building in two checkouts and comparing:
//   - its BTF writer orders some types by hashing pointers, so the layout follows ASLR: it runs
//     under `setarch <arch> -R` (no address randomisation) with a minimal, fixed environment;
//   - it records "<cwd>/<input file>" in the BTF string table (ignoring -fdebug-prefix-map), so
//     it runs with PWD=/proc/self/cwd, which libiberty's getpwd() accepts because it is the same
//     directory: the recorded name is "/proc/self/cwd/NAME.gcc.c" in every checkout.
//
// Usage:
//   node scripts/build-fixtures.mjs               build every fixture into fixtures/obj/
//   node scripts/build-fixtures.mjs --only NAME   build one (NAME: xdp_pass, xdp_pass.bpf.c, globals.gcc, ...)
//   node scripts/build-fixtures.mjs --check       build into a temp dir and fail if any committed object differs
//   node scripts/build-fixtures.mjs --verbose     print every command
//
// Naming: `NAME.bpf.c` → `obj/NAME.o`; `NAME.gcc.c` → `obj/NAME.gcc.o` (so globals.bpf.c and
// globals.gcc.c do not collide).
//
// Per-file extra flags: a first line `// build: FLAG...` is appended to the compiler command, e.g.
// `// build: -mcpu=v4` or `// build: -target bpfeb` (clang honours the last -target / -mcpu).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rename, rm, mkdir } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Source folders and where their objects go: the test fixtures, and the examples' programs. */
const CORPORA = [
  { name: 'fixtures', src: join(ROOT, 'fixtures', 'src'), obj: join(ROOT, 'fixtures', 'obj') },
  { name: 'examples', src: join(ROOT, 'examples', 'bpf'), obj: join(ROOT, 'examples', 'bpf') },
];

/** The tools, and the Debian package that provides each. */
const TOOLS = {
  clang: { bin: 'clang-19', pkg: 'clang-19' },
  strip: { bin: 'llvm-strip-19', pkg: 'llvm-19' },
  gcc: { bin: 'bpf-gcc', pkg: 'gcc-bpf' },
  setarch: { bin: 'setarch', pkg: 'util-linux' },
};

/** Per host architecture: Debian multiarch include directory (for <asm/...>) and uname machine. */
const HOSTS = {
  x64: { multiarch: 'x86_64-linux-gnu', machine: 'x86_64' },
  arm64: { multiarch: 'aarch64-linux-gnu', machine: 'aarch64' },
};

/** Flags every clang fixture gets. The target arch stays x86 on every host so objects are identical. */
function clangFlags(multiarchInclude) {
  return [
    '-target', 'bpf', '-g', '-O2', '-mcpu=v3', '-D__TARGET_ARCH_x86',
    '-I', 'include', '-idirafter', multiarchInclude,
    // File names in .BTF.ext line info become ./NAME instead of /abs/path/NAME (see the header).
    '-fdebug-compilation-dir=.',
  ];
}

/**
 * Flags for GCC 12's BPF backend: -gbtf emits .BTF only (no DWARF, no .BTF.ext without CO-RE).
 * bpf-gcc is a cross compiler and does not search /usr/include, so both system directories are
 * added, in the host compiler's order.
 */
function gccFlags(multiarchInclude) {
  return ['-O2', '-gbtf', '-I', 'include', '-idirafter', multiarchInclude, '-idirafter', '/usr/include'];
}

const ENV = { ...process.env, LC_ALL: 'C', SOURCE_DATE_EPOCH: '0', TZ: 'UTC' };

/** The whole environment bpf-gcc sees (see the header comment). */
const GCC_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  LC_ALL: 'C',
  TZ: 'UTC',
  SOURCE_DATE_EPOCH: '0',
  PWD: '/proc/self/cwd',
};

function die(msg) {
  process.stderr.write(`build-fixtures: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { check: false, only: null, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check') opts.check = true;
    else if (a === '--verbose' || a === '-v') opts.verbose = true;
    else if (a === '--only') {
      if (i + 1 >= argv.length) die('--only needs a fixture name');
      opts.only = argv[++i];
    } else if (a.startsWith('--only=')) opts.only = a.slice('--only='.length);
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node scripts/build-fixtures.mjs [--check] [--only NAME] [--verbose]\n');
      process.exit(0);
    } else die(`unknown argument ${a}`);
  }
  return opts;
}

/** One source file → what to run and where the object goes. */
function describe(file) {
  if (file.endsWith('.bpf.c')) return { file, kind: 'clang', out: `${file.slice(0, -'.bpf.c'.length)}.o` };
  if (file.endsWith('.gcc.c')) return { file, kind: 'gcc', out: `${file.slice(0, -'.c'.length)}.o` };
  return null;
}

function matchesOnly(fx, only) {
  const names = [fx.file, fx.out, fx.out.slice(0, -2), fx.file.replace(/\.c$/, '')];
  return names.includes(basename(only));
}

/** Tokens of a `// build: ...` first line, or none. */
async function extraFlags(fx) {
  const text = await readFile(join(fx.corpus.src, fx.file), 'utf8');
  const first = text.split('\n', 1)[0];
  const m = /^\s*\/\/\s*build:\s*(.*)$/.exec(first);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

function checkTool(tool) {
  const r = spawnSync(tool.bin, ['--version'], { stdio: 'ignore', env: ENV });
  if (r.error && r.error.code === 'ENOENT') {
    die(`${tool.bin} not found on PATH; install it with: apt-get install ${tool.pkg}`);
  }
  if (r.error) die(`cannot run ${tool.bin}: ${r.error.message}`);
}

function run(bin, args, { cwd, verbose, env = ENV }) {
  if (verbose) process.stderr.write(`  (cd ${cwd} && ${bin} ${args.join(' ')})\n`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${bin} ${args.join(' ')} (exit ${code})\n${out}`));
    });
  });
}

async function buildOne(fx, outDirs, workDir, ctx) {
  const extra = await extraFlags(fx);
  const outDir = outDirs.get(fx.corpus.name);
  const tmpObj = join(workDir, `${fx.corpus.name}-${fx.out}.unstripped`);
  const dest = join(outDir, fx.out);
  const tmpDest = join(outDir, `.${fx.out}.tmp`);
  const cwd = fx.corpus.src;
  try {
    if (fx.kind === 'clang') {
      await run(TOOLS.clang.bin, [...clangFlags(ctx.multiarch), ...extra, '-c', fx.file, '-o', tmpObj],
        { cwd, verbose: ctx.verbose });
      // -g removes DWARF (and its relocations) but keeps .BTF / .BTF.ext and the symbol table.
      await run(TOOLS.strip.bin, ['-g', tmpObj, '-o', tmpDest], { cwd, verbose: ctx.verbose });
    } else {
      const gcc = [TOOLS.gcc.bin, ...gccFlags(ctx.multiarch), ...extra, '-c', fx.file, '-o', tmpDest];
      await run(TOOLS.setarch.bin, [ctx.machine, '-R', ...gcc], { cwd, verbose: ctx.verbose, env: GCC_ENV });
    }
    const bytes = await readFile(tmpDest);
    if (!bytes.includes(Buffer.from('.BTF\0'))) {
      throw new Error(`${fx.file}: the object has no .BTF section`);
    }
    await rename(tmpDest, dest);
    return bytes.length;
  } finally {
    await rm(tmpDest, { force: true });
  }
}

async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { ok: true, value: await fn(items[i]) };
      } catch (err) {
        results[i] = { ok: false, error: err };
      }
    }
  });
  await Promise.all(workers);
  return results;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const host = HOSTS[process.arch];
  if (!host) die(`unsupported host architecture ${process.arch} (known: ${Object.keys(HOSTS).join(', ')})`);
  const multiarch = `/usr/include/${host.multiarch}`;

  const all = [];
  for (const corpus of CORPORA) {
    const files = await readdir(corpus.src).catch(() => []);
    for (const fx of files.sort().map(describe).filter(Boolean)) all.push({ ...fx, corpus });
  }
  const selected = opts.only ? all.filter((fx) => matchesOnly(fx, opts.only)) : all;
  if (selected.length === 0) die(opts.only ? `no fixture named ${opts.only}` : 'no fixtures found');

  if (selected.some((fx) => fx.kind === 'clang')) { checkTool(TOOLS.clang); checkTool(TOOLS.strip); }
  if (selected.some((fx) => fx.kind === 'gcc')) { checkTool(TOOLS.gcc); checkTool(TOOLS.setarch); }

  const workDir = await mkdtemp(join(tmpdir(), 'waggle-fixtures-'));
  const outDirs = new Map(CORPORA.map((c) => [c.name, opts.check ? join(workDir, c.name) : c.obj]));
  for (const dir of outDirs.values()) await mkdir(dir, { recursive: true });
  const ctx = { multiarch, machine: host.machine, verbose: opts.verbose };
  let failed = 0;
  try {
    const results = await pool(selected, Math.max(1, availableParallelism()), (fx) => buildOne(fx, outDirs, workDir, ctx));
    results.forEach((r, i) => {
      const fx = selected[i];
      if (r.ok) {
        if (!opts.check) process.stdout.write(`  ${fx.file.padEnd(28)} → ${fx.corpus.name}: ${fx.out} (${r.value} bytes)\n`);
      } else {
        failed++;
        process.stderr.write(`FAILED ${fx.file}: ${r.error.message}\n`);
      }
    });
    if (failed) {
      process.stderr.write(`build-fixtures: ${failed} fixture(s) failed to build\n`);
      process.exitCode = 2;
      return;
    }

    if (opts.check) {
      const differ = [];
      for (const fx of selected) {
        const fresh = await readFile(join(outDirs.get(fx.corpus.name), fx.out));
        let committed = null;
        try { committed = await readFile(join(fx.corpus.obj, fx.out)); } catch { /* missing */ }
        if (committed === null) differ.push(`${fx.corpus.name}: ${fx.out} (missing)`);
        else if (!fresh.equals(committed)) differ.push(`${fx.corpus.name}: ${fx.out} (rebuilt bytes differ)`);
      }
      if (!opts.only) {
        for (const corpus of CORPORA) {
          const expected = new Set(all.filter((fx) => fx.corpus === corpus).map((fx) => fx.out));
          const present = await readdir(corpus.obj).catch(() => []);
          for (const f of present.sort()) {
            if (f.endsWith('.o') && !expected.has(f)) differ.push(`${corpus.name}: ${f} (no source)`);
          }
        }
      }
      if (differ.length) {
        process.stderr.write(`committed eBPF objects are out of date; run \`npm run fixtures\` and commit:\n`);
        for (const d of differ) process.stderr.write(`  ${d}\n`);
        process.exitCode = 1;
      } else {
        process.stdout.write(`eBPF objects up to date (${selected.length} rebuilt byte-identical)\n`);
      }
    } else {
      process.stdout.write(`built ${selected.length} fixture(s)\n`);
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
