// A command line tool run to completion for the e2e tests (etcdctl, navctl): its stdout, or an
// error naming the tool, its arguments and what it printed when it exits non-zero.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../pkg/localcluster/process.js';

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to its stdin, which is then closed; absent: stdin stays open. */
  input?: string;
}

/** Runs `argv` (program first); `name` and `args` are what the error names. */
export function runCommand(name: string, argv: string[], args: string[], o: CommandOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0], argv.slice(1), { env: o.env });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${name} ${args.join(' ')} exited ${code}: ${err.trim() || out.trim()}`))));
    if (o.input !== undefined) p.stdin.end(o.input);
  });
}

export interface CommandRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `argv` to its end, whatever its exit code; stdin gets `input` (or nothing) and is closed. */
export function runToExit(argv: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0], argv.slice(1), { cwd: o.cwd, env: o.env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(o.input ?? '');
  });
}

/** This process's environment with `extra`, and no navctl settings (NAVCTL_SERVER, NAVCTL_CONFIG) inherited. */
export function envWithoutNavctlSettings(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NAVCTL_SERVER;
  delete env.NAVCTL_CONFIG;
  return env;
}

/** navctl run to completion with only the flags given. */
export function runNavctl(args: string[]): Promise<string> {
  return runCommand('navctl', [process.execPath, join(ROOT, 'bin/navctl.js'), ...args], args, { env: envWithoutNavctlSettings() });
}
