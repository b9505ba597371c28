/**
 * The C library, reached through koffi: the only place Waggle declares native functions.
 *
 * Every prototype matches the C declaration's integer widths (an `int` result is declared `int`: its
 * upper register half is undefined). Pointers are passed and returned as plain Numbers holding the
 * address (`long`), never as Buffers or koffi pointer objects: that is the fastest calling convention
 * koffi has, and it keeps the "transient pointer" pitfall out of reach (see native-memory.ts). User
 * space addresses on x86-64 and arm64 fit in 48 bits, so a Number holds them exactly.
 *
 * `errno` is read with `koffi.errno()` straight after the failing call, before any other native call can
 * overwrite it. The thin wrappers throw `SyscallError` whose `op` is the libc function's name; `syscall`
 * itself returns minus errno instead, so that hot paths can test for expected errors without allocating.
 */

import koffi, { type LibraryHandle } from "koffi";
import { SyscallError } from "../errors.js";

type IntFn<A extends unknown[]> = (...args: A) => number;

const lib = loadLibc();

/** glibc's soname; elsewhere (musl) the symbols are found in the process's global scope. */
function loadLibc(): LibraryHandle {
  try {
    return koffi.load("libc.so.6");
  } catch {
    return koffi.load(null);
  }
}

const native = {
  syscall3: lib.func("long syscall(long nr, long a1, long a2, long a3)") as IntFn<[number, number, number, number]>,
  syscall6: lib.func("long syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)") as IntFn<
    [number, number, number, number, number, number, number]
  >,
  close: lib.func("int close(int fd)") as IntFn<[number]>,
  fcntl: lib.func("int fcntl(int fd, int cmd, long arg)") as IntFn<[number, number, number]>,
  ioctl: lib.func("int ioctl(int fd, unsigned long request, long arg)") as IntFn<[number, number, number]>,
  read: lib.func("long read(int fd, long buf, long count)") as IntFn<[number, number, number]>,
  write: lib.func("long write(int fd, long buf, long count)") as IntFn<[number, number, number]>,
  mmap: lib.func("long mmap(long addr, long length, int prot, int flags, int fd, long offset)") as IntFn<
    [number, number, number, number, number, number]
  >,
  munmap: lib.func("int munmap(long addr, long length)") as IntFn<[number, number]>,
  mprotect: lib.func("int mprotect(long addr, long length, int prot)") as IntFn<[number, number, number]>,
  socket: lib.func("int socket(int domain, int type, int protocol)") as IntFn<[number, number, number]>,
  setsockopt: lib.func("int setsockopt(int fd, int level, int name, long value, uint32_t length)") as IntFn<
    [number, number, number, number, number]
  >,
  getsockopt: lib.func("int getsockopt(int fd, int level, int name, long value, long lengthAddress)") as IntFn<
    [number, number, number, number, number]
  >,
  bind: lib.func("int bind(int fd, long address, uint32_t length)") as IntFn<[number, number, number]>,
  sendto: lib.func("long sendto(int fd, long buf, long length, int flags, long dest, uint32_t destLength)") as IntFn<
    [number, number, number, number, number, number]
  >,
  recvfrom: lib.func(
    "long recvfrom(int fd, long buf, long length, int flags, long src, long srcLengthAddress)",
  ) as IntFn<[number, number, number, number, number, number]>,
  recv: lib.func("long recv(int fd, long buf, long length, int flags)") as IntFn<[number, number, number, number]>,
  getpid: lib.func("int getpid(void)") as IntFn<[]>,
  sysconf: lib.func("long sysconf(int name)") as IntFn<[number]>,
  malloc: lib.func("long malloc(long size)") as IntFn<[number]>,
  free: lib.func("void free(long ptr)") as (ptr: number) => void,
  mount: lib.func("int mount(str source, str target, str fstype, unsigned long flags, long data)") as IntFn<
    [string, string, string, number, number]
  >,
  umount2: lib.func("int umount2(str target, int flags)") as IntFn<[string, number]>,
  statfs: lib.func("int statfs(str path, long buf)") as IntFn<[string, number]>,
};

