import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExecSession } from '../runtime.js';
import { ContainerdClient } from './client.js';
import { ContainerdRuntime } from './containerd_runtime.js';
import { withLease } from './image_store.js';
import { getImage } from './images.js';
import { chainIds } from './oci.js';
import { SNAPSHOTTER } from './unpack.js';
import { cgroupDir, startFixture, waitForLog, waitForState, type Fixture } from './test_fixture.js';

async function collect(s: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!s) return '';
  let out = '';
  for await (const chunk of s) out += chunk.toString();
  return out;
}

async function run(session: ExecSession): Promise<{ stdout: string; stderr: string; code: number }> {
  const [stdout, stderr, code] = await Promise.all([collect(session.stdout), collect(session.stderr), session.exit]);
  return { stdout, stderr, code };
}

describe('ContainerdRuntime exec, restart and removal', { timeout: 280_000 }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    await f?.cleanup();
  });

  it('exec returns the command output and exit code, with stdin and with a TTY', async () => {
    await f.runtime.createContainer(f.config('exec', ['sleep', '1000'], { env: [{ name: 'GREETING', value: 'hi' }] }));
    await f.runtime.startContainer('exec');
    await waitForState(f.runtime, 'exec', 'running');
    const plain = await run(await f.runtime.exec('exec', { argv: ['sh', '-c', 'echo "out $GREETING"; echo err >&2; exit 7'], tty: false, stdin: false }));
    assert.deepEqual(plain, { stdout: 'out hi\n', stderr: 'err\n', code: 7 });

    const withStdin = await f.runtime.exec('exec', { argv: ['sh', '-c', 'read line; echo "got $line"'], tty: false, stdin: true });
    withStdin.stdin!.end('hello\n');
    assert.deepEqual(await run(withStdin), { stdout: 'got hello\n', stderr: '', code: 0 });

    // With a TTY: the command sees a terminal of the size we set before it reads its line.
    const tty = await f.runtime.exec('exec', { argv: ['sh', '-c', 'test -t 0 && test -t 1 && echo tty; read x; stty size'], tty: true, stdin: true });
    await tty.resize(100, 40);
    tty.stdin!.write('go\n');
    const t = await run(tty);
    assert.equal(t.code, 0);
    assert.match(t.stdout, /tty\r?\n/);
    assert.match(t.stdout, /40 100\r?\n$/);
    assert.equal(tty.stderr, undefined);

    await assert.rejects(f.runtime.exec('exec', { argv: ['/no/such/binary'], tty: false, stdin: false }), /no such file|not found/i);
    // Nothing left of the execs: their FIFO directories are gone.
    const dir = join(f.containerd.dir, 'navarch-state', 'exec');
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('exec-')), []);
  });

  it('a second runtime object (agent restart) sees the same containers and states and keeps copying logs', async () => {
    const tick = f.config('ticker', ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.1; done'], { attempt: 2, labels: { app: 'ticker' } });
    await f.runtime.createContainer(tick);
    await f.runtime.startContainer('ticker');
    await f.runtime.createContainer(f.config('done', ['sh', '-c', 'exit 4']));
    await f.runtime.startContainer('done');
    await waitForState(f.runtime, 'done', 'exited');
    await waitForLog(tick.logPath, (l) => l.length >= 2);
    const before = new Map((await f.runtime.listContainers()).map((s) => [s.id, s]));
    await f.runtime.close();

    const again = await f.reconnect();
    f.runtime = again;
    const now = new Map((await again.listContainers()).map((s) => [s.id, s]));
    assert.deepEqual([...now.keys()].sort(), [...before.keys()].sort());
    for (const [id, s] of before) {
      const n = now.get(id)!;
      assert.equal(n.phase, s.phase, id);
      assert.equal(n.exitCode, s.exitCode, id);
      assert.equal(n.startedAtMs, s.startedAtMs, id);
      assert.equal(n.logPath, s.logPath, id);
    }
    const t = now.get('ticker')!;
    assert.equal(t.attempt, 2);
    assert.equal(t.podUid, 'uid-ticker');
    assert.equal(t.labels.app, 'ticker');
    assert.equal(now.get('done')!.exitCode, 4);
    // The new object's copier appends what the container writes from now on, and exits still arrive.
    const seen = (await waitForLog(tick.logPath, () => true)).length;
    await waitForLog(tick.logPath, (l) => l.length >= seen + 5);
    const exited = new Promise<number>((resolve) => again.subscribe((e) => e.type === 'exited' && e.id === 'ticker' && resolve(e.exitCode)));
    await again.signalContainer('ticker', 'SIGKILL');
    assert.equal(await exited, 137);
  });

  it('refuses a second container with the same id, and recovers the id from a create that died midway', async () => {
    await f.runtime.createContainer(f.config('dup', ['sleep', '1000']));
    await assert.rejects(f.runtime.createContainer(f.config('dup', ['true'])), /Cannot create container dup: it already exists/);
    assert.equal((await f.runtime.containerStatus('dup'))?.phase, 'created');
    await f.runtime.removeContainer('dup');
    // What a crash between Snapshots.Prepare and Containers.Create leaves: a snapshot under the id.
    const c = f.runtime.client;
    const got = await getImage(c, f.image.ref);
    const chain = chainIds(got!.image.config.rootfs.diff_ids);
    await withLease(c, (ctx) => c.unary('Snapshots.Prepare', c.snapshots.prepare.bind(c.snapshots), { snapshotter: SNAPSHOTTER, key: 'half', parent: chain[chain.length - 1]!, labels: {} }, ctx));
    const cfg = f.config('half', ['echo', 'whole']);
    await f.runtime.createContainer(cfg);
    await f.runtime.startContainer('half');
    assert.equal((await waitForState(f.runtime, 'half', 'exited')).exitCode, 0);
    assert.deepEqual(await waitForLog(cfg.logPath, (l) => l.length > 0), ['stdout F whole']);
  });

  it('removeContainer leaves no task, container, snapshot, FIFOs or cgroup behind', async () => {
    await f.runtime.createContainer(f.config('gone', ['sleep', '1000']));
    await f.runtime.startContainer('gone');
    await waitForState(f.runtime, 'gone', 'running');
    await f.runtime.removeContainer('gone');
    assert.equal(await f.runtime.containerStatus('gone'), undefined);
    assert.ok(!(await f.runtime.listContainers()).some((c) => c.id === 'gone'));
    const c = f.runtime.client;
    await assert.rejects(c.unary('Snapshots.Stat', c.snapshots.stat.bind(c.snapshots), { snapshotter: SNAPSHOTTER, key: 'gone' }), /not found/);
    assert.equal(existsSync(join(f.containerd.dir, 'navarch-state', 'gone')), false);
    assert.equal(existsSync(cgroupDir('memory', `${f.cgroupParent}/gone`)), false);
    // Removing again is not an error.
    await f.runtime.removeContainer('gone');
    // Nor is removing one that was created and never started.
    await f.runtime.createContainer(f.config('never', ['sleep', '1000']));
    assert.equal((await f.runtime.containerStatus('never'))?.phase, 'created');
    await f.runtime.removeContainer('never');
    assert.equal(await f.runtime.containerStatus('never'), undefined);
    assert.equal(existsSync(join(f.containerd.dir, 'navarch-state', 'never')), false);
  });

  it('imports fail clearly for a file that is not an OCI archive', async () => {
    const bad = join(f.dir, 'not-an-archive.tar');
    await writeFile(bad, Buffer.alloc(1024));
    await assert.rejects(f.runtime.importImage(bad), /not an OCI archive \(no oci-layout\)/);
    await assert.rejects(f.runtime.importImage(join(f.dir, 'missing.tar')), /Cannot open OCI archive .*missing\.tar: ENOENT/);
  });

  it('importing the same archive again keeps one image with the same digests', async () => {
    const [again] = await f.runtime.importImage(f.archivePath);
    assert.deepEqual(again, f.image);
    assert.deepEqual(await f.runtime.imageStatus(f.image.ref), f.image);
    assert.equal(await f.runtime.imageStatus('example.invalid/none:1'), undefined);
  });

  it("images and their snapshots survive containerd's garbage collection", async () => {
    const c = f.runtime.client;
    // Deleting a lease with sync set runs a full garbage collection before answering.
    await c.unary('Leases.Create', c.leases.create.bind(c.leases), { id: 'gc-trigger', labels: {} });
    await c.unary('Leases.Delete', c.leases.delete.bind(c.leases), { id: 'gc-trigger', sync: true });
    const got = await getImage(c, f.image.ref);
    assert.ok(got);
    for (const l of got.image.manifest.layers) await c.unary('Content.Info', c.content.info.bind(c.content), { digest: l.digest });
    const chain = chainIds(got.image.config.rootfs.diff_ids);
    await c.unary('Snapshots.Stat', c.snapshots.stat.bind(c.snapshots), { snapshotter: SNAPSHOTTER, key: chain[chain.length - 1]! });
    const cfg = f.config('after-gc', ['echo', 'still here']);
    await f.runtime.createContainer(cfg);
    await f.runtime.startContainer('after-gc');
    assert.equal((await waitForState(f.runtime, 'after-gc', 'exited')).exitCode, 0);
    assert.deepEqual(await waitForLog(cfg.logPath, (l) => l.length > 0), ['stdout F still here']);
  });

  it('says clearly when containerd is not there', async () => {
    const socketPath = join(f.dir, 'nothing.sock');
    await assert.rejects(ContainerdRuntime.connect({ socketPath }), new RegExp(`Cannot reach containerd at ${socketPath}: the socket does not exist`));
    const client = new ContainerdClient({ socketPath });
    await assert.rejects(client.version(), /the socket does not exist/);
    client.close();
  });
});
