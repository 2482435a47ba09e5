import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeBinary } from '../../pkg/api/convert/binary.js';
import { decodeObject } from '../../pkg/api/convert/object.js';
import type { Pod } from '../../pkg/api/registry.js';
import { decodePodProgress } from './pod_progress.js';

function pod(extra: { nodeName?: string; phase?: string }): Pod {
  return decodeObject({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-7', namespace: 'bench', resourceVersion: '4711', uid: 'u-1', labels: { app: 'web' }, annotations: { note: 'x'.repeat(300) } },
    spec: {
      containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m' } } }],
      tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 20 }],
      ...(extra.nodeName ? { nodeName: extra.nodeName } : {}),
    },
    status: { ...(extra.phase ? { phase: extra.phase } : {}), podIP: '2001:2::5', conditions: [{ type: 'Ready', status: 'True' }] },
  }).object as Pod;
}

describe('decodePodProgress', () => {
  it('reads the name, namespace, resourceVersion, node and phase of a stored pod and nothing else', () => {
    const p = decodePodProgress(encodeBinary(pod({ nodeName: 'hollow-12', phase: 'Running' })));
    assert.deepEqual(p.metadata, { name: 'web-7', namespace: 'bench', resourceVersion: '4711' });
    assert.deepEqual(p.spec, { nodeName: 'hollow-12' });
    assert.deepEqual(p.status, { phase: 'Running' });
  });

  it('leaves the node and phase unset on a pod not yet bound', () => {
    const p = decodePodProgress(encodeBinary(pod({})));
    assert.equal(p.spec?.nodeName, undefined);
    assert.equal(p.status?.phase, undefined);
    assert.equal(p.metadata?.name, 'web-7');
  });

  it('refuses bytes cut short', () => {
    const bytes = encodeBinary(pod({ nodeName: 'hollow-12' }));
    assert.throws(() => decodePodProgress(bytes.subarray(0, bytes.byteLength - 5)));
  });
});
