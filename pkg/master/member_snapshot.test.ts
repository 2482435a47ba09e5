// A master's Raft snapshot holds its object store (streamed to disk while it serves): with the log
// after it, it brings every object back after a restart.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeObject } from '../api/convert/object.js';
import type { KubeObject } from '../api/registry.js';
import { freePort } from '../localcluster/kv_cluster.js';
import { startMasterMember, type MasterMember } from './member.js';

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a master restarted after a snapshot was taken serves every object from them and the log after', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-member-snap-'));
  const peers = [{ id: 1, address: `127.0.0.1:${await freePort()}` }];
  const start = () => startMasterMember({ id: 1, dataDir: dir, peers, clientAddresses: new Map(), listenClient: '127.0.0.1:0', tickMs: 20, snapshotEntries: 40 });
  const configMap = (i: number) => decodeObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'default' }, data: { n: String(i), padding: 'x'.repeat(2000) } }).object as KubeObject;
  let member: MasterMember | undefined = await start();
  try {
    await until('a leader', () => member!.node.isLeader());
    await member.api.create({ object: decodeObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }).object });
    for (let i = 0; i < 300; i++) await member.api.create({ object: configMap(i) });
    await until('a snapshot', () => member!.node.status().stats.snapshotsTaken >= 1);
    // Written after the snapshot: they come back from the log.
    for (let i = 300; i < 310; i++) await member.api.create({ object: configMap(i) });
    await member.stop({ transferLeadership: false });
    member = undefined;

    member = await start();
    await until('a leader after the restart', () => member!.node.isLeader());
    const listed = await member.api.list({ resource: 'configmaps', namespace: 'default' });
    assert.equal(listed.items.length, 310);
    const got = await member.api.get({ resource: 'configmaps', namespace: 'default', name: 'cm-123' });
    assert.equal((got as unknown as { data: Record<string, string> }).data.n, '123');
  } finally {
    await member?.stop({ transferLeadership: false });
    rmSync(dir, { recursive: true, force: true });
  }
});
