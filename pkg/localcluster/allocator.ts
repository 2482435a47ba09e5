// The memory allocator of our long-running Node processes (masters, kv members, the hollow
// process). glibc's malloc hands freed memory back to the system only from the top of its heap:
// at 150,000 pods a master's main arena held 618 MB for 153 MB in use, and a malloc_trim(0)
// (through gdb) took its RSS from 1,990 to 1,582 MiB. jemalloc returns free pages on its own
// (the usual advice for RocksDB servers on Linux, for the same fragmentation), so where Debian's
// libjemalloc2 is installed these processes preload it. The caller's LD_PRELOAD or MALLOC_CONF wins.

import { existsSync } from 'node:fs';

/** Debian's multiarch directories for the architectures Node runs on. */
const MULTIARCH: Readonly<Record<string, string>> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
};

/** Where libjemalloc2 puts the library on this machine, or undefined when it is not installed. */
export function jemallocPath(arch: string = process.arch, exists: (path: string) => boolean = existsSync): string | undefined {
  const triplet = MULTIARCH[arch];
  const candidates = [...(triplet ? [`/usr/lib/${triplet}/libjemalloc.so.2`] : []), '/usr/lib/libjemalloc.so.2', '/usr/local/lib/libjemalloc.so.2'];
  return candidates.find((p) => exists(p));
}

/**
 * Environment for a child that should run on jemalloc: empty when the library is missing or the
 * caller's environment already chooses a preload. A background thread purges freed pages after
 * jemalloc's decay time even when the process allocates little.
 */
export function jemallocEnv(callerEnv: NodeJS.ProcessEnv = process.env, find: () => string | undefined = jemallocPath): Record<string, string> {
  if ((callerEnv.LD_PRELOAD ?? '') !== '') return {};
  const path = find();
  if (path === undefined) return {};
  return { LD_PRELOAD: path, MALLOC_CONF: callerEnv.MALLOC_CONF ?? 'background_thread:true' };
}
