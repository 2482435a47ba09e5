import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../../raft/transport/free_port.js';
import { ensureLocalRegistry, registryAnswers, startLocalRegistry, stopLocalRegistry } from './local_registry.js';

async function withTmp(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'navarch-localreg-'));
  try {
    await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Running (not exited): a zombie this test process has not reaped yet has exited too. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('local registry', () => {
  it('ensureLocalRegistry starts one detached when none answers, reuses it next time, and stopLocalRegistry stops it by its PID', async () => {
    await withTmp(async (dir) => {
      const address = `127.0.0.1:${await freePort()}`;
      const dataDir = join(dir, 'reg');
      const first = await ensureLocalRegistry({ dataDir, address });
      try {
        assert.equal(first.reused, false);
        assert.ok(first.pid && alive(first.pid));
        assert.equal(await readFile(join(dataDir, 'registry.pid'), 'utf8'), `${first.pid}\n`);
        assert.equal(await registryAnswers(address), true);
        assert.match(await readFile(join(dataDir, 'registry.yml'), 'utf8'), new RegExp(`addr: ${address.replace(/\./g, '\\.')}`));

        const second = await ensureLocalRegistry({ dataDir: join(dir, 'other'), address });
        assert.deepEqual([second.reused, second.pid], [true, undefined]);
        await second.stop();
        assert.equal(await registryAnswers(address), true, 'stopping a reused registry leaves it running');

        assert.equal(await stopLocalRegistry(dataDir), true);
        assert.equal(alive(first.pid!), false);
        assert.equal(await registryAnswers(address), false);
        assert.equal(await stopLocalRegistry(dataDir), false, 'nothing left to stop');
      } finally {
        await first.stop();
      }
    });
  });

  it('fails with the log path when the registry cannot start, and refuses non-loopback addresses', async () => {
    await withTmp(async (dir) => {
      await assert.rejects(startLocalRegistry({ dataDir: dir, address: `127.0.0.1:${await freePort()}`, binary: join(dir, 'no-such-registry') }), /Cannot start a local registry at 127\.0\.0\.1:\d+ \(log: .*registry\.log\): Cannot start .*no-such-registry \(install docker-registry\)/);
      await assert.rejects(startLocalRegistry({ dataDir: dir, address: '0.0.0.0:5000' }), /address "0\.0\.0\.0:5000" must be 127\.x\.x\.x:<port>/);
    });
  });

  it('reports a registry that exits at once with the end of its log, and refuses to start over a running one', async () => {
    await withTmp(async (dir) => {
      // Something that is not a registry holds the port: docker-registry exits with "address already in use".
      const holder = createServer((socket) => socket.destroy());
      const address = `127.0.0.1:${await freePort()}`;
      await new Promise<void>((r) => holder.listen(Number(address.split(':')[1]), '127.0.0.1', r));
      try {
        await assert.rejects(startLocalRegistry({ dataDir: join(dir, 'b'), address }), /docker-registry exited .*address already in use/);
      } finally {
        await new Promise((r) => holder.close(r));
      }
      const running = await startLocalRegistry({ dataDir: join(dir, 'a'), address: `127.0.0.1:${await freePort()}` });
      try {
        await assert.rejects(startLocalRegistry({ dataDir: join(dir, 'c'), address: running.address }), /a registry already answers there/);
      } finally {
        await running.stop();
      }
    });
  });
});
