// Resource versions and preconditions: malformed ones are Invalid; stale ones and failed delete
// preconditions are Conflict (ABORTED) and change nothing; reads and watches from a compacted
// revision are Expired (OUT_OF_RANGE). Also bad list options (limit, continue token) and delete
// options (propagation policy, grace period).

import type { SeededRandom } from '../../raft/core/random.js';
import { Code, type BadCase, type Fixture, pick, token } from './bad_case.js';
import { objectBytes, pathOf, req } from './objects_requests.js';

const BAD_RVS = ['abc', '-1', '1.5', '0x10', ' 12', '12 ', '1e3', '++1', '99999999999999999999999'];

export function badVersion(r: SeededRandom, f: Fixture): BadCase {
  const ns = f.namespace;
  const rv = pick(r, BAD_RVS);
  const stale = String(1 + r.intn(Number(f.configMap.resourceVersion) - 1));
  const conflict = 'Operation cannot be fulfilled on';
  switch (r.intn(12)) {
    case 0:
      return { category: 'objects/bad resourceVersion', path: pathOf('get'), body: req.get({ resource: 'pods', namespace: ns, name: f.pod.name, resourceVersion: rv }), codes: [Code.INVALID_ARGUMENT], message: `resourceVersion ${JSON.stringify(rv)}` };
    case 1:
      return { category: 'objects/bad resourceVersion', path: pathOf('list'), body: req.list({ resource: 'pods', namespace: ns, resourceVersion: rv }), codes: [Code.INVALID_ARGUMENT], message: `resourceVersion ${JSON.stringify(rv)}` };
    case 2:
      return { category: 'objects/bad resourceVersion', path: pathOf('watch'), body: req.watch({ resource: 'pods', namespace: ns, resourceVersion: rv }), stream: true, codes: [Code.INVALID_ARGUMENT], message: `resourceVersion ${JSON.stringify(rv)}` };
    case 3:
      return {
        category: 'objects/bad resourceVersion',
        path: pathOf('update'),
        body: req.update({ object: objectBytes({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: f.configMap.name, namespace: ns, resourceVersion: rv }, data: { a: 'b' } }) }),
        codes: [Code.INVALID_ARGUMENT],
        message: `resourceVersion ${JSON.stringify(rv)}`,
      };
    case 4:
      return {
        category: 'objects/conflict: stale update',
        path: pathOf('update'),
        body: req.update({ object: objectBytes({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: f.configMap.name, namespace: ns, resourceVersion: stale }, data: { stale } }) }),
        codes: [Code.ABORTED],
        message: `${conflict} configmaps "${f.configMap.name}": the object has been modified`,
      };
    case 5:
      return {
        category: 'objects/conflict: uid mismatch',
        path: pathOf('update'),
        body: req.update({ object: objectBytes({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: f.configMap.name, namespace: ns, uid: `uid-${token(r, 8)}` }, data: { a: 'b' } }) }),
        codes: [Code.ABORTED],
        message: `${conflict} configmaps "${f.configMap.name}": Precondition failed: UID in precondition`,
      };
    case 6: {
      const uid = `uid-${token(r, 8)}`;
      return {
        category: 'objects/conflict: delete precondition',
        path: pathOf('delete'),
        body: req.delete({ resource: 'pods', namespace: ns, name: f.pod.name, preconditionUid: uid }),
        codes: [Code.ABORTED],
        message: `Precondition failed: UID in precondition: ${uid}`,
      };
    }
    case 7: {
      const old = String(1 + r.intn(Number(f.pod.resourceVersion) - 1));
      return {
        category: 'objects/conflict: delete precondition',
        path: pathOf('delete'),
        body: req.delete({ resource: 'pods', namespace: ns, name: f.pod.name, preconditionResourceVersion: old }),
        codes: [Code.ABORTED],
        message: `Precondition failed: ResourceVersion in precondition: ${old}`,
      };
    }
    case 8: {
      // A watch from X needs revision X + 1 onwards: expired when X + 1 is below the compacted revision.
      const from = String(1 + r.intn(f.compactedRevision - 2));
      return { category: 'objects/expired: watch from a compacted revision', path: pathOf('watch'), body: req.watch({ resource: 'configmaps', namespace: ns, resourceVersion: from }), stream: true, codes: [Code.OUT_OF_RANGE], message: `too old resource version: ${from}` };
    }
    case 9: {
      const limit = -1 - r.intn(1000);
      return pick<BadCase>(r, [
        { category: 'objects/bad list option', path: pathOf('list'), body: req.list({ resource: 'pods', namespace: ns, limit }), codes: [Code.INVALID_ARGUMENT], message: `Invalid limit ${limit}` },
        { category: 'objects/bad list option', path: pathOf('list'), body: req.list({ resource: 'pods', namespace: ns, limit: 1, continue: token(r, 12) }), codes: [Code.INVALID_ARGUMENT], message: 'Invalid continue token' },
      ]);
    }
    case 10: {
      const policy = pick(r, ['Sideways', 'orphan', 'background', `P${token(r, 3)}`]);
      return { category: 'objects/bad delete option', path: pathOf('delete'), body: req.delete({ resource: 'pods', namespace: ns, name: f.pod.name, propagationPolicy: policy }), codes: [Code.INVALID_ARGUMENT], message: `Invalid propagationPolicy "${policy}"` };
    }
    default: {
      const grace = -1 - r.intn(100);
      return { category: 'objects/bad delete option', path: pathOf('delete'), body: req.delete({ resource: 'pods', namespace: ns, name: f.pod.name, gracePeriodSeconds: grace }), codes: [Code.INVALID_ARGUMENT], message: `Invalid gracePeriodSeconds ${grace}` };
    }
  }
}
