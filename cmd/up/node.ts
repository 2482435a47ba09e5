// The worker side of `navarch up`: the local cluster's own containerd (D/containerd), the local
// registry on 127.0.0.1:5000 with the busybox image pushed to it (D/registry, D/images), and one
// detached `navarch agent` for this machine (D/agent, log D/agent.log). `navarch down` stops them in
// the reverse order: the agent (which removes its pods' containers and networks), containerd, the
// registry if `up` started it.

import { existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../raft/transport/free_port.js';
import { isOurContainerd, localContainerdPaths, startLocalContainerd, stopLocalContainerd } from '../../pkg/localcluster/containerd.js';
import { ROOT, spawnLogged } from '../../pkg/localcluster/process.js';
import { DEFAULT_REGISTRY_ADDRESS, stopLocalRegistry } from '../../pkg/registry/local_registry.js';
import { runImages } from '../images.js';
import { isOurAgent, type NodeRecord } from './cluster_file.js';
import { stopMasters } from './down.js';
import { waitForReadyLine } from './ready_line.js';

type Out = (line: string) => void;

/** The host name as a Node name (lowercase, only letters, digits, "-" and "."). */
export function localNodeName(): string {
  const name = hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return name || 'node-1';
}

/** Starts (or reuses, after a crash of `up`) containerd, the registry with the image, and the agent. */
export async function startNode(dir: string, server: string, previous: NodeRecord | undefined, out: Out): Promise<NodeRecord> {
  const started: { containerdPid?: number } = {};
  try {
    return await startNodeParts(dir, server, previous, out, started);
  } catch (e) {
    // Nothing records a containerd this call started when the rest failed: stop it here.
    if (started.containerdPid !== undefined && (await stopLocalContainerd(started.containerdPid, join(dir, 'containerd')))) out(`stopped containerd (pid ${started.containerdPid})`);
    throw e;
  }
}

async function startNodeParts(dir: string, server: string, previous: NodeRecord | undefined, out: Out, started: { containerdPid?: number }): Promise<NodeRecord> {
  const containerdDir = join(dir, 'containerd');
  let containerdPid: number;
  if (previous && isOurContainerd(previous.containerdPid, containerdDir)) {
    containerdPid = previous.containerdPid;
    out(`containerd (pid ${containerdPid}) still runs from the previous run: using it`);
  } else {
    const c = await startLocalContainerd(containerdDir);
    containerdPid = c.pid;
    started.containerdPid = c.pid;
    out(`started containerd (pid ${c.pid}, socket ${c.socketPath}, log ${c.log})`);
  }
  await runImages({ dir, registry: DEFAULT_REGISTRY_ADDRESS, push: true }, (l) => out(`  ${l}`));
  const agentDataDir = join(dir, 'agent');
  const log = join(dir, 'agent.log');
  const nodeName = localNodeName();
  if (previous && isOurAgent(previous.agentPid, agentDataDir)) await stopAgent(previous, out);
  const logOffset = existsSync(log) ? statSync(log).size : 0;
  const streamPort = await freePort();
  const child = spawnLogged(
    [
      '--import', 'tsx', join(ROOT, 'cmd/navarch.ts'), 'agent',
      '--server', server,
      '--node-name', nodeName,
      '--data-dir', agentDataDir,
      '--containerd-socket', localContainerdPaths(containerdDir).socketPath,
      '--stream-port', String(streamPort),
      '--stop-pods-on-exit',
    ],
    log,
    true,
    { jemalloc: false },
  );
  if (child.pid === undefined) throw new Error(`Cannot start navarch agent (see ${log})`);
  const record: NodeRecord = { nodeName, agentPid: child.pid, agentDataDir, agentLog: log, containerdPid, containerdDir };
  out(`starting the agent for node ${nodeName} (pid ${child.pid}, log ${log})`);
  await waitForReadyLine({
    who: `navarch agent (pid ${record.agentPid})`,
    doing: 'starting',
    goal: `register node ${nodeName} and get ready`,
    log,
    logOffset,
    ready: `agent: node ${nodeName} ready`,
    alive: () => isOurAgent(record.agentPid, agentDataDir),
    timeoutMs: 90_000,
  });
  return record;
}

function stopAgent(n: NodeRecord, out: Out): Promise<number> {
  // SIGTERM: the agent removes its pods' containers and networks before it exits.
  return stopMasters([{ name: 'agent', pid: n.agentPid, dataDir: n.agentDataDir }], out, { termTimeoutMs: 60_000, ours: () => isOurAgent(n.agentPid, n.agentDataDir), count: () => `the agent of node ${n.nodeName}` });
}

/** Stops the agent, then containerd, then the registry `up` started (a registry that was already running stays). */
export async function stopNode(dir: string, n: NodeRecord, out: Out): Promise<void> {
  await stopAgent(n, out);
  if (await stopLocalContainerd(n.containerdPid, n.containerdDir)) out(`  containerd (pid ${n.containerdPid}) stopped`);
  if (await stopLocalRegistry(join(dir, 'registry'))) out('  the local registry stopped');
}
