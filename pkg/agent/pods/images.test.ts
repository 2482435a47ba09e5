import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../../gen/navarch/api/v1/core.js';
import { Fixture } from './fixture_test_util.js';

const REG = '127.0.0.1:5000';
const SH = { entrypoint: ['/bin/sh'] };

describe('PodWorkers: images', () => {
  it('pulls per imagePullPolicy: Always each start, IfNotPresent only when missing, Never not at all', async () => {
    const f = await Fixture.create();
    f.runtime.addLocalImage(`${REG}/local:1`, SH);
    f.runtime.addRegistryImage(`${REG}/remote:1`, SH);
    f.runtime.addRegistryImage(`${REG}/always:1`, SH);
    const uid = (
      await f.createPod('p', {
        containers: [
          { name: 'a', image: `${REG}/local:1`, imagePullPolicy: 'IfNotPresent' },
          { name: 'b', image: `${REG}/remote:1`, imagePullPolicy: 'IfNotPresent' },
          { name: 'c', image: `${REG}/always:1`, imagePullPolicy: 'Always' },
        ],
      })
    ).metadata?.uid ?? '';
    await f.start();
    const pulls = () => f.runtime.calls.filter((c) => c.startsWith('pull '));
    assert.deepEqual(pulls(), [`pull ${REG}/remote:1`, `pull ${REG}/always:1`]);
    f.runtime.exitContainer(`${uid}_b_0`, 0);
    f.runtime.exitContainer(`${uid}_c_0`, 0);
    await f.settle();
    assert.deepEqual(pulls(), [`pull ${REG}/remote:1`, `pull ${REG}/always:1`, `pull ${REG}/always:1`], 'Always pulls again on restart; IfNotPresent does not');

    const never = (await f.createPod('never', { containers: [{ name: 'a', image: `${REG}/absent:1`, imagePullPolicy: 'Never' }] })).metadata?.uid ?? '';
    await f.settle();
    const w = (await f.statusOf('never')).containerStatuses[0].state?.waiting;
    assert.deepEqual(w, { reason: 'ErrImageNeverPull', message: `Container image "${REG}/absent:1" is not present with pull policy of Never` });
    assert.equal(f.runtime.latest(never, 'a'), undefined);
    assert.equal(pulls().length, 3);
    f.stop();
  });

  it('shows ErrImagePull, then ImagePullBackOff, and retries after 10 s, 20 s, 40 s', async () => {
    const f = await Fixture.create();
    const image = `${REG}/missing:1`;
    const uid = (await f.createPod('p', { containers: [{ name: 'a', image }] })).metadata?.uid ?? '';
    await f.workers.start([await f.pod('p')]);
    await f.workers.idle();
    await f.status.idle();
    let w = (await f.statusOf('p')).containerStatuses[0].state?.waiting;
    assert.equal(w?.reason, 'ErrImagePull');
    assert.equal(w?.message, `Failed to pull image "${image}": failed to resolve reference "${image}": not found`);
    assert.equal((await f.statusOf('p')).phase, 'Pending');
    await f.advance(1000);
    w = (await f.statusOf('p')).containerStatuses[0].state?.waiting;
    assert.deepEqual(w, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });

    const pulls = () => f.runtime.calls.filter((c) => c.startsWith('pull ')).length;
    assert.equal(pulls(), 1);
    let t = 1000;
    for (const [n, waitS] of [[2, 10], [3, 20], [4, 40]] as const) {
      await f.advance(waitS * 1000 - t - 1);
      assert.equal(pulls(), n - 1, `no pull before ${waitS} s`);
      await f.advance(1);
      assert.equal(pulls(), n, `pull ${n} after ${waitS} s`);
      t = 0;
    }
    // The image appears in the registry: the next retry pulls it and the pod runs.
    f.runtime.addRegistryImage(image, SH);
    await f.advance(80_000);
    assert.equal(f.runtime.latest(uid, 'a')?.phase, 'running');
    assert.equal((await f.statusOf('p')).phase, 'Running');
    f.stop();
  });

  it('pulls with the credentials of the pod\'s imagePullSecrets', async () => {
    const f = await Fixture.create();
    f.runtime.addRegistryImage(`${REG}/private:1`, SH);
    const cfg = { auths: { [`https://${REG}/v2/`]: { username: 'u', password: 'p' }, 'registry.example.com': { auth: Buffer.from('x:y').toString('base64') } } };
    await f.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'regcred', namespace: 'default' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify(cfg)).toString('base64') } });
    const warnings: string[] = [];
    const g = await Fixture.create({ from: f, workers: { onWarning: (m) => warnings.push(m) } });
    await g.createPod('p', { imagePullSecrets: [{ name: 'regcred' }, { name: 'missing' }], containers: [{ name: 'a', image: `${REG}/private:1` }] });
    await g.start();
    assert.deepEqual(g.runtime.pullCredentials, [
      {
        ref: `${REG}/private:1`,
        credentials: [
          { registry: REG, username: 'u', password: 'p', auth: undefined, identityToken: undefined },
          { registry: 'registry.example.com', username: undefined, password: undefined, auth: 'eDp5', identityToken: undefined },
        ],
      },
    ]);
    assert.equal((await g.statusOf('p')).phase, 'Running');
    assert.ok(warnings.some((w) => w.includes('default/missing')), 'a missing pull secret is warned about, and the pull goes on');
    g.stop();
  });

  it('does not let pulls that hang hold up other pods, even with one sync at a time', async () => {
    const base = await Fixture.create();
    const f = await Fixture.create({ from: base, workers: { maxConcurrentSyncs: 1 } });
    f.runtime.addRegistryImage(`${REG}/slow:1`, SH);
    f.runtime.addRegistryImage(`${REG}/fast:1`, SH);
    const release = f.runtime.blockPulls('slow');
    const slow = [];
    for (const name of ['slow-a', 'slow-b', 'slow-c']) slow.push((await f.createPod(name, { containers: [{ name: 'a', image: `${REG}/slow:1` }] })).metadata?.uid ?? '');
    const fast = (await f.createPod('fast', { containers: [{ name: 'a', image: `${REG}/fast:1` }] })).metadata?.uid ?? '';
    await f.workers.start((await f.t.server.list({ resource: 'pods' })).items as Pod[]);
    await f.status.idle();
    const deadline = Date.now() + 10_000;
    while (f.runtime.latest(fast, 'a')?.phase !== 'running' && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal(f.runtime.latest(fast, 'a')?.phase, 'running');
    for (const uid of slow) assert.equal(f.runtime.latest(uid, 'a'), undefined);
    assert.equal(f.runtime.calls.filter((c) => c === `pull ${REG}/slow:1`).length, 1, 'the three pods share one pull');
    await f.status.idle();
    assert.deepEqual((await f.statusOf('slow-a')).containerStatuses[0].state?.waiting?.reason, 'ContainerCreating');
    release();
    await f.settle();
    for (const uid of slow) assert.equal(f.runtime.latest(uid, 'a')?.phase, 'running');
    f.stop();
  });
});
