// Task events from containerd's event service for our namespace: exits, starts, deletes and OOMs.
// The stream is opened again (after a pause) when it breaks, e.g. while containerd restarts.

import type { ClientReadableStream } from '@grpc/grpc-js';
import type { Envelope } from '../../../../gen/containerd/github.com/containerd/containerd/api/services/events/v1/events.js';
import { TaskDelete, TaskExit, TaskOOM, TaskStart } from '../../../../gen/containerd/github.com/containerd/containerd/api/events/task.js';
import type { Clock, TimerHandle } from '../../../../raft/node/ports.js';
import type { ContainerdClient } from './client.js';

export type TaskEvent =
  | { type: 'exit'; containerId: string; execId: string; exitCode: number; atMs: number }
  | { type: 'start'; containerId: string }
  | { type: 'delete'; containerId: string }
  | { type: 'oom'; containerId: string };

const RESUBSCRIBE_MS = 1000;

export function decodeEnvelope(e: Envelope): TaskEvent | undefined {
  const any = e.event;
  if (!any) return undefined;
  const type = any.typeUrl.slice(any.typeUrl.lastIndexOf('.') + 1);
  switch (type) {
    case 'TaskExit': {
      const x = TaskExit.decode(any.value);
      return { type: 'exit', containerId: x.containerId, execId: x.id === x.containerId ? '' : x.id, exitCode: x.exitStatus, atMs: x.exitedAt?.getTime() ?? 0 };
    }
    case 'TaskStart':
      return { type: 'start', containerId: TaskStart.decode(any.value).containerId };
    case 'TaskDelete': {
      const x = TaskDelete.decode(any.value);
      // An exec's delete is not the container's.
      return x.id && x.id !== x.containerId ? undefined : { type: 'delete', containerId: x.containerId };
    }
    case 'TaskOOM':
      return { type: 'oom', containerId: TaskOOM.decode(any.value).containerId };
    default:
      return undefined;
  }
}

export class TaskEvents {
  private call: ClientReadableStream<Envelope> | undefined;
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(
    private readonly client: ContainerdClient,
    private readonly clock: Clock,
    private readonly onEvent: (e: TaskEvent) => void,
    private readonly onError: (e: Error) => void,
  ) {
    this.open();
  }

  private open(): void {
    const ns = this.client.namespace;
    const topics = ['/tasks/exit', '/tasks/start', '/tasks/delete', '/tasks/oom'];
    const call = this.client.events.subscribe({ filters: topics.map((t) => `namespace==${ns},topic=="${t}"`) }, this.client.metadata());
    this.call = call;
    call.on('data', (env: Envelope) => {
      const e = decodeEnvelope(env);
      if (e) this.onEvent(e);
    });
    call.on('error', (err) => {
      if (this.closed) return;
      this.onError(this.client.wrap('Events.Subscribe', err));
    });
    call.on('close', () => {
      if (this.closed || this.call !== call) return;
      this.timer = this.clock.setTimeout(() => this.open(), RESUBSCRIBE_MS);
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.call?.cancel();
  }
}
