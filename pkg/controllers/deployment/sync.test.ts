import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ReplicaSet } from '../../api/registry.js';
import { obj } from '../../apiserver/test_util.js';
import { drainQueue, Fixture, revision } from './fixture_test_util.js';
import { computeHash, POD_TEMPLATE_HASH_LABEL } from './hash.js';

function orphanRS(name: string, labels: Record<string, string>, image = 'nginx:1.25', replicas = 1): ReplicaSet {
  return obj<ReplicaSet>({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', labels },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'web', image }] } } },
  });
}

describe('revisionHistoryLimit', () => {
  let f: Fixture;
  beforeEach(async () => (f = await Fixture.create()));
  afterEach(() => f.close());

  it('keeps only the newest old ReplicaSets with no pods once a rollout is complete', async () => {
    await f.createDeployment('web', { replicas: 2, revisionHistoryLimit: 2 });
    await f.rollOutFully('web');
    for (const tag of ['1.26', '1.27', '1.28', '1.29']) {
      await f.setImage('web', `nginx:${tag}`);
      await f.rollOutFully('web');
    }
    // One more sync after completion cleans up.
    await f.sync('web');
    const rss = (await f.replicaSets()).sort((a, b) => Number(revision(a)) - Number(revision(b)));
    assert.deepEqual(rss.map((rs) => [revision(rs), rs.spec!.replicas, rs.spec!.template!.spec!.containers[0].image]), [
      ['3', 0, 'nginx:1.27'],
      ['4', 0, 'nginx:1.28'],
      ['5', 2, 'nginx:1.29'],
    ]);
  });

  it('defaults to 10 and deletes everything old at 0', async () => {
    const d = await f.createDeployment('web', { replicas: 1 });
    assert.equal(d.spec!.revisionHistoryLimit, 10);
    await f.patchDeployment('web', { spec: { revisionHistoryLimit: 0 } });
    await f.rollOutFully('web');
    await f.setImage('web', 'nginx:1.26');
    await f.rollOutFully('web');
    await f.sync('web');
    assert.deepEqual((await f.replicaSets()).map((rs) => revision(rs)), ['2']);
  });
});

describe('ReplicaSet ownership', () => {
  let f: Fixture;
  beforeEach(async () => (f = await Fixture.create()));
  afterEach(() => f.close());

  it('adopts an orphan ReplicaSet its selector matches, and uses it when the template matches', async () => {
    const d = await f.createDeployment('web', { replicas: 2 });
    const hash = computeHash(d.spec!.template);
    await f.server.create({ object: orphanRS(`web-${hash}`, { app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash }) });
    await f.caughtUp();
    assert.deepEqual(await drainQueue(f), ['default/web'], 'an orphan wakes the Deployments that match it');
    await f.sync('web');
    const rss = await f.replicaSets();
    assert.equal(rss.length, 1, 'no second ReplicaSet for the same template');
    assert.deepEqual(rss[0].metadata!.ownerReferences.map((r) => [r.kind, r.name, r.uid, r.controller]), [['Deployment', 'web', d.metadata!.uid, true]]);
    assert.equal(rss[0].spec!.replicas, 2);
    assert.equal(revision(rss[0]), '1');
  });

  it('releases a ReplicaSet whose labels stop matching, and leaves other owners\' ReplicaSets alone', async () => {
    await f.createDeployment('web', { replicas: 1 });
    await f.rollOutFully('web');
    const [rs] = await f.replicaSets();
    const foreign = orphanRS('other', { app: 'web', tier: 'x' });
    foreign.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'someone', uid: 'uid-elsewhere', controller: true, blockOwnerDeletion: true }];
    await f.server.create({ object: foreign });
    await f.server.patch({ resource: 'replicasets', namespace: 'default', name: rs.metadata!.name!, type: 'merge', patch: { metadata: { labels: { app: 'moved' } } } });
    // Released, the old RS still holds the name the template hashes to: a collision, as in Kubernetes.
    await assert.rejects(f.sync('web'), (e: { code?: string }) => e.code === 'AlreadyExists');
    await f.sync('web');
    const byName = new Map((await f.replicaSets()).map((x) => [x.metadata!.name, x]));
    assert.deepEqual(byName.get(rs.metadata!.name)!.metadata!.ownerReferences, []);
    assert.equal(byName.get('other')!.metadata!.ownerReferences[0].uid, 'uid-elsewhere');
    // With its RS released the Deployment makes a new one under collisionCount 1.
    const mine = [...byName.values()].filter((x) => x.metadata!.ownerReferences.some((r) => r.name === 'web'));
    assert.equal(mine.length, 1);
    assert.notEqual(mine[0].metadata!.name, rs.metadata!.name);
  });

  it('escapes a name collision with collisionCount, which changes the hash', async () => {
    const d = await f.createDeployment('web', { replicas: 1 });
    const hash = computeHash(d.spec!.template);
    // Someone else's ReplicaSet has our name, with a different template and labels we do not select.
    await f.server.create({ object: orphanRS(`web-${hash}`, { app: 'squatter' }, 'busybox') });
    await assert.rejects(f.sync('web'), (e: { code?: string }) => e.code === 'AlreadyExists');
    const after = await f.deployment('web');
    assert.equal(after.status!.collisionCount, 1);
    await f.sync('web');
    const mine = (await f.replicaSets()).filter((rs) => rs.metadata!.ownerReferences.length > 0);
    assert.equal(mine.length, 1);
    assert.equal(mine[0].metadata!.name, `web-${computeHash(d.spec!.template, 1)}`);
    assert.notEqual(computeHash(d.spec!.template, 1), hash);
  });
});

