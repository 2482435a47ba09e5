// Unmodified etcdctl (Debian's etcd-client, API v3) against masters, for the e2e tests.

import { runCommand } from './command.js';

export const ETCDCTL_ENV = { ...process.env, ETCDCTL_API: '3' };

/** Runs etcdctl on `endpoints` (comma-separated) with `input` on stdin; resolves with its stdout, rejects when it exits non-zero. */
export function etcdctl(endpoints: string, args: string[], input?: string): Promise<string> {
  const argv = ['etcdctl', `--endpoints=${endpoints}`, '--command-timeout=8s', '--dial-timeout=3s', ...args];
  return runCommand('etcdctl', argv, args, { env: ETCDCTL_ENV, input: input ?? '' });
}
