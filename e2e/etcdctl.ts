// Unmodified etcdctl (Debian's etcd-client, API v3) against masters, for the e2e tests.

import { spawn } from 'node:child_process';

export const ETCDCTL_ENV = { ...process.env, ETCDCTL_API: '3' };

/** Runs etcdctl on `endpoints` (comma-separated) with `input` on stdin; resolves with its stdout, rejects when it exits non-zero. */
export function etcdctl(endpoints: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('etcdctl', [`--endpoints=${endpoints}`, '--command-timeout=8s', '--dial-timeout=3s', ...args], { env: ETCDCTL_ENV });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`etcdctl ${args.join(' ')} exited ${code}: ${err.trim() || out.trim()}`))));
    p.stdin.end(input ?? '');
  });
}
