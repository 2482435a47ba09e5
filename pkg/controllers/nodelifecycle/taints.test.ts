import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../api/registry.js';
import { evictionAtMs, FOREVER, type Taint, type Toleration, tolerates, tolerationMs } from './taints.js';

const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
const notReady: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' };
const custom: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoExecute' };

const podWith = (tolerations: Toleration[]): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { tolerations } }) as unknown as Pod;

describe('tolerates', () => {
  const cases: Array<[string, Toleration, Taint, boolean]> = [
    ['Exists on the key', { key: unreachable.key, operator: 'Exists' }, unreachable, true],
    ['Exists with the same effect', { key: unreachable.key, operator: 'Exists', effect: 'NoExecute' }, unreachable, true],
    ['Exists with another effect', { key: unreachable.key, operator: 'Exists', effect: 'NoSchedule' }, unreachable, false],
    ['empty key with Exists tolerates everything', { operator: 'Exists' }, custom, true],
    ['another key', { key: 'other', operator: 'Exists' }, custom, false],
    ['Equal with the value', { key: 'dedicated', operator: 'Equal', value: 'gpu' }, custom, true],
    ['Equal with another value', { key: 'dedicated', operator: 'Equal', value: 'cpu' }, custom, false],
    ['no operator means Equal', { key: 'dedicated', value: 'gpu' }, custom, true],
    ['Equal without value on a taint without value', { key: unreachable.key, operator: 'Equal' }, unreachable, true],
    ['an unknown operator tolerates nothing', { key: 'dedicated', operator: 'Matches', value: 'gpu' }, custom, false],
  ];
  for (const [name, tol, taint, want] of cases) it(name, () => assert.equal(tolerates(tol, taint), want));
});

describe('tolerationMs', () => {
  const cases: Array<[string, Toleration[], Taint, number]> = [
    ['no toleration for unreachable (a pod from before the admission added one): the default', [], unreachable, 20_000],
    ['no toleration for not-ready: the default', [], notReady, 20_000],
    ['no toleration for another NoExecute taint: at once', [], custom, 0],
    ['tolerated without seconds: forever', [{ key: unreachable.key, operator: 'Exists', effect: 'NoExecute' }], unreachable, FOREVER],
    ['tolerationSeconds', [{ key: unreachable.key, operator: 'Exists', tolerationSeconds: 300 }], unreachable, 300_000],
    ['the smallest of several matching', [{ operator: 'Exists' }, { key: unreachable.key, operator: 'Exists', tolerationSeconds: 7 }, { key: unreachable.key, operator: 'Exists', tolerationSeconds: 30 }], unreachable, 7_000],
    ['a negative tolerationSeconds is 0', [{ key: unreachable.key, operator: 'Exists', tolerationSeconds: -5 }], unreachable, 0],
    ['a toleration for another taint does not count', [{ key: 'dedicated', operator: 'Exists' }], unreachable, 20_000],
    // The admission would have added none (the key is named, NoExecute), and this one does not match: at once, as Kubernetes.
    ['a toleration of the key with a value the taint lacks: at once', [{ key: unreachable.key, operator: 'Equal', value: 'x', effect: 'NoExecute', tolerationSeconds: 60 }], unreachable, 0],
  ];
  for (const [name, tols, taint, want] of cases) it(name, () => assert.equal(tolerationMs(podWith(tols), taint, 20), want));
});

describe('evictionAtMs', () => {
  it('is the earliest deadline over the taints, each counted from when it appeared', () => {
    const pod = podWith([{ key: unreachable.key, operator: 'Exists', tolerationSeconds: 60 }]);
    assert.equal(evictionAtMs(pod, [{ taint: unreachable, sinceMs: 1000 }], 20), 61_000);
    assert.equal(evictionAtMs(pod, [{ taint: unreachable, sinceMs: 1000 }, { taint: notReady, sinceMs: 5000 }], 20), 25_000);
    assert.equal(evictionAtMs(pod, [], 20), FOREVER);
  });
});
