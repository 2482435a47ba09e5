// Runs one CNI plugin binary as the CNI specification says: the operation and its parameters in
// CNI_* environment variables, the network configuration as JSON on stdin, a result (or an error
// object with code/msg/details) as JSON on stdout, success told by the exit code.

import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

export interface PluginRun {
  /** The plugin's type: the binary's name, looked up in binDirs. */
  type: string;
  command: CniCommand;
  /** CNI_PATH, in order. */
  binDirs: string[];
  /** The network configuration for this plugin (stdin). */
  config: Record<string, unknown>;
  containerId?: string;
  netnsPath?: string;
  ifName?: string;
  /** CNI_ARGS as key=value pairs (joined with ";"). */
  args?: Record<string, string>;
  timeoutMs: number;
  /** What the run is for, prefixed to errors ("pod default/web (uid 1234)"). */
  subject: string;
}

/** Bounds on what a plugin may print: a result is a few KiB. */
const MAX_STDOUT_BYTES = 1 << 20;
const MAX_STDERR_BYTES = 64 << 10;

/** A plugin that failed: its name, the operation, and the plugin's own code, msg and details. */
export class CniPluginError extends Error {
  override readonly name = 'CniPluginError';
  constructor(
    message: string,
    readonly plugin: string,
    readonly command: CniCommand,
    /** The CNI error code (1-99 spec-defined, 100+ plugin-defined); undefined when the plugin gave none. */
    readonly code: number | undefined,
    readonly msg: string,
    readonly details: string | undefined,
  ) {
    super(message);
  }
}

/** The first binDirs entry holding an executable named `type`; undefined when none does. */
export async function findPlugin(type: string, binDirs: string[]): Promise<string | undefined> {
  for (const dir of binDirs) {
    const path = join(dir, type);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Runs the plugin and returns its parsed stdout (undefined for an empty success, as DEL may print nothing). */
export async function runPlugin(r: PluginRun): Promise<Record<string, unknown> | undefined> {
  const fail = (code: number | undefined, msg: string, details?: string): CniPluginError =>
    new CniPluginError(`${r.subject}: CNI plugin "${r.type}" ${r.command} failed${code !== undefined ? ` (code ${code})` : ''}: ${msg}${details ? `: ${details}` : ''}`, r.type, r.command, code, msg, details);
  const path = await findPlugin(r.type, r.binDirs);
  if (path === undefined) throw fail(undefined, `no executable "${r.type}" in CNI_PATH ${r.binDirs.join(':')}`);

  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: r.command, CNI_PATH: r.binDirs.join(':') };
  if (r.command !== 'VERSION') {
    env.CNI_CONTAINERID = r.containerId ?? '';
    env.CNI_NETNS = r.netnsPath ?? '';
    env.CNI_IFNAME = r.ifName ?? '';
    // IgnoreUnknown: plugins that do not know the K8S_* keys must not refuse them.
    env.CNI_ARGS = Object.entries({ IgnoreUnknown: '1', ...r.args })
      .map(([k, v]) => `${k}=${v}`)
      .join(';');
  }

  const out = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; spawnError?: Error }>((resolve) => {
    const child = spawn(path, [], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: r.timeoutMs, killSignal: 'SIGKILL' });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrBytes = 0;
    let spawnError: Error | undefined;
    child.stdout.on('data', (b: Buffer) => {
      if (stdoutBytes < MAX_STDOUT_BYTES) stdout.push(b);
      stdoutBytes += b.length;
    });
    child.stderr.on('data', (b: Buffer) => {
      if (stderrBytes < MAX_STDERR_BYTES) stderr.push(b);
      stderrBytes += b.length;
    });
    // A plugin that exits without reading its stdin gives EPIPE here; its exit status tells the story.
    child.stdin.on('error', () => {});
    child.on('error', (e) => (spawnError = e));
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8').trim(), spawnError }));
    child.stdin.end(JSON.stringify(r.config));
  });

  if (out.spawnError) throw fail(undefined, `cannot run ${path}: ${out.spawnError.message}`);
  if (out.signal !== null) {
    const timedOut = out.signal === 'SIGKILL';
    throw fail(undefined, timedOut ? `did not finish within ${r.timeoutMs} ms and was killed` : `killed by ${out.signal}`, out.stderr || undefined);
  }
  let parsed: Record<string, unknown> | undefined;
  const text = out.stdout.trim();
  if (text !== '') {
    try {
      const v: unknown = JSON.parse(text);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
      parsed = v as Record<string, unknown>;
    } catch (e) {
      if (out.code === 0) throw fail(undefined, `printed something that is not a JSON object (${(e as Error).message}): ${clip(text)}`);
    }
  }
  if (out.code !== 0) {
    if (parsed !== undefined && (parsed.code !== undefined || parsed.msg !== undefined)) {
      const code = typeof parsed.code === 'number' ? parsed.code : undefined;
      const details = typeof parsed.details === 'string' && parsed.details !== '' ? parsed.details : undefined;
      throw fail(code, String(parsed.msg ?? 'no message'), details);
    }
    throw fail(undefined, `exited with status ${out.code}`, clip(out.stderr || text) || undefined);
  }
  if (parsed !== undefined && parsed.code !== undefined && parsed.msg !== undefined) {
    // An error object printed with exit status 0 is still an error.
    throw fail(typeof parsed.code === 'number' ? parsed.code : undefined, String(parsed.msg));
  }
  return parsed;
}

function clip(s: string): string {
  return s.length > 500 ? `${s.slice(0, 500)}…` : s;
}
