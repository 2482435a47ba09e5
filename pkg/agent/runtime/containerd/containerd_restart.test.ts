import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { until } from '../../../localcluster/until.js';
import { startFixture, waitForLog, waitForState, type Fixture } from './test_fixture.js';

describe('ContainerdRuntime across a containerd restart', { timeout: 280_000 }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    await f?.cleanup();
  });

  it('keeps its containers, their logs and their exits when containerd restarts under it', async () => {
    const tick = f.config('survivor', ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.1; done']);
    await f.runtime.createContainer(tick);
    const exits: { id: string; exitCode: number }[] = [];
    f.runtime.subscribe((e) => e.type === 'exited' && exits.push({ id: e.id, exitCode: e.exitCode }));
    await f.runtime.startContainer('survivor');
    await waitForLog(tick.logPath, (l) => l.length >= 2);

    await f.containerd.restart();

    // The same runtime object answers again once its channel reconnects; the container ran on.
    const s = await until('the runtime to answer after the restart', () => f.runtime.containerStatus('survivor').catch(() => undefined), 60_000);
    assert.equal(s.phase, 'running');
    const seen = (await waitForLog(tick.logPath, () => true)).length;
    await waitForLog(tick.logPath, (l) => l.length >= seen + 5);
    // New containers work, and exits are reported whether or not the event stream is back yet.
    await f.runtime.createContainer(f.config('after', ['sh', '-c', 'exit 5']));
    await f.runtime.startContainer('after');
    assert.equal((await waitForState(f.runtime, 'after', 'exited')).exitCode, 5);
    await f.runtime.signalContainer('survivor', 'SIGKILL');
    await until('both exits to be reported', () => exits.some((e) => e.id === 'after' && e.exitCode === 5) && exits.some((e) => e.id === 'survivor' && e.exitCode === 137), 30_000);
    assert.equal(exits.filter((e) => e.id === 'survivor').length, 1);
  });
});
