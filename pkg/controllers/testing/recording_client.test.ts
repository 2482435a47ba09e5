import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isApiError } from '../../apiserver/api_error.js';
import { pod, testServer } from '../../apiserver/test_util.js';
import { RecordingClient } from './recording_client.js';

test('RecordingClient writes through the API server and records the writes in order', async () => {
  const { server } = await testServer();
  const c = new RecordingClient(server);
  const created = await c.create(pod('web-1', { labels: { app: 'web' } }));
  assert.ok(created.metadata?.resourceVersion);
  await c.patch('pods', 'default', 'web-1', 'merge', { metadata: { labels: { tier: 'front' } } });
  const listed = await c.list('pods', { namespace: 'default', labelSelector: 'tier=front' });
  assert.deepEqual(listed.items.map((p) => p.metadata?.name), ['web-1']);
  await c.delete('pods', 'default', 'web-1', { gracePeriodSeconds: 0 });
  assert.deepEqual(c.takeSummary(), ['create pods default/web-1', 'patch pods default/web-1', 'delete pods default/web-1']);
  assert.deepEqual(c.actions, []);
});

test('RecordingClient surfaces the API semantics a controller meets: a stale update is a Conflict', async () => {
  const { server } = await testServer();
  const c = new RecordingClient(server);
  const first = await c.create(pod('web-1'));
  const relabel = (value: string) => {
    const o = structuredClone(first);
    o.metadata!.labels = { a: value };
    return o;
  };
  await c.update(relabel('b'));
  await assert.rejects(c.update(relabel('c')), (e) => isApiError(e) && e.code === 'Conflict');
  assert.equal(c.takeSummary().length, 3);
});
