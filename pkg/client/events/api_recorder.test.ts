import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { Event, KubeObject } from '../../api/registry.js';
import { ApiError } from '../../apiserver/api_error.js';
import { obj, pod, testServer } from '../../apiserver/test_util.js';
import type { ObjectClient } from '../../controllers/client.js';
import { RecordingClient } from '../../controllers/testing/recording_client.js';
import { FakeClock } from '../testing/fake_clock.js';
import { ApiEventRecorder, type ApiEventRecorderOptions } from './api_recorder.js';

const START_MS = Date.UTC(2026, 0, 2, 3, 4, 5);

async function setup(o: Partial<ApiEventRecorderOptions> = {}) {
  const { server } = await testServer({ namespaces: ['default', 'web'] });
  const client = new RecordingClient(server);
  const clock = new FakeClock(START_MS);
  const recorder = new ApiEventRecorder({ client, component: 'test-controller', instance: 'master-1', clock, ...o });
  const created = (await server.create({ object: pod('api-0', { namespace: 'web' }) })) as KubeObject;
  return { server, client, clock, recorder, pod: created };
}

/** The list `describe` makes for an object. */
async function describeEvents(client: ObjectClient, o: KubeObject): Promise<Event[]> {
  const m = o.metadata!;
  const fieldSelector = `involvedObject.name=${m.name},involvedObject.namespace=${m.namespace ?? ''},involvedObject.uid=${m.uid}`;
  const page = await client.list<Event>('events', { namespace: m.namespace || undefined, fieldSelector });
  return page.items;
}

