// Child processes of a local cluster: started with their output in a log
// file, stopped by signal and awaited. Shared by the KV and master launchers.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs node with args from the repository root, stdout and stderr appended to logFile. Detached ones outlive us. */
export function spawnLogged(args: string[], logFile: string, detached: boolean): ChildProcess {
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', out, out], detached });
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
