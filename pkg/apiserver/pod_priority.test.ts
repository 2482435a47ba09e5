import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod, PriorityClass } from '../api/registry.js';
import { isApiError } from './api_error.js';
import { obj, pod, testServer } from './test_util.js';

const rejects = (p: Promise<unknown>, code: string, message: string) =>
  assert.rejects(p, (err: unknown) => {
    assert.ok(isApiError(err), `expected an ApiError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.message, message);
    return true;
  });

function priorityClass(name: string, value: number, extra: { globalDefault?: boolean; preemptionPolicy?: string } = {}): PriorityClass {
  return obj<PriorityClass>({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...extra });
}

function podOf(name: string, spec: Record<string, unknown>): Pod {
  const p = pod(name) as Pod;
  Object.assign(p.spec!, spec);
  return p;
}

describe('priority admission', () => {
  it("sets a new pod's priority and preemption policy from the class it names", async () => {
    const { server } = await testServer();
    await server.create({ object: priorityClass('batch-low', 100, { preemptionPolicy: 'Never' }) });
    const created = (await server.create({ object: podOf('job', { priorityClassName: 'batch-low' }) })) as Pod;
    assert.equal(created.spec?.priority, 100);
    assert.equal(created.spec?.preemptionPolicy, 'Never');
    const stored = (await server.get({ resource: 'pods', namespace: 'default', name: 'job' })) as Pod;
    assert.equal(stored.spec?.priority, 100, 'the stored pod carries the priority the scheduler reads');
  });

  it('resolves the built-in system classes without objects', async () => {
    const { server } = await testServer();
    const node = (await server.create({ object: podOf('proxy', { priorityClassName: 'system-node-critical' }) })) as Pod;
    const cluster = (await server.create({ object: podOf('dns', { priorityClassName: 'system-cluster-critical' }) })) as Pod;
    assert.equal(node.spec?.priority, 2_000_001_000);
    assert.equal(cluster.spec?.priority, 2_000_000_000);
    assert.equal(cluster.spec?.preemptionPolicy, 'PreemptLowerPriority');
  });

  it('refuses a pod naming a class that does not exist, and stores nothing', async () => {
    const { server } = await testServer();
    await rejects(server.create({ object: podOf('job', { priorityClassName: 'nope' }) }), 'Forbidden', 'pods "job" is forbidden: no PriorityClass with name nope was found');
    const list = await server.list({ resource: 'pods', namespace: 'default' });
    assert.equal(list.items.length, 0);
  });

  it('gives a pod without a class the global default class, or priority 0 when there is none', async () => {
    const { server } = await testServer();
    const plain = (await server.create({ object: pod('before') })) as Pod;
    assert.equal(plain.spec?.priority, 0);
    assert.equal(plain.spec?.preemptionPolicy, 'PreemptLowerPriority');
    assert.equal(plain.spec?.priorityClassName, undefined);
    await server.create({ object: priorityClass('ordinary', 50) });
    await server.create({ object: priorityClass('default-tier', 1000, { globalDefault: true }) });
    const after = (await server.create({ object: pod('after') })) as Pod;
    assert.equal(after.spec?.priorityClassName, 'default-tier');
    assert.equal(after.spec?.priority, 1000);
    assert.equal(after.spec?.preemptionPolicy, 'PreemptLowerPriority');
  });

  it('refuses a pod whose own priority or preemption policy disagrees with its class, and accepts one that agrees', async () => {
    const { server } = await testServer();
    await server.create({ object: priorityClass('high', 1000) });
    await rejects(
      server.create({ object: podOf('a', { priorityClassName: 'high', priority: 5 }) }),
      'Forbidden',
      'pods "a" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name',
    );
    await rejects(
      server.create({ object: podOf('b', { priority: 7 }) }),
      'Forbidden',
      'pods "b" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name',
    );
    await rejects(
      server.create({ object: podOf('c', { priorityClassName: 'high', preemptionPolicy: 'Never' }) }),
      'Forbidden',
      'pods "c" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name',
    );
    const agreeing = (await server.create({ object: podOf('d', { priorityClassName: 'high', priority: 1000 }) })) as Pod;
    assert.equal(agreeing.spec?.priority, 1000);
    await rejects(
      server.create({ object: podOf('e', { preemptionPolicy: 'Never' }) }),
      'Forbidden',
      'pods "e" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name',
    );
  });

  it('follows the default class as it changes, and each store its own', async () => {
    const { server } = await testServer();
    const { server: other } = await testServer();
    await server.create({ object: priorityClass('tier', 1000, { globalDefault: true }) });
    // The same name at the same revision in another store, with another value.
    await other.create({ object: priorityClass('tier', 7, { globalDefault: true }) });
    assert.equal(((await server.create({ object: podOf('a', {}) })) as Pod).spec?.priority, 1000);
    assert.equal(((await other.create({ object: podOf('a', {}) })) as Pod).spec?.priority, 7);
    const tier = (await server.get({ resource: 'priorityclasses', name: 'tier' })) as PriorityClass;
    await server.update({ object: { ...tier, globalDefault: false } });
    assert.equal(((await server.create({ object: podOf('b', {}) })) as Pod).spec?.priority, 0);
    await server.create({ object: priorityClass('tier-2', 500, { globalDefault: true }) });
    const c = (await server.create({ object: podOf('c', {}) })) as Pod;
    assert.equal(c.spec?.priority, 500);
    assert.equal(c.spec?.priorityClassName, 'tier-2');
  });

  it('allows one global default class: a second is refused on create and on update', async () => {
    const { server } = await testServer();
    await server.create({ object: priorityClass('first', 10, { globalDefault: true }) });
    const message = 'priorityclasses.scheduling.k8s.io "second" is forbidden: PriorityClass first is already marked as default. Only one default can exist';
    await rejects(server.create({ object: priorityClass('second', 20, { globalDefault: true }) }), 'Forbidden', message);
    const second = (await server.create({ object: priorityClass('second', 20) })) as PriorityClass;
    await rejects(server.update({ object: { ...second, globalDefault: true } }), 'Forbidden', message);
    // The default itself may be updated, and another may become default once it is not.
    const first = (await server.get({ resource: 'priorityclasses', name: 'first' })) as PriorityClass;
    const updated = (await server.update({ object: { ...first, description: 'kept default' } })) as PriorityClass;
    await server.update({ object: { ...updated, globalDefault: false } });
    const latest = (await server.get({ resource: 'priorityclasses', name: 'second' })) as PriorityClass;
    assert.equal(((await server.update({ object: { ...latest, globalDefault: true } })) as PriorityClass).globalDefault, true);
  });

  it("keeps a pod's priority across an update that leaves it out (a PUT of the manifest)", async () => {
    const { server } = await testServer();
    await server.create({ object: priorityClass('high', 1000) });
    const created = (await server.create({ object: podOf('web', { priorityClassName: 'high' }) })) as Pod;
    const manifest = podOf('web', { priorityClassName: 'high', activeDeadlineSeconds: 600 });
    manifest.metadata!.uid = undefined;
    manifest.metadata!.resourceVersion = created.metadata?.resourceVersion;
    const updated = (await server.update({ object: manifest })) as Pod;
    assert.equal(updated.spec?.priority, 1000);
    assert.equal(updated.spec?.activeDeadlineSeconds, 600);
    await assert.rejects(server.update({ object: { ...updated, spec: { ...updated.spec!, priority: 5 } } }), /pod updates may not change fields/);
  });

  it('takes the system- names only as the built-in classes are', async () => {
    const { server } = await testServer();
    await rejects(
      server.create({ object: priorityClass('system-cluster-critical', 1) }),
      'Invalid',
      'PriorityClass.scheduling.k8s.io "system-cluster-critical" is invalid: metadata.name: Forbidden: priority class names with \'system-\' prefix are reserved for system use only. error: value of system-cluster-critical PriorityClass must be 2000000000',
    );
    await assert.rejects(server.create({ object: priorityClass('system-mine', 10) }), /system-mine is not a known system priority class/);
    await assert.rejects(server.create({ object: priorityClass('system-node-critical', 2_000_001_000, { globalDefault: true }) }), /globalDefault of system-node-critical PriorityClass must be false/);
    await server.create({ object: priorityClass('system-node-critical', 2_000_001_000) });
  });
});
