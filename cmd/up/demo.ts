// The demo `navarch up` runs once the masters agree on a leader: a namespace, a ConfigMap, a
// Deployment and a Service written through pkg/client, read back from every master's own copy
// (serializable reads on each member's endpoint), and a watch that sees an update. On a cluster
// brought back from its data, the objects are already there and the demo says so.

import { type Decoded, decodeObject } from '../../pkg/api/convert/object.js';
import { formatIntOrString } from '../../pkg/api/int_or_string.js';
import type { ConfigMap, Deployment, KubeObject, Pod, Service } from '../../pkg/api/registry.js';
import { ApiError, NavarchClient } from '../../pkg/client/mod.js';
import type { MasterRecord } from './cluster_file.js';

export const DEMO_NAMESPACE = 'demo';
export const DEMO_IMAGE = '127.0.0.1:5000/navarch/busybox:latest';

/** The demo's objects, written as a user would write a manifest (Kubernetes JSON): namespace, ConfigMap, Deployment, Service. */
export function demoManifests(): Decoded[] {
  const labels = { app: 'web' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEMO_NAMESPACE } },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'web-content', namespace: DEMO_NAMESPACE, labels },
      data: { 'index.html': '<h1>Hello from Navarch</h1>\n' },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: DEMO_NAMESPACE, labels },
      spec: {
        replicas: 3,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: 'httpd',
                image: DEMO_IMAGE,
                command: ['httpd', '-f', '-p', '8080'],
                // httpd serves its working directory: the ConfigMap's files.
                workingDir: '/www',
                ports: [{ name: 'http', containerPort: 8080 }],
                volumeMounts: [{ name: 'content', mountPath: '/www', readOnly: true }],
              },
            ],
            volumes: [{ name: 'content', configMap: { name: 'web-content' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: DEMO_NAMESPACE, labels },
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    },
  ].map((json) => decodeObject(json));
}

/** Reads one demo object back (as given by demoManifests) through client. */
export function getDemoObject(client: NavarchClient, d: Decoded, o: { serializable?: boolean } = {}): Promise<KubeObject> {
  return client.get(d.info.resource, d.object.metadata?.namespace, d.object.metadata!.name!, o);
}

const rvOf = (o: KubeObject): number => Number(o.metadata?.resourceVersion ?? 0);

/** Creates the object, or reads it back when an earlier run made it. */
async function ensure(client: NavarchClient, d: Decoded): Promise<{ object: KubeObject; created: boolean }> {
  try {
    return { object: await client.create(d.object), created: true };
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== 'AlreadyExists') throw e;
    return { object: await getDemoObject(client, d), created: false };
  }
}

