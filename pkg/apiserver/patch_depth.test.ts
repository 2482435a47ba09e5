import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isApiError } from './api_error.js';
import { MAX_PATCH_DEPTH } from './patch.js';
import { pod, testServer } from './test_util.js';

const nested = (levels: number, open: string, close: string): string => open.repeat(levels) + '1' + close.repeat(levels);

test('a patch nested deeper than the limit is refused as Invalid, for every patch type, and changes nothing', async () => {
  const { server } = await testServer();
  const before = await server.create({ object: pod('web') });
  const deepObject = nested(100_000, '{"a":', '}');
  const patches: Array<['merge' | 'json' | 'strategic', string]> = [
    ['merge', `{"metadata":{"annotations":${deepObject}}}`],
    ['merge', `{"spec":${nested(100_000, '[', ']')}}`],
    ['strategic', `{"spec":{"containers":[{"name":"app","env":${deepObject}}]}}`],
    ['json', `[{"op":"add","path":"/metadata/annotations/x","value":${deepObject}}]`],
  ];
  for (const [type, patch] of patches) {
    await assert.rejects(
      server.patch({ resource: 'pods', namespace: 'default', name: 'web', type, patch }),
      (e: unknown) => isApiError(e, 'Invalid') && e.message === `Cannot parse patch: it nests deeper than ${MAX_PATCH_DEPTH} levels`,
      type,
    );
  }
  assert.deepEqual(await server.get({ resource: 'pods', namespace: 'default', name: 'web' }), before);
});

test('a patch at the depth limit is applied or refused by its content, never by a stack overflow', async () => {
  const { server } = await testServer();
  await server.create({ object: pod('web') });
  // MAX_PATCH_DEPTH levels in all: two for metadata.annotations, the rest below.
  const patch = `{"metadata":{"annotations":${nested(MAX_PATCH_DEPTH - 3, '{"a":', '}')}}}`;
  await assert.rejects(server.patch({ resource: 'pods', namespace: 'default', name: 'web', type: 'merge', patch }), (e: unknown) => isApiError(e, 'Invalid') && /metadata\.annotations/.test(e.message));
});
