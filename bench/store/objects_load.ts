// The object API (navarch.apiserver.v1.Objects, Navarch only): Pod creates at a fixed number in
// flight, then listing all of them page by page, and the masters' memory afterwards.

import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { encodeBinary } from '../../pkg/api/convert/binary.js';
import { decodeObject } from '../../pkg/api/convert/object.js';
import type { KubeObject } from '../../pkg/api/registry.js';
import { ObjectsClient, type ListResponse, type ObjectResponse } from '../../gen/navarch/apiserver/v1/objects.js';
import { rssMiB } from './rss.js';
import { type LatencySummary, summarize } from './stats.js';

export interface PodCreateResult extends LatencySummary {
  pods: number;
  inflight: number;
  createsPerSecond: number;
  errors: number;
  firstError: string | undefined;
  /** Size of one stored pod (defaults applied), protobuf bytes. */
  storedPodBytes: number;
  elapsedS: number;
}

export interface PodListResult {
  member: number;
  items: number;
  pages: number;
  totalMs: number;
  page: LatencySummary;
}

export interface ObjectsResult {
  create: PodCreateResult;
  list: PodListResult[];
  listLimit: number;
  /** VmRSS of each master after the creates, and after the lists. */
  rssAfterCreateMiB: number[];
  rssAfterListMiB: number[];
}

const NAMESPACE = 'bench';
const REQUEST_TIMEOUT_MS = 30_000;
const PROGRESS_EVERY_MS = 15_000;

function rpc<Res>(f: (md: Metadata, opts: { deadline: Date }, cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => f(new Metadata(), { deadline: new Date(Date.now() + REQUEST_TIMEOUT_MS) }, (err, res) => (err ? reject(err) : resolve(res))));
}

/** A pod as a Deployment would stamp it: one container with an image, ports, resources and probes-free labels. */
function podTemplate(): KubeObject {
  return decodeObject({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-0',
      namespace: NAMESPACE,
      labels: { app: 'web', tier: 'frontend', release: 'stable', 'pod-template-hash': '7c9f8d6b5' },
      annotations: { 'navarch.io/created-by': 'bench-store' },
    },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'registry.example.com/team/web:1.4.2',
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: [{ name: 'LOG_LEVEL', value: 'info' }],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
        },
      ],
      restartPolicy: 'Always',
    },
  }).object;
}

export async function runObjects(o: {
  endpoints: string[];
  pids: () => Array<number | undefined>;
  pods: number;
  inflight: number;
  listLimit: number;
  log: (line: string) => void;
}): Promise<ObjectsResult> {
  const clients = o.endpoints.map((e) => new ObjectsClient(e, credentials.createInsecure(), { 'grpc.max_receive_message_length': 256 * 1024 * 1024 }));
  try {
    const ns = decodeObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } }).object;
    await rpc<ObjectResponse>((md, opts, cb) => clients[0].create({ resource: '', namespace: '', object: Buffer.from(encodeBinary(ns)), dryRun: false, subresource: '', name: '' }, md, opts, cb));
    const create = await createPods(clients, o);
    const rssAfterCreateMiB = o.pids().map(rssMiB);
    o.log(`RSS after the creates: ${rssAfterCreateMiB.map((r) => `${r.toFixed(0)} MiB`).join(', ')}`);
    const list: PodListResult[] = [];
    for (let i = 0; i < clients.length; i++) {
      const r = await listPods(clients[i], i + 1, o.listLimit);
      o.log(`list from master ${i + 1}: ${r.items} pods in ${r.pages} pages of ${o.listLimit}, ${(r.totalMs / 1000).toFixed(2)} s, page p99 ${r.page.p99Ms.toFixed(1)} ms`);
      list.push(r);
    }
    return { create, list, listLimit: o.listLimit, rssAfterCreateMiB, rssAfterListMiB: o.pids().map(rssMiB) };
  } finally {
    for (const c of clients) c.close();
  }
}

async function createPods(clients: ObjectsClient[], o: { pods: number; inflight: number; log: (line: string) => void }): Promise<PodCreateResult> {
  const template = podTemplate();
  const lat: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let storedPodBytes = 0;
  let next = 0;
  const start = performance.now();
  let lastLog = start;
  const worker = async (): Promise<void> => {
    while (next < o.pods) {
      const i = next++;
      template.metadata!.name = `web-${i}`;
      const object = Buffer.from(encodeBinary(template));
      const c = clients[i % clients.length];
      const t0 = performance.now();
      try {
        const res = await rpc<ObjectResponse>((md, opts, cb) => c.create({ resource: 'pods', namespace: NAMESPACE, object, dryRun: false, subresource: '', name: '' }, md, opts, cb));
        const now = performance.now();
        lat.push(now - t0);
        if (storedPodBytes === 0) storedPodBytes = res.object.length;
        if (now - lastLog > PROGRESS_EVERY_MS) {
          lastLog = now;
          o.log(`created ${lat.length} pods, ${(lat.length / ((now - start) / 1000)).toFixed(0)}/s so far`);
        }
      } catch (e) {
        errors++;
        firstError ??= (e as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: o.inflight }, () => worker()));
  const elapsedS = (performance.now() - start) / 1000;
  const r: PodCreateResult = { pods: o.pods, inflight: o.inflight, createsPerSecond: lat.length / elapsedS, errors, firstError, storedPodBytes, elapsedS, ...summarize(lat) };
  o.log(`created ${lat.length} pods in ${elapsedS.toFixed(1)} s: ${r.createsPerSecond.toFixed(0)}/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms${errors ? `, ${errors} errors (first: ${firstError})` : ''}`);
  return r;
}

/** Lists every pod in the namespace, linearizably, page by page (the continue token pins the revision). */
async function listPods(c: ObjectsClient, member: number, limit: number): Promise<PodListResult> {
  const pageMs: number[] = [];
  let items = 0;
  let cont = '';
  const start = performance.now();
  do {
    const t0 = performance.now();
    const res = await rpc<ListResponse>((md, opts, cb) =>
      c.list({ resource: 'pods', namespace: NAMESPACE, labelSelector: '', fieldSelector: '', limit, continue: cont, resourceVersion: '', serializable: false }, md, opts, cb),
    );
    pageMs.push(performance.now() - t0);
    items += res.items.length;
    cont = res.continue;
  } while (cont !== '');
  return { member, items, pages: pageMs.length, totalMs: performance.now() - start, page: summarize(pageMs) };
}