/** `PROT_*` protections of mmap and mprotect. */
export const Prot = Object.freeze({ NONE: 0, READ: 1, WRITE: 2, EXEC: 4 } as const);

/** `MAP_*` flags of mmap. */
export const MapFlags = Object.freeze({ SHARED: 0x01, PRIVATE: 0x02, FIXED: 0x10, ANONYMOUS: 0x20 } as const);

/** `SOCK_CLOEXEC`, added to every socket() call. */
const SOCK_CLOEXEC = 0o2000000;

/** `fcntl` command that duplicates an fd with close-on-exec set, at or above its argument. */
export const F_DUPFD_CLOEXEC = 1030;

/** `sysconf` name of the page size. */
const SC_PAGESIZE = 30;

/** A libc call returned -1: throw its errno, named by the function. */
function fail(op: string, subject?: string): never {
  throw new SyscallError(op, koffi.errno(), subject);
}

/**
 * Calls `syscall(nr, a1, a2, a3)`. Returns the result, or **minus errno** on failure (no throw, no
 * allocation: the caller decides which errors are expected).
 */
export function syscall(nr: number, a1: number, a2: number, a3: number): number {
  const r = native.syscall3(nr, a1, a2, a3);
  return r === -1 ? -koffi.errno() : r;
}

/** Calls `syscall()` with six arguments; returns the result or minus errno, like {@link syscall}. */
export function syscall6(nr: number, a1: number, a2: number, a3: number, a4: number, a5: number, a6: number): number {
  const r = native.syscall6(nr, a1, a2, a3, a4, a5, a6);
  return r === -1 ? -koffi.errno() : r;
}

/** Closes a file descriptor. Linux releases the descriptor even when close reports an error. */
export function close(fd: number): void {
  if (native.close(fd) === -1) fail("close", `fd ${fd}`);
}

/** `fcntl(fd, cmd, arg)` with an integer argument; returns its result. */
export function fcntl(fd: number, cmd: number, arg: number): number {
  const r = native.fcntl(fd, cmd, arg);
  if (r === -1) fail("fcntl", `fd ${fd}`);
  return r;
}

/** `ioctl(fd, request, arg)`, where `arg` is an integer or an address; returns its result. */
export function ioctl(fd: number, request: number, arg: number): number {
  const r = native.ioctl(fd, request, arg);
  if (r === -1) fail("ioctl", `fd ${fd}, request 0x${request.toString(16)}`);
  return r;
}

/** Reads up to `length` bytes into native memory at `address`; returns the count read. */
export function read(fd: number, address: number, length: number): number {
  const r = native.read(fd, address, length);
  if (r === -1) fail("read", `fd ${fd}`);
  return r;
}

/** Writes `length` bytes from native memory at `address`; returns the count written. */
export function write(fd: number, address: number, length: number): number {
  const r = native.write(fd, address, length);
  if (r === -1) fail("write", `fd ${fd}`);
  return r;
}

/** Maps memory; returns the mapping's address. */
export function mmap(address: number, length: number, prot: number, flags: number, fd: number, offset: number): number {
  const r = native.mmap(address, length, prot, flags, fd, offset);
  if (r === -1) fail("mmap", fd >= 0 ? `fd ${fd}, ${length} bytes` : `${length} bytes`);
  return r;
}

/** Unmaps memory mapped by {@link mmap}. */
export function munmap(address: number, length: number): void {
  if (native.munmap(address, length) === -1) fail("munmap");
}

/** Changes the protection of mapped pages. */
export function mprotect(address: number, length: number, prot: number): void {
  if (native.mprotect(address, length, prot) === -1) fail("mprotect");
}