/** Serializable reads on one member until it has applied revision `atLeast` (followers trail the leader briefly). */
async function readLocally(m: MasterRecord, atLeast: number, timeoutMs: number): Promise<KubeObject[]> {
  const client = new NavarchClient({ endpoints: [m.client], retryDeadlineMs: timeoutMs });
  const deadline = performance.now() + timeoutMs;
  try {
    for (;;) {
      const objects = await Promise.all(demoManifests().map((d) => getDemoObject(client, d, { serializable: true }).catch((e: unknown) => e as Error)));
      const ok = objects.every((o): o is KubeObject => !(o instanceof Error));
      if (ok && Math.max(...objects.map(rvOf)) >= atLeast) return objects;
      if (performance.now() > deadline) {
        const err = objects.find((o) => o instanceof Error);
        throw new Error(`${m.name} (${m.client}) has not applied revision ${atLeast} within ${timeoutMs} ms${err ? `: ${(err as Error).message}` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    client.close();
  }
}

function describeLocal(objects: KubeObject[]): string {
  const deployment = objects[2] as Deployment;
  const service = objects[3] as Service;
  const port = service.spec?.ports?.[0];
  const keys = Object.keys((objects[1] as ConfigMap).data ?? {}).length;
  return [
    `namespace/${objects[0].metadata?.name}`,
    `configmap/${objects[1].metadata?.name} (${keys} ${keys === 1 ? 'key' : 'keys'})`,
    `deployment/${deployment.metadata?.name} (${deployment.spec?.replicas} replicas of ${deployment.spec?.template?.spec?.containers?.[0]?.image})`,
    `service/${service.metadata?.name} (port ${port?.port} -> ${formatIntOrString(port?.targetPort)})`,
  ].join(', ');
}

/** A watch on `watcher`'s endpoint sees the update the demo then writes (through any master). */
async function showWatch(masters: MasterRecord[], watcher: MasterRecord, client: NavarchClient, out: (line: string) => void, timeoutMs: number): Promise<void> {
  // From the list's revision (the store's, now), as informers do: the ConfigMap's own revision is
  // compacted away once a cluster brought back from its data has run for a while.
  const current = await client.list<ConfigMap>('configmaps', { namespace: DEMO_NAMESPACE });
  const watchClient = new NavarchClient({ endpoints: [watcher.client, ...masters.filter((m) => m !== watcher).map((m) => m.client)] });
  const w = watchClient.watch<ConfigMap>('configmaps', { namespace: DEMO_NAMESPACE, resourceVersion: current.resourceVersion });
  const it = w[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  try {
    const next = it.next();
    const upAt = new Date().toISOString();
    const t0 = performance.now();
    await client.patch('configmaps', DEMO_NAMESPACE, 'web-content', 'merge', { data: { 'last-up': upAt } });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`The watch on ${watcher.name} saw no event within ${timeoutMs} ms of the update`)), timeoutMs);
    });
    for (let r = await Promise.race([next, timeout]); ; r = await Promise.race([it.next(), timeout])) {
      if (r.done) throw new Error(`The watch on ${watcher.name} ended before the update arrived`);
      if (r.value.type === 'BOOKMARK') continue;
      const ms = (performance.now() - t0).toFixed(0);
      out(`  watch on ${watcher.name}: ${r.value.type} configmap/${r.value.object.metadata?.name} at revision ${r.value.object.metadata?.resourceVersion}, last-up=${r.value.object.data?.['last-up']} (${ms} ms after the write)`);
      return;
    }
  } finally {
    clearTimeout(timer);
    w.close();
    watchClient.close();
  }
}

/** Runs the demo against the recorded masters; `leaderId` labels the leader in the output. */
export async function runDemo(masters: MasterRecord[], leaderId: number, out: (line: string) => void, o: { pods?: boolean; timeoutMs?: number } = {}): Promise<void> {
  const timeoutMs = o.timeoutMs ?? 15_000;
  const client = new NavarchClient({ endpoints: masters.map((m) => m.client) });
  try {
    out('demo: objects written through pkg/client (navctl uses the same client)');
    let latest = 0;
    for (const d of demoManifests()) {
      const { object, created } = await ensure(client, d);
      latest = Math.max(latest, rvOf(object));
      const ns = object.metadata?.namespace ? `${object.metadata.namespace}/` : '';
      out(`  ${d.info.singular} ${ns}${object.metadata?.name}: ${created ? 'created' : 'already there, kept from the previous run with its data'} (revision ${object.metadata?.resourceVersion})`);
    }
    out(`demo: each master reads its own replica (serializable reads on its endpoint):`);
    const width = Math.max(...masters.map((m) => m.name.length));
    for (const m of masters) {
      const objects = await readLocally(m, latest, timeoutMs);
      out(`  ${m.name.padEnd(width)} ${(m.id === leaderId ? 'leader' : 'follower').padEnd(8)} ${m.client}: ${describeLocal(objects)}`);
    }
    const watcher = masters.find((m) => m.id !== leaderId) ?? masters[0];
    out(`demo: a watch on ${watcher.name} (${watcher.id === leaderId ? 'the leader' : 'a follower'}) while the ConfigMap is updated:`);
    await showWatch(masters, watcher, client, out, timeoutMs);
    if (o.pods) await showPods(client, out, 120_000);
  } finally {
    client.close();
  }
}

/** GET http://<pod IP>:8080/ -> "200 <first line>"; throws when the pod does not answer. */
async function askPod(p: Pod): Promise<string> {
  const res = await fetch(`http://${p.status!.podIP}:8080/`, { signal: AbortSignal.timeout(5_000) });
  return `${res.status} ${(await res.text()).trim().split('\n')[0]}`;
}

/**
 * Waits until the Deployment's pods run with their IPs and each answers over HTTP. The answers are
 * part of the wait: a cluster brought back from its data shows the pods' last status (Running, the
 * old IPs) until the restarted agent has started them again.
 */
async function showPods(client: NavarchClient, out: (line: string) => void, timeoutMs: number): Promise<void> {
  out('demo: the Deployment\'s 3 pods, scheduled onto this machine\'s node and run by its agent through containerd:');
  const t0 = performance.now();
  for (;;) {
    const deployment = await client.get<Deployment>('deployments', DEMO_NAMESPACE, 'web');
    const list = await client.list<Pod>('pods', { namespace: DEMO_NAMESPACE, labelSelector: 'app=web' });
    const pods = list.items.filter((p) => !p.metadata?.deletionTimestamp).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    const ready = pods.filter((p) => p.status?.phase === 'Running' && p.status.podIP && p.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));
    let problem: string | undefined;
    if (ready.length !== (deployment.spec?.replicas ?? 3) || ready.length !== pods.length) {
      problem = `not all Running and Ready: ${pods.map((p) => `${p.metadata?.name}: ${p.status?.phase ?? 'no status'}${p.status?.containerStatuses[0]?.state?.waiting ? ` (${p.status.containerStatuses[0].state.waiting.reason})` : ''}`).join(', ') || 'none yet'}`;
    } else {
      const answers = await Promise.all(ready.map((p) => askPod(p).catch((e: Error) => e)));
      const failed = answers.findIndex((a) => a instanceof Error);
      if (failed < 0) {
        out(`  all Running, Ready and answering ${((performance.now() - t0) / 1000).toFixed(1)} s after the check began`);
        ready.forEach((p, i) => out(`  ${p.metadata?.name}  ${p.status!.podIP}  node ${p.spec?.nodeName}  GET http://${p.status!.podIP}:8080/ -> ${answers[i] as string}`));
        return;
      }
      problem = `pod ${ready[failed].metadata?.name} at http://${ready[failed].status!.podIP}:8080/ did not answer: ${(answers[failed] as Error).message}`;
    }
    if (performance.now() - t0 > timeoutMs) throw new Error(`The demo's pods are not serving after ${timeoutMs / 1000} s: ${problem}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
