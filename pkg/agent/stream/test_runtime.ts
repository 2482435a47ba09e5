// A test double for the stream server's tests: the ContainerRuntime calls it needs (containerStatus,
// exec), with "containers" that are entries in a map and exec'd commands that run as real host
// processes, so stdin, stdout, stderr, exit codes and kills are real. Everything else throws.

import { spawn } from 'node:child_process';
import type { ContainerPhase, ContainerRuntime, ContainerState, ExecOptions, ExecSession } from '../runtime/runtime.js';

export class HostExecRuntime implements ContainerRuntime {
  readonly phases = new Map<string, ContainerPhase>();
  readonly resizes: { id: string; cols: number; rows: number }[] = [];
  readonly execs: { id: string; options: ExecOptions }[] = [];
  /** The exec'd commands still running. */
  readonly children = new Set<ReturnType<typeof spawn>>();

  async version(): Promise<string> {
    return 'host-exec-double';
  }
  async containerStatus(id: string): Promise<ContainerState | undefined> {
    const phase = this.phases.get(id);
    if (!phase) return undefined;
    return { id, podUid: '', containerName: '', attempt: 0, image: '', imageDigest: '', phase, labels: {}, createdAtMs: 0, logPath: '' };
  }
  async exec(id: string, options: ExecOptions): Promise<ExecSession> {
    if (this.phases.get(id) !== 'running') throw new Error(`Cannot exec in container ${id}: it is not running`);
    this.execs.push({ id, options });
    const child = spawn(options.argv[0], options.argv.slice(1), { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    const exit = new Promise<number>((resolve) => {
      child.on('error', () => resolve(126));
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1)));
    }).finally(() => this.children.delete(child));
    const resizes = this.resizes;
    return {
      stdin: child.stdin ?? undefined,
      stdout: child.stdout!,
      stderr: child.stderr!,
      async resize(cols, rows) {
        resizes.push({ id, cols, rows });
      },
      exit,
      async kill() {
        child.kill('SIGKILL');
      },
    };
  }
  async close(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
  }
  subscribe(): () => void {
    return () => {};
  }
  pullImage(): never {
    throw new Error('not in this double');
  }
  imageStatus(): never {
    throw new Error('not in this double');
  }
  importImage(): never {
    throw new Error('not in this double');
  }
  createContainer(): never {
    throw new Error('not in this double');
  }
  startContainer(): never {
    throw new Error('not in this double');
  }
  signalContainer(): never {
    throw new Error('not in this double');
  }
  removeContainer(): never {
    throw new Error('not in this double');
  }
  listContainers(): never {
    throw new Error('not in this double');
  }
  stats(): never {
    throw new Error('not in this double');
  }
}
