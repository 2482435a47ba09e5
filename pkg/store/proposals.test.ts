import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProposalDroppedError } from '../../raft/core/errors.js';
import type { Entry } from '../../raft/core/types.js';
import { RaftTimeoutError } from '../../raft/node/errors.js';
import { decodeCommand, encodeCommand, type CommandOrigin, type StoreCommand } from './command.js';
import { Store } from './store.js';
import { StoreStateMachine, unwrapResult, type StoreResult } from './state_machine.js';
import { bytes, text } from './test_util.js';

let index = 0;
const put = (key: string, value: string, origin?: CommandOrigin): StoreCommand => ({ type: 'txn', nowMs: 1000 + index, txn: { success: [{ type: 'put', key, value: bytes(value) }] }, ...(origin ? { origin } : {}) });
const entry = (term: number, c?: StoreCommand): Entry => ({ term, index: ++index, type: 'normal', data: c ? encodeCommand(c) : new Uint8Array(0) });

/** A follower's store: one member's state machine and its waiters. */
function member(id: number) {
  const store = new Store();
  const sm = new StoreStateMachine(store);
  const apply = (e: Entry): void => {
    if (e.data.byteLength === 0) sm.skipped(e);
    else sm.apply(e);
  };
  return { id, store, sm, apply, wait: (term: number) => store.proposals.wait(id, term) };
}

const settled = async <T>(p: Promise<T>): Promise<T | Error> => p.catch((e: Error) => e);

test('an origin survives the command encoding, and commands without one decode as before', () => {
  const origin = { member: 3, epoch: 2 ** 31 - 1, seq: 2 ** 40, term: 17 };
  const full = { compare: [], success: [{ type: 'put', key: 'k', value: bytes('v'), lease: 0, prevKv: false, ignoreValue: false, ignoreLease: false }], failure: [] };
  for (const c of [put('k', 'v', origin), put('k', 'v')]) assert.deepEqual(decodeCommand(encodeCommand(c)), { ...c, txn: full });
  const ka: StoreCommand = { type: 'leaseKeepAlive', nowMs: 5, id: 9, origin };
  assert.deepEqual(decodeCommand(encodeCommand(ka)), ka);
});

test('a follower proposal resolves with its own result when its entry applies, not with another member\'s', async () => {
  const f = member(2);
  const mine = f.wait(5);
  const other = member(3).wait(5);
  // The other member's origin may carry the same sequence number: it is not ours.
  f.apply(entry(5, put('a', 'theirs', other.origin)));
  f.apply(entry(5, put('a', 'mine', mine.origin)));
  const r = unwrapResult((await mine.result) as StoreResult, 'txn');
  assert.equal(r.header.revision, 3);
  assert.equal(text(f.store.range({ key: 'a' }).kvs[0].value), 'mine');
  assert.equal(f.store.proposals.size, 0);
});

test('a proposal appended in a later term is not applied on any member, and its proposer learns it may retry', async () => {
  const proposer = member(2);
  const other = member(1);
  const w = proposer.wait(4);
  // Re-forwarded by a deposed leader, the entry lands in term 5.
  const e = entry(5, put('x', 'late', w.origin));
  proposer.apply(e);
  other.apply(e);
  const err = await settled(w.result);
  assert.ok(err instanceof ProposalDroppedError, String(err));
  for (const m of [proposer, other]) {
    assert.equal(m.store.revision, 1);
    assert.equal(m.store.range({ key: 'x' }).kvs.length, 0);
  }
});

test('once a newer term applies, older proposals still waiting are certainly lost; newer ones keep waiting', async () => {
  const f = member(2);
  const old = f.wait(7);
  const current = f.wait(8);
  f.apply(entry(7, put('k', 'v')));
  assert.equal(f.store.proposals.size, 2);
  // The new leader's empty entry is not applied, only seen.
  f.apply(entry(8));
  assert.ok((await settled(old.result)) instanceof ProposalDroppedError);
  assert.equal(f.store.proposals.size, 1);
  f.apply(entry(8, put('k', 'w', current.origin)));
  assert.equal(unwrapResult((await current.result) as StoreResult, 'txn').header.revision, 3);
});

test('abandoning a proposal rejects it with the given error; a snapshot restore leaves the outcome unknown', async () => {
  const f = member(2);
  const a = f.wait(1);
  const timeout = new RaftTimeoutError('gave up');
  f.store.proposals.abandon(a.origin, timeout);
  assert.equal(await settled(a.result), timeout);
  // Applying it afterwards changes the store but resolves nothing.
  f.apply(entry(1, put('k', 'v', a.origin)));
  assert.equal(f.store.revision, 2);
  const b = f.wait(1);
  const leader = member(1);
  leader.apply(entry(1, put('k', 'v2', b.origin)));
  await f.sm.restore(await leader.sm.snapshot());
  assert.ok((await settled(b.result)) instanceof RaftTimeoutError);
  assert.equal(f.store.proposals.size, 0);
});

test('a forwarded proposal dropped on its way to the leader is known lost as soon as a later one of the same term applies', async () => {
  const f = member(2);
  const other = member(3);
  const dropped = f.wait(6);
  const next = f.wait(6);
  const last = f.wait(6);
  // Another member's entries say nothing about ours.
  f.apply(entry(6, put('o', '1', other.wait(6).origin)));
  assert.equal(f.store.proposals.size, 3);
  // `dropped` never reached the leader (a full transport queue, say); `next` did, in the same term.
  f.apply(entry(6, put('k', 'next', next.origin)));
  const err = await settled(dropped.result);
  assert.ok(err instanceof ProposalDroppedError, `expected a safe-to-retry error at once, not a timeout: ${String(err)}`);
  assert.equal(unwrapResult((await next.result) as StoreResult, 'txn').header.revision, 3);
  // A later proposal keeps waiting: it may still be on its way.
  assert.equal(f.store.proposals.size, 1);
  f.apply(entry(6, put('k', 'last', last.origin)));
  assert.equal(unwrapResult((await last.result) as StoreResult, 'txn').header.revision, 4);
  assert.equal(f.store.range({ key: 'k' }).kvs[0].version, 2, 'the dropped write was never applied');
});

test('an older proposal abandoned by its proposer does not make a later one count as dropped', async () => {
  const f = member(2);
  const a = f.wait(3);
  const b = f.wait(3);
  f.store.proposals.abandon(a.origin, new RaftTimeoutError('gave up'));
  await settled(a.result);
  // a applies after all (it was only slow); b is still on its way and must keep waiting.
  f.apply(entry(3, put('k', 'a', a.origin)));
  assert.equal(f.store.proposals.size, 1);
  f.apply(entry(3, put('k', 'b', b.origin)));
  assert.equal(unwrapResult((await b.result) as StoreResult, 'txn').header.revision, 3);
});
