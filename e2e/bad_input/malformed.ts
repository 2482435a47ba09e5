// Object API requests that are not the protobuf message their method takes: random bytes, and
// valid requests truncated, given a field of a wire type that does not exist, or a length prefix
// far past the end. The last three never decode: Invalid naming the request message.

import { BindBatchRequest, CreateBatchRequest } from '../../gen/navarch/apiserver/v1/objects.js';
import type { SeededRandom } from '../../raft/core/random.js';
import { Code, type BadCase, type Fixture, pick, randomBytes } from './bad_case.js';
import { OBJECTS_METHODS, decodes, objectBytes, pathOf, req, type ObjectsMethod } from './objects_requests.js';
import { breakMessage, type Breakage } from './protobuf_bytes.js';

function validRequest(m: ObjectsMethod, f: Fixture): Buffer {
  const ns = f.namespace;
  switch (m) {
    case 'get':
      return req.get({ resource: 'pods', namespace: ns, name: f.pod.name });
    case 'create':
      return req.create({ object: objectBytes({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'never-made', namespace: ns }, data: { a: 'b' } }) });
    case 'update':
      return req.update({ object: objectBytes({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: f.configMap.name, namespace: ns }, data: { a: 'b' } }) });
    case 'patch':
      return req.patch({ resource: 'configmaps', namespace: ns, name: f.configMap.name, type: 'merge', patch: '{"data":{"never":"applied"}}' });
    case 'delete':
      return req.delete({ resource: 'configmaps', namespace: ns, name: f.configMap.name });
    case 'list':
      return req.list({ resource: 'pods', namespace: ns, labelSelector: 'app=debug' });
    case 'watch':
      return req.watch({ resource: 'pods', namespace: ns, resourceVersion: '0' });
    case 'bind':
      // A pod that does not exist: should such bytes ever decode, nothing changes.
      return req.bind({ namespace: ns, name: 'never-bound', targetKind: 'Node', targetName: 'node-1' });
    case 'bindBatch':
      return req.bindBatch({ bindings: [{ namespace: ns, name: 'never-bound', uid: '', targetKind: 'Node', targetName: 'node-1', dryRun: false }] });
    case 'createBatch':
      return req.createBatch({ creates: [{ resource: '', namespace: ns, object: objectBytes({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'never-made', namespace: ns }, data: { a: 'b' } }), dryRun: false, subresource: '', name: '' }] });
  }
}

const capital = (m: string): string => m[0].toUpperCase() + m.slice(1);

/** An int64 field (a list's limit, a delete's grace period) beyond 2^53: the decoder refuses it. */
function hugeInt64(r: SeededRandom, f: Fixture): BadCase {
  const big = 2 ** 53 + 2 + r.intn(2 ** 20) * 2;
  const [m, body] = pick<[ObjectsMethod, Buffer]>(r, [
    ['list', req.list({ resource: 'pods', namespace: f.namespace, limit: big })],
    ['delete', req.delete({ resource: 'pods', namespace: f.namespace, name: f.pod.name, gracePeriodSeconds: big })],
  ]);
  return { category: 'objects/malformed: int64 beyond 2^53', path: pathOf(m), body, codes: [Code.INVALID_ARGUMENT], message: `Cannot decode the request as navarch.apiserver.v1.${capital(m)}Request: Value is larger than Number.MAX_SAFE_INTEGER` };
}

export function malformedRequest(r: SeededRandom, f: Fixture): BadCase {
  const m = pick(r, OBJECTS_METHODS);
  const how = pick<Breakage | 'random' | 'int64'>(r, ['random', 'truncated', 'wire type', 'huge length', 'int64']);
  if (how === 'int64') return hugeInt64(r, f);
  const common = { path: pathOf(m), stream: m === 'watch' };
  if (how === 'random') {
    const body = randomBytes(r, 1 + r.intn(64));
    if (!decodes(m, body)) {
      return { ...common, category: 'objects/malformed: random bytes', body, codes: [Code.INVALID_ARGUMENT], message: `Cannot decode the request as navarch.apiserver.v1.${capital(m)}Request: ` };
    }
    // A batch whose garbage bindings decoded answers OK, each binding refused on its own in the response.
    if (m === 'bindBatch' && BindBatchRequest.decode(body).bindings.length > 0) {
      return { ...common, category: 'objects/malformed: random bytes that decode to bindings', body, codes: [Code.OK, Code.INVALID_ARGUMENT, Code.NOT_FOUND], message: /.*/ };
    }
    if (m === 'createBatch' && CreateBatchRequest.decode(body).creates.length > 0) {
      return { ...common, category: 'objects/malformed: random bytes that decode to creates', body, codes: [Code.OK, Code.INVALID_ARGUMENT, Code.NOT_FOUND], message: /.*/ };
    }
    // Random bytes that happen to decode carry garbage in every field: no such resource, or a bad value.
    return { ...common, category: 'objects/malformed: random bytes that decode', body, codes: [Code.INVALID_ARGUMENT, Code.NOT_FOUND], message: /\S/ };
  }
  const body = breakMessage(r, validRequest(m, f), how, (b) => decodes(m, b));
  return { ...common, category: `objects/malformed: ${how}`, body, codes: [Code.INVALID_ARGUMENT], message: `Cannot decode the request as navarch.apiserver.v1.${capital(m)}Request: ` };
}
