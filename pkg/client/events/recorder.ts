// How controllers and the scheduler report what they did or could not do: Kubernetes Events
// ("Warning FailedScheduling 0/5000 nodes are available: ..."). Recording never blocks or throws:
// the recorder queues, aggregates repeats (count and lastTimestamp) and writes in the background.

import type { KubeObject } from '../../api/registry.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Reports `reason` ("FailedScheduling", "SuccessfulCreate") about `regarding` with a human message. */
  event(regarding: KubeObject, type: EventType, reason: string, message: string): void;
}

/** An EventRecorder for tests: keeps "Type Reason message" lines in order. */
export class RecordingEventRecorder implements EventRecorder {
  readonly events: string[] = [];

  event(regarding: KubeObject, type: EventType, reason: string, message: string): void {
    void regarding;
    this.events.push(`${type} ${reason} ${message}`);
  }

  take(): string[] {
    return this.events.splice(0);
  }
}