describe('ApiEventRecorder', () => {
  it('sends new Events in CreateBatch calls of at most 500, and each Event a batch refuses on its own', async () => {
    const { server } = await testServer({ namespaces: ['default'] });
    const sizes: number[] = [];
    let refuseWhole = false;
    const client = Object.assign(new RecordingClient(server), {
      createBatch: async (objects: readonly KubeObject[]) => {
        sizes.push(objects.length);
        if (refuseWhole) throw new ApiError('TooLarge', 'the batch is too large');
        return (await server.createBatch(objects.map((object) => ({ object })))).map((o) => o.error);
      },
    });
    const recorder = new ApiEventRecorder({ client, component: 'test-controller', maxInFlightWrites: 1200, queueEvents: 1200 });
    const about = (i: number) => obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace: 'default', uid: `u-${i}` } }) as KubeObject;
    for (let i = 0; i < 1200; i++) recorder.event(about(i), 'Normal', 'Scheduled', `assigned p-${i}`);
    await recorder.flush();
    assert.deepEqual(sizes, [500, 500, 200]);
    assert.equal(recorder.failed, 0);
    // A batch refused as a whole: each of its Events is written on its own.
    refuseWhole = true;
    client.takeActions();
    for (let i = 1200; i < 1203; i++) recorder.event(about(i), 'Normal', 'Scheduled', `assigned p-${i}`);
    await recorder.flush();
    assert.deepEqual(sizes.slice(3), [3]);
    assert.equal(client.takeActions().filter((a) => a.verb === 'create').length, 3);
    assert.equal(recorder.failed, 0);
    await recorder.stop();
  });

  it('writes a core/v1 Event in the object namespace with source, reporting and involvedObject fields', async () => {
    const { client, recorder, pod } = await setup();
    recorder.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available: 3 Insufficient cpu.');
    await recorder.flush();
    assert.deepEqual(client.takeSummary().map((s) => s.replace(/api-0\.[0-9a-f]+/, 'api-0.*')), ['create events web/api-0.*']);
    const [ev] = await describeEvents(client, pod);
    assert.ok(ev, 'describe finds the event');
    assert.equal(ev.metadata?.namespace, 'web');
    assert.deepEqual(
      { kind: ev.involvedObject?.kind, namespace: ev.involvedObject?.namespace, name: ev.involvedObject?.name, uid: ev.involvedObject?.uid, apiVersion: ev.involvedObject?.apiVersion, resourceVersion: ev.involvedObject?.resourceVersion },
      { kind: 'Pod', namespace: 'web', name: 'api-0', uid: pod.metadata?.uid, apiVersion: 'v1', resourceVersion: pod.metadata?.resourceVersion },
    );
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.reason, 'FailedScheduling');
    assert.equal(ev.message, '0/3 nodes are available: 3 Insufficient cpu.');
    assert.equal(ev.count, 1);
    assert.equal(ev.firstTimestamp, '2026-01-02T03:04:05Z');
    assert.equal(ev.lastTimestamp, '2026-01-02T03:04:05Z');
    assert.equal(ev.source?.component, 'test-controller');
    assert.equal(ev.reportingComponent, 'test-controller');
    assert.equal(ev.reportingInstance, 'master-1');
  });

  it('turns repeats of the same event into count increments with a moving lastTimestamp', async () => {
    const { client, clock, recorder, pod } = await setup();
    for (let i = 0; i < 3; i++) {
      recorder.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
      await recorder.flush();
      await clock.advance(7000);
    }
    assert.deepEqual(client.takeSummary().map((s) => s.replace(/api-0\.[0-9a-f]+/, 'api-0.*')), ['create events web/api-0.*', 'patch events web/api-0.*', 'patch events web/api-0.*']);
    const evs = await describeEvents(client, pod);
    assert.equal(evs.length, 1);
    assert.equal(evs[0].count, 3);
    assert.equal(evs[0].firstTimestamp, '2026-01-02T03:04:05Z');
    assert.equal(evs[0].lastTimestamp, '2026-01-02T03:04:19Z');
  });

  it('puts the events of a cluster-scoped object (a Node) in "default"', async () => {
    const { server, client, recorder } = await setup();
    const node = (await server.create({ object: obj({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } }) })) as KubeObject;
    recorder.event(node, 'Normal', 'NodeNotReady', 'Node node-1 status is now: NodeNotReady');
    await recorder.flush();
    const page = await client.list<Event>('events', { fieldSelector: `involvedObject.kind=Node,involvedObject.name=node-1,involvedObject.uid=${node.metadata?.uid}` });
    assert.equal(page.items.length, 1);
    assert.equal(page.items[0].metadata?.namespace, 'default');
    assert.equal(page.items[0].involvedObject?.namespace, '');
  });

  it('describe finds only the events of that object (same name, other uid excluded)', async () => {
    const { server, client, recorder, pod } = await setup();
    await server.delete({ resource: 'pods', namespace: 'web', name: 'api-0', gracePeriodSeconds: 0 });
    const again = (await server.create({ object: obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'api-0', namespace: 'web' }, spec: { containers: [{ name: 'a', image: 'x' }] } }) })) as KubeObject;
    assert.notEqual(again.metadata?.uid, pod.metadata?.uid);
    recorder.event(pod, 'Normal', 'Killing', 'Stopping container a');
    recorder.event(again, 'Normal', 'Scheduled', 'Successfully assigned web/api-0 to node-1');
    await recorder.flush();
    assert.deepEqual((await describeEvents(client, again)).map((e) => e.reason), ['Scheduled']);
    assert.deepEqual((await describeEvents(client, pod)).map((e) => e.reason), ['Killing']);
  });

  it('combines similar events (same object and reason, 10 distinct messages within 10 minutes)', async () => {
    const { client, clock, recorder, pod } = await setup();
    for (let i = 1; i <= 12; i++) {
      recorder.event(pod, 'Warning', 'FailedMount', `volume v${i} not found`);
      await recorder.flush();
      await clock.advance(1000);
    }
    const evs = (await describeEvents(client, pod)).sort((a, b) => (a.message! < b.message! ? -1 : 1));
    assert.equal(evs.length, 10, 'nine single events and one combined');
    const combined = evs.filter((e) => e.message!.startsWith('(combined from similar events): '));
    assert.equal(combined.length, 1);
    assert.equal(combined[0].message, '(combined from similar events): volume v12 not found');
    assert.equal(combined[0].count, 3);

    // Ten minutes of quiet: the next message is a single event again.
    await clock.advance(601_000);
    recorder.event(pod, 'Warning', 'FailedMount', 'volume v13 not found');
    await recorder.flush();
    const later = await describeEvents(client, pod);
    assert.equal(later.filter((e) => e.message === 'volume v13 not found').length, 1);
  });

  it('rate-limits each object: a burst of 25, then one more per 5 minutes', async () => {
    const registry = new Registry();
    const { client, clock, recorder, pod } = await setup({ registry });
    for (let i = 0; i < 30; i++) recorder.event(pod, 'Normal', `Reason${i}`, 'something happened');
    await recorder.flush();
    assert.equal((await describeEvents(client, pod)).length, 25);
    assert.equal(recorder.skipped, 5);
    await clock.advance(300_000);
    recorder.event(pod, 'Normal', 'Reason30', 'x');
    recorder.event(pod, 'Normal', 'Reason31', 'x');
    await recorder.flush();
    assert.equal((await describeEvents(client, pod)).length, 26);
    assert.match(await registry.metrics(), /event_recorder_writes_total\{component="test-controller",result="skipped"\} 6/);
  });

  it('drops events beyond the queue bound without blocking the caller, and counts them', async () => {
    const registry = new Registry();
    const { client, recorder, pod } = await setup({ queueEvents: 2, maxInFlightWrites: 1, registry });
    for (let i = 0; i < 5; i++) recorder.event(pod, 'Normal', `R${i}`, 'm');
    // The first is already being written; two wait; two are dropped.
    assert.equal(recorder.pending, 2);
    assert.equal(recorder.dropped, 2);
    await recorder.flush();
    assert.deepEqual((await describeEvents(client, pod)).map((e) => e.reason).sort(), ['R0', 'R1', 'R2']);
    assert.match(await registry.metrics(), /event_recorder_dropped_events_total\{component="test-controller"\} 2/);
  });

  it('writes up to maxInFlightWrites events at once, so slow writes do not make it drop events', async () => {
    const { server, clock, pod } = await setup();
    const inner = new RecordingClient(server);
    const gates: Array<() => void> = [];
    const slow: ObjectClient = Object.assign(Object.create(inner) as RecordingClient, {
      create: async <T extends KubeObject>(o: T, opts?: { namespace?: string }) => {
        await new Promise<void>((r) => gates.push(r));
        return inner.create(o, opts);
      },
    });
    const recorder = new ApiEventRecorder({ client: slow, component: 'c', clock, queueEvents: 6, maxInFlightWrites: 4 });
    for (let i = 0; i < 10; i++) recorder.event(pod, 'Normal', `R${i}`, 'm');
    assert.equal(recorder.writing, 4);
    assert.equal(recorder.pending, 6);
    assert.equal(recorder.dropped, 0);
    while (recorder.writing > 0) {
      gates.splice(0).forEach((open) => open());
      await new Promise((r) => setImmediate(r));
    }
    await recorder.flush();
    assert.equal(recorder.dropped, 0);
    assert.equal((await describeEvents(inner, pod)).length, 10);
  });

  it('patches a repeat only after the create of its event has finished', async () => {
    const { server, clock, pod } = await setup();
    const inner = new RecordingClient(server);
    const gates: Array<() => void> = [];
    const calls: string[] = [];
    const gated: ObjectClient = Object.assign(Object.create(inner) as RecordingClient, {
      create: async <T extends KubeObject>(o: T, opts?: { namespace?: string }) => {
        calls.push('create start');
        await new Promise<void>((r) => gates.push(r));
        const out = await inner.create(o, opts);
        calls.push('create done');
        return out;
      },
      patch: async (...args: Parameters<ObjectClient['patch']>) => {
        calls.push('patch');
        return inner.patch(...args);
      },
    });
    const recorder = new ApiEventRecorder({ client: gated, component: 'c', clock });
    recorder.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    recorder.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    recorder.event(pod, 'Normal', 'Pulled', 'pulled');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['create start', 'create start'], 'the other event is written beside it; the repeat waits');
    while (recorder.writing > 0) {
      gates.splice(0).forEach((open) => open());
      await new Promise((r) => setImmediate(r));
    }
    await recorder.flush();
    assert.equal(calls.indexOf('patch') > calls.indexOf('create done'), true, calls.join(', '));
    const backOff = (await describeEvents(inner, pod)).filter((e) => e.reason === 'BackOff');
    assert.equal(backOff.length, 1);
    assert.equal(backOff[0].count, 2);
  });

  it('retries while the API is unavailable, then writes', async () => {
    const { server, clock, pod } = await setup();
    const inner = new RecordingClient(server);
    let failures = 2;
    const flaky: ObjectClient = Object.assign(Object.create(inner) as RecordingClient, {
      create: async <T extends KubeObject>(o: T, opts?: { namespace?: string }) => {
        if (failures-- > 0) throw new ApiError('Unavailable', 'no master answered');
        return inner.create(o, opts);
      },
    });
    const recorder = new ApiEventRecorder({ client: flaky, component: 'c', clock, retryDelayMs: 1000 });
    recorder.event(pod, 'Normal', 'Pulled', 'Container image pulled');
    await clock.advance(999);
    assert.equal((await describeEvents(inner, pod)).length, 0);
    await clock.advance(1001);
    await recorder.flush();
    assert.equal((await describeEvents(inner, pod)).length, 1);
  });

  it('stop() gives up on events it cannot write within stopWaitMs, drops them and counts them', async () => {
    const registry = new Registry();
    const { server, clock, pod } = await setup();
    const inner = new RecordingClient(server);
    // A write that never answers, as to a master that is gone (the call's deadline is far off).
    const stuck: ObjectClient = Object.assign(Object.create(inner) as RecordingClient, {
      create: () => new Promise<never>(() => {}),
    });
    const warnings: string[] = [];
    const recorder = new ApiEventRecorder({ client: stuck, component: 'c', clock, stopWaitMs: 5000, maxInFlightWrites: 1, registry, logger: { warn: (m) => warnings.push(m) } });
    for (let i = 0; i < 4; i++) recorder.event(pod, 'Normal', `R${i}`, 'm');
    let stopped = false;
    const stopping = recorder.stop().then(() => (stopped = true));
    await clock.advance(4999);
    assert.equal(stopped, false, 'stop() waits for the queue up to stopWaitMs');
    await clock.advance(1);
    await stopping;
    assert.equal(recorder.pending, 0);
    assert.equal(recorder.dropped, 3, 'the three behind the stuck write are dropped');
    assert.match(warnings.join('\n'), /stopped with 3 events unwritten after 5000 ms/);
    assert.match(await registry.metrics(), /event_recorder_dropped_events_total\{component="c"\} 3/);
    recorder.event(pod, 'Normal', 'Late', 'm');
    assert.equal(recorder.dropped, 4, 'a stopped recorder takes no more events');
  });

  it('stop() that gives up leaves sent writes to finish and drops the writes still waiting their turn', async () => {
    const { server, clock, pod } = await setup();
    const inner = new RecordingClient(server);
    const gates: Array<() => void> = [];
    let patches = 0;
    const slow: ObjectClient = Object.assign(Object.create(inner) as RecordingClient, {
      create: async <T extends KubeObject>(o: T, opts?: { namespace?: string }) => {
        await new Promise<void>((r) => gates.push(r));
        return inner.create(o, opts);
      },
      patch: async (...args: Parameters<ObjectClient['patch']>) => {
        patches++;
        return inner.patch(...args);
      },
    });
    const warnings: string[] = [];
    const recorder = new ApiEventRecorder({ client: slow, component: 'c', clock, stopWaitMs: 5000, logger: { warn: (m) => warnings.push(m) } });
    recorder.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    recorder.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    recorder.event(pod, 'Normal', 'Pulled', 'pulled');
    assert.equal(recorder.writing, 3, 'two creates sent, the repeat waiting for the first');
    const stopping = recorder.stop();
    await clock.advance(5000);
    await stopping;
    assert.match(warnings.join('\n'), /stopped with 0 events unwritten after 5000 ms; dropped them \(3 writes in flight/);
    while (recorder.writing > 0) {
      gates.splice(0).forEach((open) => open());
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(patches, 0, 'the repeat was not sent after stop() gave up');
    assert.equal(recorder.dropped, 1);
    const evs = await describeEvents(inner, pod);
    assert.deepEqual(evs.map((e) => `${e.reason} ${e.count}`).sort(), ['BackOff 1', 'Pulled 1']);
  });

  it('stop() returns at once when the queue drains in time', async () => {
    const { client, recorder, pod } = await setup();
    recorder.event(pod, 'Normal', 'Pulled', 'pulled');
    await recorder.stop();
    assert.equal(recorder.dropped, 0);
    assert.equal((await describeEvents(client, pod)).length, 1);
  });

  it('writes the event afresh with its count when the one it would patch was deleted', async () => {
    const { server, client, recorder, pod } = await setup();
    recorder.event(pod, 'Normal', 'Pulled', 'pulled');
    await recorder.flush();
    const [first] = await describeEvents(client, pod);
    await server.delete({ resource: 'events', namespace: 'web', name: first.metadata!.name! });
    recorder.event(pod, 'Normal', 'Pulled', 'pulled');
    await recorder.flush();
    const evs = await describeEvents(client, pod);
    assert.equal(evs.length, 1);
    assert.equal(evs[0].count, 2);
  });

  it('never throws at the caller: an object without a name is logged and skipped', async () => {
    const warnings: string[] = [];
    const { recorder } = await setup({ logger: { warn: (m) => warnings.push(m) } });
    recorder.event({ apiVersion: 'v1', kind: 'Pod' } as KubeObject, 'Normal', 'X', 'y');
    await recorder.flush();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /no metadata\.name/);
  });
});
