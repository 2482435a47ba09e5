// The batching binder: the binds of one turn travel in one BindBatch call, each answered on its own.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../apiserver/api_error.js';
import { BatchingBinder, clientBinder, type BatchBinding, type BatchBindClient } from './binder.js';

/** A client that records its calls and refuses the pods named in `refuse`. */
class RecordingClient implements BatchBindClient {
  readonly batches: string[][] = [];
  readonly singles: string[] = [];
  unimplemented = false;

  constructor(private readonly refuse: Set<string> = new Set()) {}

  async bindBatch(bindings: readonly BatchBinding[]): Promise<Array<Error | undefined>> {
    if (this.unimplemented) throw new ApiError('Internal', 'unknown method BindBatch', { cause: { code: 12 } });
    this.batches.push(bindings.map((b) => `${b.name}->${b.nodeName}`));
    return bindings.map((b) => (this.refuse.has(b.name) ? new ApiError('Conflict', `pod ${b.name} is already assigned`) : undefined));
  }

  async bind(namespace: string, name: string, nodeName: string): Promise<void> {
    this.singles.push(`${name}->${nodeName}`);
    if (this.refuse.has(name)) throw new ApiError('Conflict', `pod ${name} is already assigned`);
  }
}

const outcome = (p: Promise<void>) => p.then(() => 'bound', (e: ApiError) => e.code);

describe('BatchingBinder', () => {
  it('sends the binds of one turn as one call and answers each on its own', async () => {
    const client = new RecordingClient(new Set(['b']));
    const binder = new BatchingBinder(client);
    const results = await Promise.all(['a', 'b', 'c'].map((n) => outcome(binder.bind('default', n, `node-${n}`, {}))));
    assert.deepEqual(results, ['bound', 'Conflict', 'bound']);
    assert.deepEqual(client.batches, [['a->node-a', 'b->node-b', 'c->node-c']]);
    // A later turn is a new call.
    await binder.bind('default', 'd', 'node-d', {});
    assert.deepEqual(client.batches.length, 2);
  });

  it('splits a turn into calls of at most maxBatch bindings', async () => {
    const client = new RecordingClient();
    const binder = new BatchingBinder(client, 2);
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => binder.bind('default', n, 'n1', {})));
    assert.deepEqual(client.batches.map((b) => b.length), [2, 2, 1]);
  });

  it('falls back to single binds for good when the master does not know BindBatch', async () => {
    const client = new RecordingClient(new Set(['b']));
    client.unimplemented = true;
    const binder = new BatchingBinder(client);
    const results = await Promise.all(['a', 'b'].map((n) => outcome(binder.bind('default', n, 'n1', {}))));
    assert.deepEqual(results, ['bound', 'Conflict']);
    await binder.bind('default', 'c', 'n1', {});
    assert.deepEqual(client.singles, ['a->n1', 'b->n1', 'c->n1']);
  });

  it('rejects every bind of a call that got no answer', async () => {
    const client = new RecordingClient();
    client.bindBatch = async () => {
      throw new ApiError('Unavailable', 'Master 127.0.0.1:1 did not answer in time');
    };
    const binder = new BatchingBinder(client);
    const results = await Promise.all(['a', 'b'].map((n) => outcome(binder.bind('default', n, 'n1', {}))));
    assert.deepEqual(results, ['Unavailable', 'Unavailable']);
  });

  it('clientBinder batches over a client with bindBatch, and binds one by one over one without', async () => {
    assert.ok(clientBinder(new RecordingClient()) instanceof BatchingBinder);
    const plain = { calls: [] as string[], async bind(_ns: string, name: string) { this.calls.push(name); } };
    const b = clientBinder(plain);
    assert.ok(!(b instanceof BatchingBinder));
    await b.bind('default', 'x', 'n1', {});
    assert.deepEqual(plain.calls, ['x']);
  });
});
