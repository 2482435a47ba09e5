import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../../raft/core/random.js';
import { decodeObject, DecodeError, encodeObject } from '../api/convert/object.js';
import type { KubeObject } from '../api/registry.js';
import { API_ERROR_CODES, ApiError, ERROR_CODES, toApiError } from './api_error.js';
import { deployment, obj, pod, testServer } from './test_util.js';

describe('ApiError', () => {
  it('maps every code to distinct gRPC codes and a Kubernetes reason', () => {
    assert.deepEqual(API_ERROR_CODES, ['NotFound', 'AlreadyExists', 'Conflict', 'Invalid', 'Forbidden', 'Unauthorized', 'TooLarge', 'Unavailable', 'Expired', 'TooManyRequests', 'Internal']);
    const grpc = API_ERROR_CODES.map((c) => ERROR_CODES[c].grpc);
    assert.equal(new Set(grpc).size, grpc.length);
    assert.equal(new ApiError('Expired', 'x').httpStatus, 410);
  });

  it('wraps anything thrown as Internal, keeping the cause', () => {
    const cause = new TypeError('boom');
    const e = toApiError(cause);
    assert.equal(e.code, 'Internal');
    assert.equal(e.message, 'Internal error occurred: boom');
    assert.equal(e.cause, cause);
    const same = new ApiError('NotFound', 'x');
    assert.equal(toApiError(same), same);
  });
});

const int = (r: SeededRandom, lo: number, hi: number): number => lo + r.intn(hi - lo + 1);

// Builds a random mutation of a valid request: wrong types, missing fields, garbage values.
function garbage(r: SeededRandom, depth = 0): unknown {
  const pick = int(r, 0, 9);
  switch (pick) {
    case 0:
      return undefined;
    case 1:
      return null;
    case 2:
      return int(r, -5, 5) * 1e9;
    case 3:
      return ['', 'x', '-', '../..', 'a/b', '\u0000', 'ü', 'A'.repeat(300)][int(r, 0, 7)];
    case 4:
      return depth > 2 ? {} : { a: garbage(r, depth + 1), metadata: garbage(r, depth + 1) };
    case 5:
      return depth > 2 ? [] : [garbage(r, depth + 1)];
    case 6:
      return true;
    case 7:
      return NaN;
    default:
      return 'web';
  }
}

function mutate(r: SeededRandom, value: unknown, depth = 0): unknown {
  if (int(r, 0, 5) === 0) return garbage(r);
  if (Array.isArray(value)) return value.map((v) => mutate(r, v, depth + 1));
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = depth > 6 ? v : mutate(r, v, depth + 1);
    if (int(r, 0, 10) === 0) out[`x${int(r, 0, 9)}`] = garbage(r);
    return out;
  }
  return value;
}

describe('bad requests', () => {
  it('only ever fail with ApiError and leave the stored data intact', async () => {
    const { server, store } = await testServer();
    const keep = await server.create({ object: pod('keep') });
    await server.create({ object: deployment('web') });
    const r = new SeededRandom(42);
    const verbs: Array<(x: any) => Promise<unknown>> = [
      (x) => server.create(x),
      (x) => server.get(x),
      (x) => server.list(x),
      (x) => server.update(x),
      (x) => server.patch(x),
      (x) => server.delete(x),
      async (x) => {
        const w = server.watch(x);
        w.close();
      },
    ];
    const templates = [
      { object: pod('a') },
      { resource: 'pods', namespace: 'default', name: 'a' },
      { resource: 'pods', labelSelector: 'app=web', fieldSelector: 'spec.nodeName=x', limit: 2, continue: 'abc' },
      { object: deployment('web') },
      { resource: 'deployments', namespace: 'default', name: 'web', type: 'json', patch: [{ op: 'replace', path: '/spec/replicas', value: 2 }] },
      { resource: 'deployments', namespace: 'default', name: 'web', type: 'strategic', patch: { spec: { template: { spec: { containers: [{ name: 'web', image: 'x' }] } } } } },
      { resource: 'pods', namespace: 'default', name: 'a', gracePeriodSeconds: 3, preconditions: { uid: 'u' } },
      // An eviction of a pod that does not exist ('keep' must stay as it is).
      { resource: 'pods', namespace: 'default', name: 'gone', subresource: 'eviction', object: obj({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'gone', namespace: 'default' }, deleteOptions: { gracePeriodSeconds: 0, dryRun: ['All'], preconditions: { uid: 'u' } } }) },
    ];
    const runs = 5000;
    const codes = new Map<string, number>();
    for (let i = 0; i < runs; i++) {
      const t = int(r, 0, templates.length - 1);
      const template = templates[t] as Record<string, unknown>;
      // Objects reach the core decoded (adapters decode with pkg/api, which checks every field): mutate their JSON.
      let req = mutate(r, { ...template, object: template.object && encodeObject(template.object as KubeObject) }) as Record<string, unknown>;
      if (template.object && req && typeof req === 'object') {
        try {
          req = { ...req, object: decodeObject(req.object).object };
        } catch (err) {
          assert.ok(err instanceof DecodeError, String(err));
          codes.set('Invalid', (codes.get('Invalid') ?? 0) + 1);
          continue;
        }
      }
      const verb = verbs[t === 5 ? 4 : t === 6 ? 5 : t === 7 ? 0 : int(r, 0, 6) === 0 ? int(r, 0, verbs.length - 1) : t];
      try {
        await verb(req);
      } catch (err) {
        assert.ok(err instanceof ApiError, `request ${i} ${JSON.stringify(req)} threw ${String((err as Error)?.stack ?? err)}`);
        assert.notEqual(err.code, 'Internal', `request ${i} ${JSON.stringify(req)}: ${err.message}`);
        codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
      }
    }
    assert.ok((codes.get('Invalid') ?? 0) > 100, JSON.stringify([...codes]));
    const still = (await server.get({ resource: 'pods', namespace: 'default', name: 'keep' })) as KubeObject;
    assert.deepEqual(still, keep);
    store.checkSize();
  });
});