/** Opens a socket, always with `SOCK_CLOEXEC`; returns the raw fd (wrap it in an `FD`). */
export function socket(domain: number, type: number, protocol: number): number {
  const r = native.socket(domain, type | SOCK_CLOEXEC, protocol);
  if (r === -1) fail("socket", `domain ${domain}, type ${type}, protocol ${protocol}`);
  return r;
}

/** Sets a socket option from `length` bytes of native memory at `address`. */
export function setsockopt(fd: number, level: number, name: number, address: number, length: number): void {
  if (native.setsockopt(fd, level, name, address, length) === -1) fail("setsockopt", `level ${level}, option ${name}`);
}

/** Reads a socket option into native memory; `lengthAddress` points at a `socklen_t` (in: capacity, out: size). */
export function getsockopt(fd: number, level: number, name: number, address: number, lengthAddress: number): void {
  if (native.getsockopt(fd, level, name, address, lengthAddress) === -1) {
    fail("getsockopt", `level ${level}, option ${name}`);
  }
}

/** Binds a socket to the `sockaddr` of `length` bytes at `address`. */
export function bind(fd: number, address: number, length: number): void {
  if (native.bind(fd, address, length) === -1) fail("bind", `fd ${fd}`);
}

/** Sends `length` bytes at `address` to the `sockaddr` at `dest` (0 for a connected socket); returns the count sent. */
export function sendto(
  fd: number,
  address: number,
  length: number,
  flags: number,
  dest: number,
  destLength: number,
): number {
  const r = native.sendto(fd, address, length, flags, dest, destLength);
  if (r === -1) fail("sendto", `fd ${fd}`);
  return r;
}

/** Receives into native memory, recording the sender at `src` (0 to ignore); returns the count received. */
export function recvfrom(
  fd: number,
  address: number,
  length: number,
  flags: number,
  src: number,
  srcLengthAddress: number,
): number {
  const r = native.recvfrom(fd, address, length, flags, src, srcLengthAddress);
  if (r === -1) fail("recvfrom", `fd ${fd}`);
  return r;
}

/** Receives into native memory; returns the count received. */
export function recv(fd: number, address: number, length: number, flags: number): number {
  const r = native.recv(fd, address, length, flags);
  if (r === -1) fail("recv", `fd ${fd}`);
  return r;
}

/** The process id, as the kernel sees it. */
export function getpid(): number {
  return native.getpid();
}

/** The MMU page size in bytes. */
export function sysconfPageSize(): number {
  const r = native.sysconf(SC_PAGESIZE);
  if (r === -1) fail("sysconf", "_SC_PAGESIZE");
  return r;
}

/** Allocates `size` bytes of native memory (uninitialised); returns the address. */
export function malloc(size: number): number {
  const address = native.malloc(size);
  if (address === 0) throw new SyscallError("malloc", 12 /* ENOMEM */, `${size} bytes`);
  return address;
}

/** Frees memory returned by {@link malloc}. */
export function free(address: number): void {
  native.free(address);
}

/** Mounts a file system (`data` is an address, 0 for none). */
export function mount(source: string, target: string, fstype: string, flags: number, data: number): void {
  if (native.mount(source, target, fstype, flags, data) === -1) fail("mount", `${fstype} on ${target}`);
}

/** Unmounts a file system. */
export function umount2(target: string, flags: number): void {
  if (native.umount2(target, flags) === -1) fail("umount2", target);
}

/** Fills the `struct statfs` at `address` (at least 120 bytes) for the file system holding `path`. */
export function statfs(path: string, address: number): void {
  if (native.statfs(path, address) === -1) fail("statfs", path);
}

/**
 * An ArrayBuffer over `length` bytes of native memory at `address`, without copying.
 * Touching it after the memory is freed or unmapped crashes the process: only owners may hold it.
 */
export function nativeView(address: number, length: number): ArrayBuffer {
  return koffi.view(address, length);
}
