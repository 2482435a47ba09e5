// navctl: the command-line client. For now it speaks to the Raft key-value
// service that `navarch up` starts; object commands arrive with the API server.

import { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RaftKvClient, type Endpoint } from '../pkg/raftkv/client.js';
import { parseMembers } from './members.js';

function endpoints(flags: { dir: string; endpoints?: string }): Endpoint[] {
  if (flags.endpoints) return parseMembers('--endpoints', flags.endpoints);
  const file = join(resolve(flags.dir), 'cluster.json');
  if (!existsSync(file)) throw new Error(`No cluster recorded in ${file}: start one with "make up" or pass --endpoints id=host:port,...`);
  const record = JSON.parse(readFileSync(file, 'utf8')) as { members: Array<{ id: number; kv: string }> };
  return record.members.map((m) => ({ id: m.id, address: m.kv }));
}

async function withClient<T>(flags: { dir: string; endpoints?: string }, fn: (c: RaftKvClient, eps: Endpoint[]) => Promise<T>): Promise<T> {
  const eps = endpoints(flags);
  const c = new RaftKvClient(eps);
  try {
    return await fn(c, eps);
  } finally {
    c.close();
  }
}

const program = new Command('navctl')
  .description('Navarch command-line client')
  .option('--dir <dir>', 'the directory of a local cluster started by navarch up', '.navarch')
  .option('--endpoints <list>', 'member KV endpoints: id=host:port,...');

program
  .command('put <key> <value>')
  .description('write a key through the Raft leader')
  .action((key: string, value: string) =>
    withClient(program.opts(), async (c) => {
      const index = await c.put(key, new TextEncoder().encode(value));
      process.stdout.write(`OK (index ${index})\n`);
    }),
  );

program
  .command('get <key>')
  .description('read a key (linearizable unless --serializable)')
  .option('--serializable', 'read local state without confirming leadership')
  .action((key: string, opts: { serializable?: boolean }) =>
    withClient(program.opts(), async (c) => {
      const v = await c.get(key, { serializable: opts.serializable });
      if (v === undefined) {
        process.stderr.write(`navctl: key "${key}" not found\n`);
        process.exitCode = 1;
      } else process.stdout.write(`${new TextDecoder().decode(v)}\n`);
    }),
  );

program
  .command('status')
  .description('show every member: role, term, leader, commit and applied index')
  .action(() =>
    withClient(program.opts(), async (c, eps) => {
      process.stdout.write('MEMBER  ROLE          TERM  LEADER  COMMIT  APPLIED  VOTERS\n');
      for (const e of eps) {
        try {
          const s = await c.status(e.id);
          process.stdout.write(
            `${String(s.id).padEnd(8)}${s.role.padEnd(14)}${String(s.term).padEnd(6)}${String(s.leader).padEnd(8)}${String(s.commit).padEnd(8)}${String(s.applied).padEnd(9)}${s.voters.join(',')}\n`,
          );
        } catch (err) {
          process.stdout.write(`${String(e.id).padEnd(8)}unreachable   ${(err as Error).message}\n`);
        }
      }
    }),
  );

program
  .command('transfer-leader <to>')
  .description('hand leadership to another member')
  .action((to: string) =>
    withClient(program.opts(), async (c, eps) => {
      const target = Number(to);
      if (!eps.some((e) => e.id === target)) throw new Error(`<to>: "${to}" is not a member id (${eps.map((e) => e.id).join(', ')})`);
      for (const e of eps) {
        const s = await c.status(e.id).catch(() => undefined);
        if (s && s.role === 'leader') {
          if (e.id === target) {
            process.stdout.write(`member ${target} already leads\n`);
            return;
          }
          await c.transferLeader(e.id, target);
          process.stdout.write(`leadership moved from ${e.id} to ${target}\n`);
          return;
        }
      }
      throw new Error('No member reports itself leader');
    }),
  );

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`navctl: ${e.message}\n`);
  process.exit(1);
});
