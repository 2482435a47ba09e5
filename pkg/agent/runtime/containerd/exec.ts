// A command run inside a running container (Tasks.Exec) with its stdio on FIFOs, a TTY if asked,
// and its exit code from Tasks.Wait; its FIFOs and process record are removed when it ends.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import type { ExecOptions, ExecSession } from '../runtime.js';
import { ContainerdError, isNotFound, type ContainerdClient } from './client.js';
import { FifoReader, makeFifos, type FifoPool, openFifoWriter, removeFifos } from './io.js';
import { buildProcess, PROCESS_TYPE_URL, type OciProcess } from './spec.js';

const SIGKILL = 9;

export async function execInContainer(client: ContainerdClient, id: string, fifoRoot: string, pool: FifoPool, options: ExecOptions): Promise<ExecSession> {
  if (options.argv.length === 0) throw new TypeError(`Cannot exec in ${id}: argv is empty`);
  const c = client.containers;
  const t = client.tasks;
  const container = await client.unary('Containers.Get', c.get.bind(c), { id });
  const task = await client.unary('Tasks.Get', t.get.bind(t), { containerId: id, execId: '' });
  if (task.process?.status !== 2 /* RUNNING */) throw new ContainerdError(`Cannot exec in ${id}: the container is not running`, status.FAILED_PRECONDITION);
  // The container's own process settings (env, cwd, user, capabilities), with this argv.
  const spec = JSON.parse(container.container?.spec?.value.toString('utf8') ?? '{}') as { process?: OciProcess };
  const base = spec.process ?? buildProcess([], [], '/', { uid: 0, gid: 0 }, false);
  const proc: OciProcess = { ...base, args: options.argv, terminal: options.tty };
  const execId = `exec-${randomBytes(6).toString('hex')}`;
  const paths = await makeFifos(join(fifoRoot, id, execId), { stdin: options.stdin, stderr: !options.tty }, pool);
  const stdout = new FifoReader(paths.stdout, { keepOpen: true });
  const stderr = paths.stderr ? new FifoReader(paths.stderr, { keepOpen: true }) : undefined;
  const stdin = paths.stdin ? openFifoWriter(paths.stdin) : undefined;
  const cleanupIo = () => {
    stdout.release();
    stderr?.release();
    stdin?.destroy();
  };
  try {
    await client.unary('Tasks.Exec', t.exec.bind(t), {
      containerId: id,
      execId,
      stdin: paths.stdin ?? '',
      stdout: paths.stdout,
      stderr: paths.stderr ?? '',
      terminal: options.tty,
      spec: { typeUrl: PROCESS_TYPE_URL, value: Buffer.from(JSON.stringify(proc)) },
    });
  } catch (e) {
    cleanupIo();
    stdout.destroy();
    stderr?.destroy();
    await removeFifos(paths.dir);
    throw e;
  }
  // Wait before Start, so an exit in between is not missed.
  const waited = client.unary('Tasks.Wait', t.wait.bind(t), { containerId: id, execId });
  const exit = (async () => {
    try {
      const res = await waited;
      return res.exitStatus;
    } finally {
      // Our write ends go, so the readers end once the shim has flushed what the command wrote.
      cleanupIo();
      await client.unary('Tasks.DeleteProcess', t.deleteProcess.bind(t), { containerId: id, execId }).catch(() => undefined);
      // Unlinking leaves our open readers working; they end once the shim has flushed.
      await removeFifos(paths.dir);
    }
  })();
  exit.catch(() => undefined);
  try {
    await client.unary('Tasks.Start', t.start.bind(t), { containerId: id, execId });
  } catch (e) {
    await client.unary('Tasks.DeleteProcess', t.deleteProcess.bind(t), { containerId: id, execId }).catch(() => undefined);
    cleanupIo();
    stdout.destroy();
    stderr?.destroy();
    await removeFifos(paths.dir);
    throw e;
  }
  return {
    stdin,
    stdout: stdout.stream,
    stderr: stderr?.stream,
    resize: async (cols, rows) => {
      if (!options.tty) return;
      await client.unary('Tasks.ResizePty', t.resizePty.bind(t), { containerId: id, execId, width: cols, height: rows }).catch((e) => {
        // The command has ended: there is no terminal left to resize.
        if (!isNotFound(e)) throw e;
      });
    },
    exit,
    kill: async () => {
      await client.unary('Tasks.Kill', t.kill.bind(t), { containerId: id, execId, signal: SIGKILL, all: false }).catch(() => undefined);
    },
  };
}
