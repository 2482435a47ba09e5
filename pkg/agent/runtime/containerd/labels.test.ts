import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerConfig } from '../runtime.js';
import { containerLabels, LABEL, visibleLabels } from './labels.js';

const config = { id: 'c', podUid: 'u1', podName: 'p', podNamespace: 'ns', containerName: 'web', attempt: 3, logPath: '/l/0.log', labels: { app: 'web' } } as unknown as ContainerConfig;

describe('container labels', () => {
  it('carry the pod, container, attempt and log path, and hide the bookkeeping from callers', () => {
    const l = containerLabels(config, 'sha256:d');
    assert.equal(l[LABEL.podUid], 'u1');
    assert.equal(l[LABEL.attempt], '3');
    assert.equal(l[LABEL.logPath], '/l/0.log');
    assert.deepEqual(visibleLabels({ ...l, [LABEL.startedAt]: '5' }), { app: 'web', [LABEL.podUid]: 'u1', [LABEL.podName]: 'p', [LABEL.podNamespace]: 'ns', [LABEL.containerName]: 'web', [LABEL.attempt]: '3' });
  });

  it("refuse a caller's label that would overwrite the runtime's", () => {
    assert.throws(() => containerLabels({ ...config, labels: { [LABEL.logPath]: '/x' } }, 'sha256:d'), /label "io.navarch.container.log-path" is reserved/);
  });
});
