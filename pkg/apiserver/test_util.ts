// Shorthands for the API core's tests: a server over an in-process Store written through
// StoreStateMachine (the replicated path without Raft), a fixed clock, and object builders.

import { decodeObject } from '../api/convert/object.js';
import type { KubeObject } from '../api/registry.js';
import { Store, type StoreOptions } from '../store/mod.js';
import { ApiServer } from './api_server.js';
import { StoreBackend } from './backend.js';
import type { ApiServerOptions } from './context.js';

export interface TestServer {
  server: ApiServer;
  store: Store;
  clock: { nowMs: number };
}

export async function testServer(options: { store?: StoreOptions; namespaces?: string[] } & Partial<ApiServerOptions> = {}): Promise<TestServer> {
  const { store: storeOptions, namespaces = ['default'], ...rest } = options;
  const store = new Store(storeOptions);
  const clock = { nowMs: Date.UTC(2026, 0, 2, 3, 4, 5) };
  let uid = 0;
  const server = new ApiServer({
    backend: new StoreBackend(store, { nowMs: () => clock.nowMs }),
    nowMs: () => clock.nowMs,
    newUid: () => `uid-${++uid}`,
    randomSuffix: () => 'x7k2q',
    ...rest,
  });
  for (const name of namespaces) await server.create({ object: obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }) });
  return { server, store, clock };
}

/** A typed object from Kubernetes JSON (throws on unknown fields, like a manifest would). */
export function obj<T extends KubeObject = KubeObject>(json: Record<string, unknown>): T {
  return decodeObject(json).object as T;
}

export function pod(name: string, options: { namespace?: string; labels?: Record<string, string>; nodeName?: string; finalizers?: string[] } = {}): KubeObject {
  return obj({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: options.namespace ?? 'default', labels: options.labels ?? {}, finalizers: options.finalizers ?? [] },
    spec: { containers: [{ name: 'app', image: 'nginx:1.25' }], ...(options.nodeName ? { nodeName: options.nodeName } : {}) },
  });
}

export function deployment(name: string, extra: { replicas?: number; containers?: unknown[] } = {}): KubeObject {
  return obj({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: extra.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: extra.containers ?? [
            { name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
            { name: 'sidecar', image: 'busybox:1.36' },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
        },
      },
    },
  });
}

/** Collects the next n events of an async iterator, failing after deadlineMs instead of hanging. */
export async function take<T>(it: AsyncIterator<T>, n: number, deadlineMs = 5000): Promise<T[]> {
  const out: T[] = [];
  const deadline = Date.now() + deadlineMs;
  while (out.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out waiting for event ${out.length + 1} of ${n}`)), Math.max(1, deadline - Date.now()));
    });
    try {
      const r = await Promise.race([it.next(), timeout]);
      if (r.done) break;
      out.push(r.value);
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}
