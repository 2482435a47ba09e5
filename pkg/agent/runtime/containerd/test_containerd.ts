// Test support: a containerd of the test's own (root, state, socket and config under one temp
// dir), started by the test and stopped by its pid, with mounts it left behind undone.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerdConfig as config } from '../../../localcluster/containerd.js';
import { until } from '../../../localcluster/until.js';

export interface TestContainerd {
  dir: string;
  socketPath: string;
  stateDir: string;
  logPath: string;
  stop(): Promise<void>;
  /** Stops containerd (its shims and containers keep running) and starts it again on the same dirs. */
  restart(): Promise<void>;
}

/** Mount points under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const points = lines.map((l) => l.split(' ')[4]?.replace(/\\040/g, ' ')).filter((p): p is string => !!p && (p === dir || p.startsWith(`${dir}/`)));
  return points.sort((a, b) => b.length - a.length);
}

export async function startContainerd(): Promise<TestContainerd> {
  const dir = await mkdtemp(join(tmpdir(), 'navarch-containerd-'));
  const socketPath = join(dir, 'containerd.sock');
  const cfg = join(dir, 'config.toml');
  await writeFile(cfg, config(dir, socketPath));
  const logPath = join(dir, 'containerd.log');
  let proc: Daemon | undefined;
  const stop = async () => {
    await proc?.stop();
    // Shims outlive containerd by design: kill the ones that serve this containerd (their
    // command line names our socket), then undo the mounts they and the snapshotter left.
    for (const pid of shimPids(socketPath)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const m of mountsUnder(dir)) {
      try {
        execFileSync('umount', ['-l', m]);
      } catch {
        /* already gone */
      }
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    proc = await startDaemon(cfg, dir, socketPath, logPath);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    dir,
    socketPath,
    stateDir: join(dir, 'navarch'),
    logPath,
    stop,
    restart: async () => {
      await proc?.stop();
      proc = await startDaemon(cfg, dir, socketPath, logPath);
    },
  };
}

interface Daemon {
  stop(): Promise<void>;
}

/** One containerd process on our dirs; waits for its socket (a fresh one after a restart). */
async function startDaemon(cfg: string, dir: string, socketPath: string, logPath: string): Promise<Daemon> {
  await rm(socketPath, { force: true });
  const log = createWriteStream(logPath, { flags: 'a' });
  const child: ChildProcess = spawn('containerd', ['--config', cfg, '--root', join(dir, 'root'), '--state', join(dir, 'state'), '--address', socketPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  let exited = false;
  const exitedP = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  const stop = async () => {
    if (!exited && child.pid) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitedP;
      clearTimeout(t);
    }
    log.end();
  };
  try {
    await until('containerd to listen on its socket', () => (exited ? Promise.reject(new Error(`containerd exited; see ${logPath}`)) : existsSync(socketPath)), 60_000);
  } catch (e) {
    await stop();
    const tail = existsSync(logPath) ? readFileSync(logPath, 'utf8').slice(-2000) : '';
    throw new Error(`${(e as Error).message}\n${tail}`);
  }
  return { stop };
}

function shimPids(socketPath: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const cmd = readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.includes('containerd-shim') && cmd.includes(socketPath)) out.push(Number(n));
    } catch {
      /* exited */
    }
  }
  return out;
}
