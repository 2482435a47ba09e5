// navctl cluster members|status|transfer-leader against three in-process
// masters, through the same commander wiring the entry uses.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { TestMasters, until } from '../../pkg/etcdserver/test_util.js';
import { registerClusterCommands, type Output } from './cluster.js';

async function run(endpoints: string[], args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Output = { out: (t) => (out += t), err: (t) => (err += t) };
  const program = new Command('navctl').exitOverride();
  registerClusterCommands(program, () => endpoints, io);
  await program.parseAsync(['node', 'navctl', ...args]);
  return { out, err };
}

test('navctl cluster members, status and transfer-leader', { timeout: 60_000 }, async () => {
  const m = await TestMasters.start(3, {});
  try {
    const leader = await m.leader();
    const eps = [...m.members.values()].map((x) => x.clientAddress);

    const members = await run(eps, ['cluster', 'members']);
    const lines = members.out.trim().split('\n');
    assert.match(lines[0], /^ID\s+NAME\s+PEER ADDRESS\s+CLIENT ADDRESS\s+LEADER\s+REACHABLE$/);
    assert.equal(lines.length, 4);
    for (const p of m.peers) {
      const line = lines.find((l) => l.startsWith(`${p.id} `))!;
      assert.ok(line.includes(p.address), line);
      assert.ok(line.includes(m.members.get(p.id)!.clientAddress), line);
      assert.match(line, p.id === leader.id ? /\syes\s+yes$/ : /\sno\s+yes$/);
    }

    const json = JSON.parse((await run(eps, ['cluster', 'members', '-o', 'json'])).out) as Array<{ id: number; isLeader: boolean; reachable: boolean }>;
    assert.deepEqual(json.map((x) => [x.id, x.isLeader, x.reachable]), m.peers.map((p) => [p.id, p.id === leader.id, true]));

    const status = await run(eps, ['cluster', 'status']);
    const rows = status.out.trim().split('\n');
    assert.match(rows[0], /^ID\s+NAME\s+ROLE\s+TERM\s+LEADER\s+COMMIT\s+APPLIED\s+REVISION\s+DB SIZE\s+QUOTA\s+ERRORS$/);
    assert.match(rows.find((l) => l.startsWith(`${leader.id} `))!, new RegExp(`^${leader.id}\\s+member-${leader.id}\\s+leader\\s+\\d+\\s+${leader.id}\\s+\\d+\\s+\\d+\\s+1\\s+.*2\\.0 GiB \\(0\\.0% used\\)$`));

    const target = m.peers.find((p) => p.id !== leader.id)!.id;
    const moved = await run(eps, ['cluster', 'transfer-leader', String(target)]);
    assert.match(moved.out, new RegExp(`^Leadership moved from member ${leader.id} \\(member-${leader.id}\\) to member ${target} \\(member-${target}\\) at term \\d+\\n$`));
    assert.equal(m.members.get(target)!.node.isLeader(), true);
    await until('every member sees the new leader', () => [...m.members.values()].every((x) => x.node.leaderId() === target));
    assert.match((await run(eps, ['cluster', 'transfer-leader', String(target)])).out, new RegExp(`^Member ${target} \\(member-${target}\\) already leads`));

    await assert.rejects(run(eps, ['cluster', 'transfer-leader', '7']), /<id>: 7 is not a member; members are 1, 2, 3/);
    await assert.rejects(run(eps, ['cluster', 'transfer-leader', 'two']), /<id>: "two" is not a member id \(a positive integer\)/);
    await assert.rejects(run(eps, ['cluster', 'status', '-o', 'yaml']), /--output: "yaml" is not supported; expected "table" or "json"/);

    // One member down: still listed, shown unreachable; the rest answer through the others.
    const down = [...m.members.values()].find((x) => x.id !== target)!;
    await down.stop({ transferLeadership: false });
    m.members.delete(down.id);
    const partial = await run(eps, ['cluster', 'members']);
    assert.match(partial.out.split('\n').find((l) => l.startsWith(`${down.id} `))!, /\sno\s+no \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/);
  } finally {
    await m.close();
  }
});

test('navctl cluster members names the endpoints when no master answers', async () => {
  await assert.rejects(run(['127.0.0.1:1'], ['cluster', 'members']), /No master answered: "127\.0\.0\.1:1": /);
});
