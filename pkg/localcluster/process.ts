// Child processes of a local cluster: started with their output in a log
// file, stopped by signal and awaited. Shared by the KV and master launchers.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jemallocEnv } from './allocator.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * glibc malloc settings for our long-running processes (the caller's environment overrides them).
 * glibc gives each thread that allocates an arena of its own, up to 8 per core, and an arena keeps
 * what it once held: a master's libuv and V8 worker threads held 90 to 120 MiB that way at 150,000
 * pods, and 8 to 16 MiB with two arenas.
 */
const MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/**
 * One V8 helper thread per process instead of one per core less one. A local cluster runs three
 * masters, the nodes and often a benchmark on the same few cores; each process's concurrent
 * marking, parallel scavenges and background compiles then compete with the others' main threads.
 * Three alternating pairs of SchedulingBasic 10,000 runs gave 1,468, 1,515 and 1,478 pods/s against
 * 1,378, 1,483 and 1,404 with the default (1.20 to 1.23 ms of cluster CPU per pod against 1.22 to
 * 1.29), with the same event-loop delays. bin/navarch.js (a master on a machine of its own) keeps
 * the default.
 */
const V8_POOL_FLAGS: readonly string[] = ['--v8-pool-size=1'];

/**
 * V8's young generation for our servers: 64 MiB semi-spaces instead of Node 20's 16. A master
 * allocates fast (requests, watch events, Raft messages); with 16 MiB, in a 150,000-pod fill, each
 * master ran 3,000 to 4,000 scavenges of 17 to 18 ms on average, and more short-lived objects
 * reached the old space. With the flag on every process (the benchmark's client too) that fill ran
 * at 303 pods/s against 278 and 561 creates/s against 415. Alternating SchedulingBasic 10,000 runs
 * then gave 547, 524, 586 and 574 pods/s at 64 MiB (2.96 to 3.32 ms of cluster CPU per pod),
 * 465 and 466 at 32 MiB (3.73 to 3.76 ms), 462 and 471 at 128 MiB (3.73 to 3.84 ms).
 * bin/navarch.js sets the same.
 */
const SEMI_SPACE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

/**
 * The old generation grows to twice what a full collection left before the next one starts, instead
 * of V8's own factor. A master's heap keeps growing while pods come (the store's versions, the
 * caches), and V8 sized the next limit at about 1.4 times the live heap: in SchedulingBasic 10,000
 * a master ran a full mark-compact every 1.2 to 2 s (each 20 to 38 ms of pause, 72 to 117 ms of
 * incremental marking on the main thread, and concurrent marking on the helper thread, which used
 * 0.10 to 0.16 CPU-s per second of each master). Five alternating pairs of `--only basic` runs:
 * SchedulingBasic 50,000 took 1.00, 1.01, 1.03, 0.92 and 1.08 ms of cluster CPU per pod against
 * 1.17, 1.18, 1.10, 0.95 and 1.07 (1,653 to 1,980 pods/s against 1,525 to 1,922); the 10,000 case
 * moved within its noise. RSS after both cases: 828 to 999 MiB against 777 to 1,029. A factor of 3
 * did no better in two pairs. bin/navarch.js sets the same.
 */
const HEAP_GROWING_FLAGS: readonly string[] = ['--heap-growing-percent=100'];

/** The heap flags bin/navarch.js's shebang carries too (it cannot import them); a test keeps the two alike. */
export const HEAP_FLAGS: readonly string[] = [...SEMI_SPACE_FLAGS, ...HEAP_GROWING_FLAGS];

export const NODE_FLAGS: readonly string[] = [...HEAP_FLAGS, ...V8_POOL_FLAGS];

/**
 * Runs node with args from the repository root, stdout and stderr appended to logFile. Detached ones
 * outlive us. `jemalloc: false` keeps glibc's malloc (the agent: every tool it spawns would inherit
 * the preload).
 */
export function spawnLogged(args: string[], logFile: string, detached: boolean, options: { jemalloc?: boolean } = {}): ChildProcess {
  const out = openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = { ...MALLOC_ENV, ...process.env, ...(options.jemalloc === false ? {} : jemallocEnv()) };
  // A parent that itself runs on jemalloc (started as the README says) must not pass it on here.
  if (options.jemalloc === false && env.LD_PRELOAD?.includes('libjemalloc')) {
    delete env.LD_PRELOAD;
    delete env.MALLOC_CONF;
  }
  const child = spawn(process.execPath, [...NODE_FLAGS, ...args], { cwd: ROOT, env, stdio: ['ignore', out, out], detached });
  closeSync(out);
  if (detached) child.unref();
  return child;
}

export function isAlive(child: ChildProcess | undefined): boolean {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Sends a signal and waits until the process is gone; resolves with its exit code (null when a signal ended it). */
export async function killAndWait(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<number | null> {
  if (child === undefined || !isAlive(child)) return child?.exitCode ?? null;
  const gone = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill(signal);
  return gone;
}
