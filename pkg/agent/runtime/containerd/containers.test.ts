import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RuntimeEvent } from '../runtime.js';
import { CGROUP_V2, cgroupDir, startFixture, waitForLog, waitForState, type Fixture } from './test_fixture.js';

describe('ContainerdRuntime containers', { timeout: 280_000 }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    await f?.cleanup();
  });

  it('runs echo hello: exit 0, an exited event and the line in the log file', async () => {
    const events: RuntimeEvent[] = [];
    const unsubscribe = f.runtime.subscribe((e) => events.push(e));
    const cfg = f.config('echo', ['echo', 'hello']);
    await f.runtime.createContainer(cfg);
    assert.equal((await f.runtime.containerStatus('echo'))?.phase, 'created');
    await f.runtime.startContainer('echo');
    const s = await waitForState(f.runtime, 'echo', 'exited');
    assert.equal(s.exitCode, 0);
    assert.equal(s.reason, 'Completed');
    assert.equal(s.podUid, 'uid-echo');
    assert.equal(s.containerName, 'main');
    assert.equal(s.imageDigest, f.image.digest);
    assert.ok(s.startedAtMs! > 0 && s.finishedAtMs! >= s.startedAtMs! - 1000);
    const lines = await waitForLog(cfg.logPath, (l) => l.length > 0);
    assert.deepEqual(lines, ['stdout F hello']);
    assert.match(readFileSync(cfg.logPath, 'utf8'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F hello\n$/);
    await waitForLog(cfg.logPath, () => events.some((e) => e.type === 'exited' && e.id === 'echo' && e.exitCode === 0), 10_000);
    unsubscribe();
    // Listing one pod's containers: only that pod's, with their task state.
    assert.deepEqual((await f.runtime.listContainers({ podUid: 'uid-echo' })).map((c) => [c.id, c.phase, c.exitCode]), [['echo', 'exited', 0]]);
    assert.deepEqual(await f.runtime.listContainers({ podUid: 'uid-nobody' }), []);
  });

  it('reports exit code 3 and stderr lines for a failing command', async () => {
    const cfg = f.config('exit3', ['sh', '-c', 'echo oops >&2; exit 3']);
    await f.runtime.createContainer(cfg);
    await f.runtime.startContainer('exit3');
    const s = await waitForState(f.runtime, 'exit3', 'exited');
    assert.equal(s.exitCode, 3);
    assert.equal(s.reason, 'Error');
    assert.deepEqual(await waitForLog(cfg.logPath, (l) => l.length > 0), ['stderr F oops']);
  });

  it('stops a shell on SIGTERM and a sleep 1000 on SIGKILL', async () => {
    await f.runtime.createContainer(f.config('term', ['sh', '-c', 'trap "exit 143" TERM; sleep 1000 & wait']));
    await f.runtime.createContainer(f.config('kill', ['sleep', '1000']));
    await f.runtime.startContainer('term');
    await f.runtime.startContainer('kill');
    await waitForState(f.runtime, 'term', 'running');
    await f.runtime.signalContainer('term', 'SIGTERM');
    assert.equal((await waitForState(f.runtime, 'term', 'exited')).exitCode, 143);
    await f.runtime.signalContainer('kill', 'SIGKILL');
    assert.equal((await waitForState(f.runtime, 'kill', 'exited')).exitCode, 137);
    // Signalling an exited container is not an error.
    await f.runtime.signalContainer('kill', 'SIGTERM');
  });

  it('gives the process its env, working dir, hostname (and /etc/hostname), network namespace and bind mounts', async () => {
    const host = join(f.dir, 'share');
    await mkdir(host, { recursive: true });
    await writeFile(join(host, 'file'), 'from the host\n');
    const cfg = f.config('env', ['sh', '-c', 'echo "FOO=$FOO"; pwd; hostname; cat /etc/hostname; cat /data/file; touch /data/x 2>/dev/null || echo read-only; readlink /proc/self/ns/net'], {
      env: [{ name: 'FOO', value: 'bar baz' }],
      workingDir: '/tmp',
      mounts: [{ hostPath: host, containerPath: '/data', readOnly: true }],
    });
    await f.runtime.createContainer(cfg);
    await f.runtime.startContainer('env');
    assert.equal((await waitForState(f.runtime, 'env', 'exited')).exitCode, 0);
    const lines = await waitForLog(cfg.logPath, (l) => l.length >= 7);
    // A namespace's id is the inode of its file.
    const netnsInode = statSync(f.netnsPath, { bigint: true }).ino.toString();
    assert.deepEqual(lines, ['stdout F FOO=bar baz', 'stdout F /tmp', 'stdout F pod-env', 'stdout F pod-env', 'stdout F from the host', 'stdout F read-only', `stdout F net:[${netnsInode}]`]);
  });

  it('puts the memory limit and cpu quota in the container cgroup', async () => {
    await f.runtime.createContainer(f.config('limits', ['sleep', '1000'], { resources: { memoryLimitBytes: 64 << 20, cpuLimitMillis: 500, cpuRequestMillis: 250 } }));
    await f.runtime.startContainer('limits');
    await waitForState(f.runtime, 'limits', 'running');
    const cg = `${f.cgroupParent}/limits`;
    const file = (controller: 'memory' | 'cpu', name: string) => readFileSync(join(cgroupDir(controller, cg), name), 'utf8').trim();
    if (CGROUP_V2) {
      assert.equal(file('memory', 'memory.max'), String(64 << 20));
      assert.equal(file('cpu', 'cpu.max'), '50000 100000');
    } else {
      assert.equal(file('memory', 'memory.limit_in_bytes'), String(64 << 20));
      assert.equal(file('cpu', 'cpu.cfs_quota_us'), '50000');
      assert.equal(file('cpu', 'cpu.shares'), '256');
    }
    const stats = await f.runtime.stats('limits');
    assert.ok(stats && stats.memoryWorkingSetBytes > 0 && stats.cpuUsageNanos > 0, JSON.stringify(stats));
    await f.runtime.removeContainer('limits');
    assert.equal(existsSync(cgroupDir('memory', cg)), false);
  });

  it('reports OOMKilled for a container that outgrows its memory limit', async () => {
    const cfg = f.config('oom', ['sh', '-c', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived'], { resources: { memoryLimitBytes: 16 << 20 } });
    await f.runtime.createContainer(cfg);
    await f.runtime.startContainer('oom');
    const s = await waitForState(f.runtime, 'oom', 'exited');
    assert.equal(s.exitCode, 137);
    assert.equal(s.reason, 'OOMKilled');
  });

  it('refuses a container whose image is not present, naming the image', async () => {
    await assert.rejects(f.runtime.createContainer(f.config('noimage', ['true'], { image: 'example.invalid/nothing:1' })), /image "example.invalid\/nothing:1" is not present/);
    assert.equal(await f.runtime.containerStatus('noimage'), undefined);
  });

  it('fails to create a container whose command does not exist, saying so, and leaves nothing', async () => {
    await assert.rejects(f.runtime.createContainer(f.config('nocmd', ['/no/such/binary'])), /no such file|not found/i);
    assert.equal(await f.runtime.containerStatus('nocmd'), undefined);
  });
});