describe('event handlers', () => {
  let f: Fixture;
  beforeEach(async () => (f = await Fixture.create()));
  afterEach(() => f.close());

  it('wakes the owning Deployment on changes to its ReplicaSets, and nothing for unrelated ones', async () => {
    await f.createDeployment('web', { replicas: 1 });
    await f.createDeployment('api', { replicas: 1 });
    await f.sync('web');
    await f.caughtUp();
    await drainQueue(f);
    await f.runReplicaSets();
    await f.caughtUp();
    assert.deepEqual(await drainQueue(f), ['default/web']);
    await f.server.create({ object: orphanRS('loner', { app: 'nobody' }) });
    await f.caughtUp();
    assert.deepEqual(await drainQueue(f), []);
    const [rs] = (await f.replicaSets()).filter((x) => x.metadata!.name!.startsWith('web-'));
    await f.server.delete({ resource: 'replicasets', namespace: 'default', name: rs.metadata!.name! });
    await f.caughtUp();
    assert.deepEqual(await drainQueue(f), ['default/web']);
  });
});

describe('odd Deployments', () => {
  let f: Fixture;
  beforeEach(async () => (f = await Fixture.create()));
  afterEach(() => f.close());

  it('a Deployment being deleted only gets its status synced: no rollout, no scaling', async () => {
    await f.createDeployment('web', { replicas: 2 });
    await f.rollOutFully('web');
    await f.server.patch({ resource: 'deployments', namespace: 'default', name: 'web', type: 'merge', patch: { metadata: { finalizers: ['example.com/hold'] } } });
    await f.server.delete({ resource: 'deployments', namespace: 'default', name: 'web' });
    await f.setImage('web', 'nginx:1.26');
    await f.patchDeployment('web', { spec: { replicas: 5 } });
    f.client.takeActions();
    await f.sync('web');
    assert.deepEqual(f.client.takeSummary(), ['update deployments default/web status']);
    const rss = await f.replicaSets();
    assert.deepEqual(rss.map((rs) => rs.spec!.replicas), [2]);
    const d = await f.deployment('web');
    assert.equal(d.status!.observedGeneration, d.metadata!.generation);
  });

  it('refuses to act on a selector that selects everything, with a Warning event', async () => {
    await f.createDeployment('web', { replicas: 1 });
    await f.caughtUp();
    const cached = f.informers.deployments.store.get('default', 'web')!;
    // The API refuses an empty selector; a cache holding one (an older object) must not make the
    // controller adopt every ReplicaSet in the namespace.
    const everything = structuredClone(cached);
    everything.spec!.selector = { matchLabels: {}, matchExpressions: [] };
    (f.informers.deployments.store as unknown as { upsert(o: unknown): void }).upsert(everything);
    await f.controller.syncKey('default/web');
    assert.deepEqual(f.recorder.take(), ['Warning SelectingAll This deployment is selecting all pods. A non-empty selector is required.']);
    assert.equal((await f.replicaSets()).length, 0);
  });
});
