// `navctl version`: this client's version and the version the masters report (etcd's
// Maintenance.Status, which every master serves).

import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { EtcdRawClient } from '../../pkg/etcdserver/raw_client.js';
import { out, report } from './session.js';

const STATUS_TIMEOUT_MS = 3000;

export function clientVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return `v${pkg.version ?? '0.0.0'}`;
}

async function serverVersion(endpoints: readonly string[]): Promise<string> {
  let last: unknown;
  for (const e of endpoints) {
    const c = new EtcdRawClient(e);
    try {
      const s = await c.call('Maintenance', 'Status', {}, STATUS_TIMEOUT_MS);
      return `etcd-compatible ${String(s.version)} (${e})`;
    } catch (err) {
      last = err;
    } finally {
      c.close();
    }
  }
  throw new Error(`Unable to connect to the server: no master answered (${endpoints.join(', ')}): ${(last as Error)?.message ?? ''}`);
}

export function registerVersion(program: Command, endpoints: () => string[]): void {
  program
    .command('version')
    .description("print navctl's version and the masters'")
    .option('--client', 'only the client version (no server needed)')
    .action(async (flags: { client?: boolean }) => {
      out(`Client Version: ${clientVersion()}\n`);
      if (flags.client) return;
      try {
        out(`Server Version: ${await serverVersion(endpoints())}\n`);
      } catch (e) {
        report(e);
      }
    });
}
