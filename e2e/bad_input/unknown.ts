// Kinds and resources the server does not have: NotFound naming them.

import { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { SeededRandom } from '../../raft/core/random.js';
import { Code, type BadCase, type Fixture, pick, token } from './bad_case.js';
import { objectBytes, pathOf, req } from './objects_requests.js';

/** Object bytes that carry apiVersion (field 1) and kind (field 2) and nothing else a kind would read. */
function typeMetaBytes(apiVersion: string, kind: string): Buffer {
  const w = new BinaryWriter();
  w.uint32(10).string(apiVersion);
  w.uint32(18).string(kind);
  return Buffer.from(w.finish());
}

export function unknownKindOrResource(r: SeededRandom, f: Fixture): BadCase {
  const ns = f.namespace;
  const resource = `${pick(r, ['widgets', 'gadgets', 'podz', 'deploymentz'])}${token(r, 3)}`;
  switch (r.intn(7)) {
    case 0: {
      const kind = `Widget${token(r, 4)}`;
      const apiVersion = pick(r, ['v1', 'apps/v1', 'example.com/v1', 'v9']);
      return {
        category: 'objects/unknown kind (create)',
        path: pathOf('create'),
        body: req.create({ object: typeMetaBytes(apiVersion, kind) }),
        codes: [Code.NOT_FOUND],
        message: `no matches for kind "${kind}" in version "${apiVersion}"`,
      };
    }
    case 1:
      // A kind Navarch has, in a version it does not serve.
      return {
        category: 'objects/unknown kind (create)',
        path: pathOf('create'),
        body: req.create({ object: typeMetaBytes('apps/v1beta9', 'Deployment') }),
        codes: [Code.NOT_FOUND],
        message: 'no matches for kind "Deployment" in version "apps/v1beta9"',
      };
    case 2:
      return { category: 'objects/unknown resource', path: pathOf('get'), body: req.get({ resource, namespace: ns, name: 'x' }), codes: [Code.NOT_FOUND], message: `"${resource}"` };
    case 3:
      return { category: 'objects/unknown resource', path: pathOf('list'), body: req.list({ resource, namespace: ns }), codes: [Code.NOT_FOUND], message: `"${resource}"` };
    case 4:
      return { category: 'objects/unknown resource', path: pathOf('watch'), body: req.watch({ resource, namespace: ns }), stream: true, codes: [Code.NOT_FOUND], message: `"${resource}"` };
    case 5:
      return { category: 'objects/unknown resource', path: pathOf('delete'), body: req.delete({ resource, namespace: ns, name: 'x' }), codes: [Code.NOT_FOUND], message: `"${resource}"` };
    default: {
      // A subresource that does not exist, and objects and namespaces that do not exist.
      const name = `missing-${token(r, 6)}`;
      return pick<BadCase>(r, [
        { category: 'objects/missing object', path: pathOf('get'), body: req.get({ resource: 'pods', namespace: ns, name }), codes: [Code.NOT_FOUND], message: `pods "${name}" not found` },
        {
          category: 'objects/missing object',
          path: pathOf('patch'),
          body: req.patch({ resource: 'configmaps', namespace: ns, name, type: 'merge', patch: '{"data":{"a":"b"}}' }),
          codes: [Code.NOT_FOUND],
          message: `configmaps "${name}" not found`,
        },
        { category: 'objects/missing object', path: pathOf('delete'), body: req.delete({ resource: 'secrets', namespace: ns, name }), codes: [Code.NOT_FOUND], message: `secrets "${name}" not found` },
        {
          category: 'objects/missing namespace',
          path: pathOf('create'),
          body: req.create({ object: objectBytes({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: name } }) }),
          codes: [Code.NOT_FOUND],
          message: `namespaces "${name}" not found`,
        },
        {
          category: 'objects/unknown subresource',
          path: pathOf('patch'),
          body: req.patch({ resource: 'configmaps', namespace: ns, name: f.configMap.name, type: 'merge', patch: '{}', subresource: 'scale' }),
          codes: [Code.NOT_FOUND],
          message: '(configmaps/scale)',
        },
      ]);
    }
  }
}
