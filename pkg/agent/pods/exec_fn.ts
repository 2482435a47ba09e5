// Exec for the prober: runs argv in a container through the runtime, collects stdout and stderr
// (bounded), and kills the command once its timeout has passed so nothing is left running.

import type { Clock } from '../../../raft/node/ports.js';
import type { ContainerRuntime } from '../runtime/runtime.js';

export const MAX_EXEC_OUTPUT_BYTES = 10 * 1024;

export type ExecInContainer = (argv: string[], timeoutMs: number) => Promise<{ exitCode: number; output: string }>;

export function runtimeExec(runtime: ContainerRuntime, clock: Clock, containerId: string): ExecInContainer {
  return async (argv, timeoutMs) => {
    const session = await runtime.exec(containerId, { argv, tty: false, stdin: false });
    const chunks: Buffer[] = [];
    let sizeBytes = 0;
    const ended: Promise<void>[] = [];
    for (const stream of [session.stdout, session.stderr]) {
      if (stream === undefined) continue;
      stream.on('data', (d: Buffer | string) => {
        const b = Buffer.from(d);
        if (sizeBytes < MAX_EXEC_OUTPUT_BYTES) chunks.push(b.subarray(0, MAX_EXEC_OUTPUT_BYTES - sizeBytes));
        sizeBytes += b.length;
      });
      ended.push(new Promise((resolve) => (stream.once('end', resolve), stream.once('error', resolve), stream.once('close', resolve))));
    }
    const timer = clock.setTimeout(() => void session.kill().catch(() => {}), timeoutMs);
    try {
      const exitCode = await session.exit;
      await Promise.all(ended);
      return { exitCode, output: Buffer.concat(chunks).toString('utf8') };
    } finally {
      clock.clearTimeout(timer);
    }
  };
}
