// A `navarch agent` child process for e2e tests and benchmarks, with everything it needs of its own:
// a private containerd (the caller's), a unique bridge, netns dir, cgroup parent, runc root and
// containerd namespace under one directory, so that it never meets the machine's or another
// test's. cleanup() undoes all of it (containers, network namespaces, bridge, cgroups), also after
// the agent was killed.

import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../raft/transport/free_port.js';
import { ContainerdRuntime } from '../agent/runtime/containerd/containerd_runtime.js';
import { ROOT, isAlive, killAndWait, spawnLogged } from './process.js';
import { until } from './until.js';

const run = promisify(execFile);

export interface AgentProcessOptions {
  /** Everything of the agent's goes under it (data, netns, FIFOs, runc state, its log). */
  dir: string;
  /** The masters' client addresses, comma-separated. */
  server: string;
  containerdSocket: string;
  nodeName: string;
  /** Node options (e.g. --expose-gc) before the entry point. */
  nodeArgs?: string[];
}

/** A /24 of 198.18.128.0/17 that no route on this machine uses (other tests and clusters pick there too). */
export async function unusedPodCIDR(): Promise<string> {
  const routes = (await run('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout;
  const start = randomBytes(1)[0]! % 127;
  for (let i = 0; i < 127; i++) {
    const n = 128 + ((start + i) % 127);
    if (!routes.includes(`198.18.${n}.`)) return `198.18.${n}.0/24`;
  }
  throw new Error('No free /24 in 198.18.128.0/17');
}

/** Mount points strictly under dir, deepest first. */
export function mountsUnder(dir: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((p): p is string => !!p && p.startsWith(`${dir}/`));
  return points.sort((a, b) => b.length - a.length);
}

/** rmdir a cgroup parent in every v1 hierarchy, children first; busy ones stay. */
export function removeCgroup(parent: string): void {
  if (!existsSync('/sys/fs/cgroup')) return;
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const top = join('/sys/fs/cgroup', h, parent);
    if (!existsSync(top)) continue;
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
      try {
        rmdirSync(d);
      } catch {
        /* still has processes */
      }
    };
    walk(top);
  }
}

export class AgentProcess {
  readonly tag = randomBytes(3).toString('hex');
  readonly bridge = `nva${this.tag}`;
  readonly containerdNamespace = `navarch-agent-${this.tag}`;
  readonly cgroupParent = `/navarch-agent-${this.tag}`;
  readonly logFile: string;
  readonly runtimeStateDir: string;
  readonly runcRoot: string;
  child: ChildProcess | undefined;
  private streamPort = 0;
  private runtime: ContainerdRuntime | undefined;

  constructor(readonly o: AgentProcessOptions) {
    this.logFile = join(o.dir, 'agent.log');
    this.runtimeStateDir = join(o.dir, 'runtime-state');
    this.runcRoot = join(o.dir, 'runc');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The runtime the agent uses (same socket, namespace, state dir), for counting its containers. */
  async connectRuntime(): Promise<ContainerdRuntime> {
    this.runtime ??= await ContainerdRuntime.connect({ socketPath: this.o.containerdSocket, namespace: this.containerdNamespace, stateDir: this.runtimeStateDir, cgroupParent: this.cgroupParent, runcRoot: this.runcRoot });
    return this.runtime;
  }

  private readyLines(): number {
    if (!existsSync(this.logFile)) return 0;
    return readFileSync(this.logFile, 'utf8').split('\n').filter((l) => l === `agent: node ${this.o.nodeName} ready`).length;
  }

  /** Starts the agent (again, on the same data and stream port) and waits for it to say it is ready. */
  async start(timeoutMs = 90_000): Promise<void> {
    if (isAlive(this.child)) throw new Error(`The agent ${this.o.nodeName} is already running (pid ${this.child?.pid})`);
    this.streamPort ||= await freePort();
    const before = this.readyLines();
    const d = this.o.dir;
    const args = [...(this.o.nodeArgs ?? []), '--import', 'tsx', join(ROOT, 'cmd/navarch.ts'), 'agent', '--server', this.o.server, '--node-name', this.o.nodeName, '--node-ip', '127.0.0.1'];
    args.push('--data-dir', join(d, 'data'), '--containerd-socket', this.o.containerdSocket, '--containerd-namespace', this.containerdNamespace, '--stream-port', String(this.streamPort));
    args.push('--bridge', this.bridge, '--netns-dir', join(d, 'netns'), '--runtime-state-dir', this.runtimeStateDir, '--cgroup-parent', this.cgroupParent, '--runc-root', this.runcRoot);
    const child = spawnLogged(args, this.logFile, false, { jemalloc: false });
    this.child = child;
    const tail = (): string => (existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').slice(-3000) : '');
    try {
      await until(`the agent ${this.o.nodeName} to say it is ready`, () => {
        if (!isAlive(child)) throw new Error(`The agent exited (${child.exitCode ?? child.signalCode})`);
        return this.readyLines() > before;
      }, timeoutMs, 100);
    } catch (e) {
      // The log goes with the caller's temp dir: what it said travels in the error.
      throw new Error(`${(e as Error).message}; the end of ${this.logFile}:\n${tail()}`, { cause: e });
    }
  }

  /** Sends a signal and waits for the process to end; its pods keep running. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const code = await killAndWait(this.child, signal);
    this.child = undefined;
    return code;
  }

  /** Stops the agent, then removes its containers, pod network namespaces, bridge and cgroups. */
  async cleanup(): Promise<void> {
    await this.kill('SIGKILL').catch(() => undefined);
    const rt = await this.connectRuntime().catch(() => undefined);
    if (rt) {
      for (const s of await rt.listContainers().catch(() => [])) await rt.removeContainer(s.id).catch((e: Error) => console.error(`agent cleanup: ${e.message}`));
      await rt.close().catch(() => undefined);
      this.runtime = undefined;
    }
    for (const m of mountsUnder(this.o.dir)) await run('umount', ['-l', m]).catch(() => undefined);
    await run('ip', ['link', 'del', this.bridge]).catch(() => undefined);
    removeCgroup(this.cgroupParent);
  }
}
