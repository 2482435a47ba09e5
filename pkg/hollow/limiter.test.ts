import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settle } from '../client/testing/settle.js';
import { Limiter } from './limiter.js';

describe('Limiter', () => {
  it('runs at most limit calls at once, the rest in order as slots free', async () => {
    const l = new Limiter(2);
    const release: Array<() => void> = [];
    const started: number[] = [];
    const calls = [0, 1, 2, 3].map((i) => l.run(() => new Promise<number>((r) => { started.push(i); release[i] = () => r(i); })));
    await settle();
    assert.deepEqual(started, [0, 1]);
    assert.equal(l.queued, 2);
    release[1]();
    await settle();
    assert.deepEqual(started, [0, 1, 2]);
    release[0]();
    release[2]();
    await settle();
    release[3]();
    assert.deepEqual(await Promise.all(calls), [0, 1, 2, 3]);
    assert.equal(l.inflight, 0);
  });

  it('frees the slot of a call that fails', async () => {
    const l = new Limiter(1);
    await assert.rejects(l.run(() => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await l.run(async () => 'ok'), 'ok');
  });
});
