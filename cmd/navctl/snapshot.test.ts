// navctl snapshot save|status|restore through the commander wiring the entry
// uses, against one in-process master.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { TestMasters } from '../../pkg/etcdserver/test_util.js';
import type { Output } from './cluster.js';
import { registerSnapshotCommands } from './snapshot.js';

async function run(endpoints: string[], args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Output = { out: (t) => (out += t), err: (t) => (err += t) };
  const program = new Command('navctl').exitOverride();
  registerSnapshotCommands(program, () => endpoints, io);
  await program.parseAsync(['node', 'navctl', ...args]);
  return { out, err };
}

test('navctl snapshot save, status and restore', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navctl-snapshot-'));
  const m = await TestMasters.start(1);
  try {
    const leader = await m.leader();
    const c = m.client(leader.id);
    for (let i = 0; i < 50; i++) await c.call('KV', 'Put', { key: Buffer.from(`k${i}`), value: Buffer.from('v') });
    const rev = leader.store.revision;
    const file = join(dir, 'b.snap');
    const saved = await run([leader.clientAddress], ['snapshot', 'save', file]);
    assert.match(saved.out, new RegExp(`^Snapshot saved to .*b\\.snap: revision ${rev}, 50 keys, [\\d.]+ KiB, from member 1 at ${leader.clientAddress} in [\\d.]+ s\\n$`));
    assert.equal(saved.err, '');

    const st = await run([], ['snapshot', 'status', file]);
    assert.match(st.out.split('\n')[1], new RegExp(`^[0-9a-f]{16}\\s+${rev}\\s+0\\s+50\\s+`));

    const restored = await run([], ['snapshot', 'restore', file, '--data-dir', join(dir, 'm1'), '--id', '1', '--peers', '1=127.0.0.1:7001,2=127.0.0.1:7002']);
    assert.match(restored.out, new RegExp(`^Restored revision ${rev} \\(50 keys\\) into .*m1 as member 1 of a new cluster of 2\\.`));
    assert.ok(existsSync(join(dir, 'm1', 'raft')));

    await assert.rejects(run([], ['snapshot', 'restore', file, '--data-dir', join(dir, 'm1'), '--id', '1', '--peers', '1=127.0.0.1:7001']), /the directory is not empty/);
    await assert.rejects(run([], ['snapshot', 'restore', file, '--data-dir', join(dir, 'm2'), '--id', '1', '--peers', '1=nowhere']), /--peers\[0\]: "1=nowhere" is not in the form id=host:port/);
    await assert.rejects(run([], ['snapshot', 'status', join(dir, 'missing.snap')]), /Cannot read snapshot ".*missing\.snap": ENOENT/);
    await assert.rejects(run([leader.clientAddress], ['snapshot', 'save', join(dir, 'no', 'such', 'dir.snap')]), /Cannot write snapshot to ".*dir\.snap": ENOENT/);
    await assert.rejects(run(['127.0.0.1:1'], ['snapshot', 'save', join(dir, 'x.snap')]), /No master answered: "127\.0\.0\.1:1"/);
    await assert.rejects(run([], ['snapshot', 'save', join(dir, 'x.snap'), '--endpoint', '127.0.0.1:1']), /Snapshot stream from 127\.0\.0\.1:1 failed before any data: connect ECONNREFUSED 127\.0\.0\.1:1$/);
    assert.equal(existsSync(join(dir, 'x.snap.part')), false);
  } finally {
    await m.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
