// Debian's docker-registry as a local registry for tests, `make images` and `navarch up`: its config
// and storage under one data dir, started on 127.0.0.1, awaited until GET /v2/ answers, stopped by
// PID. ensureLocalRegistry reuses one that already answers at the address.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { until } from '../localcluster/until.js';

export const DEFAULT_REGISTRY_ADDRESS = '127.0.0.1:5000';
export const DOCKER_REGISTRY_BIN = '/usr/bin/docker-registry';

export interface LocalRegistryOptions {
  dataDir: string;
  /** host:port to listen on; only loopback addresses are allowed. @default 127.0.0.1:5000 */
  address?: string;
  /** Keep running after this process exits (for `navarch up` and `make images`). @default false */
  detached?: boolean;
  /** @default 20000 */
  startTimeoutMs?: number;
  binary?: string;
}

export interface LocalRegistry {
  address: string;
  /** http://address */
  url: string;
  /** The process this call started; undefined when an already running registry was reused. */
  pid: number | undefined;
  reused: boolean;
  /** Stops the registry if this call started it (a reused one is left running). */
  stop(): Promise<void>;
}

function checkAddress(address: string): void {
  const m = /^(127\.\d+\.\d+\.\d+|localhost):(\d+)$/.exec(address);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65_535) throw new TypeError(`Cannot start a local registry: address "${address}" must be 127.x.x.x:<port> or localhost:<port>`);
}

/** True when something answers GET /v2/ at address the way a distribution registry does (200 or 401). */
export async function registryAnswers(address: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const res = await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status === 200 || res.status === 401;
  } catch {
    return false;
  }
}

function pidFile(dataDir: string): string {
  return join(dataDir, 'registry.pid');
}

/** Whether pid is a docker-registry serving this data dir's config (a reused PID is not ours). */
function isOurRegistry(pid: number, dataDir: string): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.some((a) => a.endsWith('docker-registry')) && args.includes(join(resolve(dataDir), 'registry.yml'));
  } catch {
    return false;
  }
}

/** Not exited: a zombie waiting to be reaped has exited. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

async function stopPid(pid: number, dataDir: string, child: ChildProcess | undefined): Promise<void> {
  // Ours is checked once, before the signal: an exiting process's cmdline reads empty, so asking
  // again made a registry still shutting down look gone.
  const gone = () => (child ? child.exitCode !== null || child.signalCode !== null : !running(pid));
  if (!gone() && (child !== undefined || isOurRegistry(pid, dataDir))) {
    process.kill(pid, 'SIGTERM');
    try {
      await until(`docker-registry (pid ${pid}) to exit after SIGTERM`, gone, 10_000);
    } catch {
      if (!gone()) process.kill(pid, 'SIGKILL');
      await until(`docker-registry (pid ${pid}) to exit after SIGKILL`, gone, 5_000);
    }
  }
  await rm(pidFile(dataDir), { force: true });
}

/** Starts docker-registry with its storage under dataDir and waits until it answers. */
export async function startLocalRegistry(opts: LocalRegistryOptions): Promise<LocalRegistry> {
  const address = opts.address ?? DEFAULT_REGISTRY_ADDRESS;
  checkAddress(address);
  // Otherwise the answer of the registry already there would pass for ours starting.
  if (await registryAnswers(address)) throw new Error(`Cannot start a local registry at ${address}: a registry already answers there (ensureLocalRegistry reuses it)`);
  const dataDir = resolve(opts.dataDir);
  await mkdir(join(dataDir, 'storage'), { recursive: true });
  const configPath = join(dataDir, 'registry.yml');
  const config = {
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dataDir, 'storage') }, delete: { enabled: true } },
    http: { addr: address },
  };
  await writeFile(configPath, stringify(config));
  const logPath = join(dataDir, 'registry.log');
  const out = openSync(logPath, 'a');
  const child = spawn(opts.binary ?? DOCKER_REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', out, out], detached: opts.detached ?? false });
  closeSync(out);
  const spawnError = new Promise<never>((_, reject) => child.once('error', (e) => reject(new Error(`Cannot start ${opts.binary ?? DOCKER_REGISTRY_BIN} (install docker-registry): ${e.message}`))));
  spawnError.catch(() => undefined);
  const pid = child.pid;
  // An attached registry must not outlive this process, even when a test run is cut short.
  const killOnExit = () => {
    if (pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
  };
  if (!opts.detached) process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (pid !== undefined) await stopPid(pid, dataDir, child);
  };
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => {
      void readFile(logPath, 'utf8')
        .catch(() => '')
        .then((log) => reject(new Error(`docker-registry exited (${code ?? signal}): ${log.trim().split('\n').slice(-2).join(' | ')}`)));
    }),
  );
  exited.catch(() => undefined);
  let settled = false; // ends the polling once the race is decided either way
  try {
    await Promise.race([spawnError, exited, until(`docker-registry to answer on http://${address}/v2/`, () => settled || registryAnswers(address, 1_000), opts.startTimeoutMs ?? 20_000, 100)]);
  } catch (e) {
    settled = true;
    await stop().catch(() => undefined);
    throw new Error(`Cannot start a local registry at ${address} (log: ${logPath}): ${(e as Error).message}`, { cause: e });
  }
  if (pid !== undefined) await writeFile(pidFile(dataDir), `${pid}\n`);
  if (opts.detached) child.unref();
  return { address, url: `http://${address}`, pid, reused: false, stop };
}

/** The registry answering at address, started (detached, data in dataDir) when none answers. */
export async function ensureLocalRegistry(opts: { dataDir: string; address?: string; startTimeoutMs?: number }): Promise<LocalRegistry> {
  const address = opts.address ?? DEFAULT_REGISTRY_ADDRESS;
  checkAddress(address);
  if (await registryAnswers(address)) return { address, url: `http://${address}`, pid: undefined, reused: true, stop: async () => undefined };
  return startLocalRegistry({ ...opts, address, detached: true });
}

/** Stops a detached registry started with this data dir (by the PID it recorded), if it still runs. */
export async function stopLocalRegistry(dataDir: string): Promise<boolean> {
  const text = await readFile(pidFile(dataDir), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isOurRegistry(pid, dataDir)) return false;
  await stopPid(pid, dataDir, undefined);
  return true;
}
