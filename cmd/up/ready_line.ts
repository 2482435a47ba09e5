// Waiting for a detached process `navarch up` started (hollow nodes, the agent) to print the line it
// prints once ready, in the part of its log written since it started; an exit or the deadline ends
// the wait with the log's last lines in the error.

import { readFileSync } from 'node:fs';

export interface ReadyLineWait {
  /** "navarch agent (pid 123)" */
  who: string;
  /** "registering its nodes", for the error when it exits first. */
  doing: string;
  log: string;
  /** Only what the log holds past this byte counts (it is appended to across runs). */
  logOffset: number;
  ready: string;
  alive: () => boolean;
  timeoutMs: number;
  /** "register its 5 nodes", for the error at the deadline. */
  goal: string;
}

export async function waitForReadyLine(w: ReadyLineWait): Promise<void> {
  const deadline = performance.now() + w.timeoutMs;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(w.log).subarray(w.logOffset).toString('utf8');
    } catch {
      // Not written yet.
    }
    if (text.includes(w.ready)) return;
    const tail = () => text.trimEnd().split('\n').slice(-10).join('\n');
    if (!w.alive()) throw new Error(`${w.who} exited while ${w.doing}; last lines of ${w.log}:\n${tail()}`);
    if (performance.now() > deadline) throw new Error(`${w.who} did not ${w.goal} within ${w.timeoutMs} ms; last lines of ${w.log}:\n${tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
