// For the tests of logs and exec through the masters: one real master member, an agent stream server
// on 127.0.0.1 registered on Node "node-1", and a helper that puts a pod on that node with running
// containers whose logs are real files and whose exec'd commands are real host processes.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../../api/registry.js';
import type { ContainerLookup } from '../../agent/stream/lookup.js';
import { startStreamServer, type StreamServer } from '../../agent/stream/server.js';
import { HostExecRuntime } from '../../agent/stream/test_runtime.js';
import { isApiError, NavarchClient } from '../../client/mod.js';
import { freePort } from '../../localcluster/kv_cluster.js';
import { until } from '../../localcluster/until.js';
import { startMasterMember, type MasterMember } from '../../master/member.js';
import { realClock } from '../../../raft/node/ports.js';
import { obj } from '../test_util.js';

export interface StreamsFixture {
  member: MasterMember;
  client: NavarchClient;
  runtime: HostExecRuntime;
  agent: StreamServer;
  /** Creates a pod; with a node it is bound there, Running, its containers running with ids "<pod>-<container>". */
  addPod(name: string, containers: string[], o?: { node?: boolean; restartCount?: number; running?: string[] }): Promise<Pod>;
  /** Writes <podsDir>/default_<pod>_<uid>/<container>/<attempt>.log; returns its path. */
  writeLog(pod: Pod, container: string, attempt: number, text: string): string;
  [Symbol.asyncDispose](): Promise<void>;
}

const statusOf = (json: Record<string, unknown>): Pod['status'] => obj<Pod>({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, status: json }).status;

export async function streamsFixture(): Promise<StreamsFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-pod-streams-'));
  const podsDir = join(dir, 'pods');
  const runtime = new HostExecRuntime();
  const pods = new Map<string, { uid: string; containers: string[] }>();
  const lookup: ContainerLookup = (r) => {
    const p = pods.get(`${r.namespace}/${r.name}`);
    if (!p || (r.uid && r.uid !== p.uid) || !p.containers.includes(r.container)) return undefined;
    return { logDir: join(podsDir, `${r.namespace}_${r.name}_${p.uid}`, r.container), containerId: `${r.name}-${r.container}` };
  };
  const member = await startMasterMember({ id: 1, dataDir: join(dir, 'master'), peers: [{ id: 1, address: `127.0.0.1:${await freePort()}` }], clientAddresses: new Map(), listenClient: '127.0.0.1:0', tickMs: 20 });
  const client = new NavarchClient({ endpoints: [member.clientAddress] });
  const agent = await startStreamServer('127.0.0.1:0', { runtime, lookup, clock: realClock, pollIntervalMs: 50 });
  const dispose = async (): Promise<void> => {
    client.close();
    await agent.stop();
    await runtime.close();
    await member.stop({ transferLeadership: false });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until('namespace default', async () => {
      try {
        await client.create(obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }));
      } catch (e) {
        if (!isApiError(e, 'AlreadyExists')) throw e;
      }
      return true;
    }, 20_000);
    await client.create(
      obj({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: agent.port } } } }),
    );
  } catch (e) {
    await dispose();
    throw e;
  }
  return {
    member,
    client,
    runtime,
    agent,
    async addPod(name, containers, o = {}) {
      const node = o.node ?? true;
      const created = await client.create(
        obj<Pod>({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: 'default' },
          spec: { ...(node ? { nodeName: 'node-1' } : {}), containers: containers.map((c) => ({ name: c, image: '127.0.0.1:5000/navarch/busybox:latest' })) },
        }),
      );
      if (!node) return created;
      const running = o.running ?? containers;
      const containerStatuses = containers.map((c) => ({
        name: c,
        restartCount: o.restartCount ?? 0,
        containerID: `navarch://${name}-${c}`,
        state: running.includes(c) ? { running: { startedAt: '2026-12-02T12:00:00Z' } } : { terminated: { exitCode: 0, reason: 'Completed' } },
      }));
      pods.set(`default/${name}`, { uid: created.metadata!.uid!, containers });
      for (const c of containers) runtime.phases.set(`${name}-${c}`, running.includes(c) ? 'running' : 'exited');
      return client.updateStatus({ ...created, status: statusOf({ phase: 'Running', containerStatuses }) });
    },
    writeLog(pod, container, attempt, text) {
      const logDir = join(podsDir, `default_${pod.metadata!.name}_${pod.metadata!.uid}`, container);
      mkdirSync(logDir, { recursive: true });
      const path = join(logDir, `${attempt}.log`);
      writeFileSync(path, text);
      return path;
    },
    [Symbol.asyncDispose]: dispose,
  };
}
