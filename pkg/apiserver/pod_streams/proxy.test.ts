// kubectl logs and exec end to end in one process: a real master member (Raft, RocksDB, gRPC), an
// agent's stream server on 127.0.0.1 registered on a Node object, and the client navctl uses.
// The agent's exec runs real host processes through a runtime double; logs are real files.

import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import { formatRecord } from '../../agent/stream/log_record.js';
import type { ApiError } from '../../client/mod.js';
import { PodStreams } from '../../client/pod_streams.js';
import { until } from '../../localcluster/until.js';
import { streamsFixture } from './test_fixture.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

const T = Date.UTC(2026, 11, 2, 12, 0, 0);

const rejects = (p: Promise<unknown>, code: string, message: string | RegExp) =>
  assert.rejects(p, (e: ApiError) => {
    assert.equal(e.code, code, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });

test('logs and exec reach the pod through the master, with Kubernetes errors for bad requests', { timeout: 120_000 }, async () => {
  await using f = await streamsFixture();
  const streams = new PodStreams([f.member.clientAddress]);
  try {
    // "web" runs one container and has restarted once; "duo" has two, a has exited; "pending" is not scheduled.
    const web = await f.addPod('web', ['app'], { restartCount: 1 });
    await f.addPod('duo', ['a', 'b'], { running: ['b'] });
    await f.addPod('pending', ['app'], { node: false });
    f.writeLog(web, 'app', 0, formatRecord(T, 'stdout', 'first run'));
    const current = f.writeLog(web, 'app', 1, [1, 2, 3].map((i) => formatRecord(T + i * 1000, 'stdout', `hello ${i}`)).join(''));

    const logs = async (o: Parameters<PodStreams['logs']>[0]): Promise<string> => {
      const out = new Sink();
      await streams.logs(o, out);
      return out.text;
    };
    assert.equal(await logs({ namespace: 'default', name: 'web' }), 'hello 1\nhello 2\nhello 3\n');
    assert.equal(await logs({ namespace: 'default', name: 'web', container: 'app', tailLines: 1, timestamps: true }), '2026-12-02T12:00:03.000000000Z hello 3\n');
    assert.equal(await logs({ namespace: 'default', name: 'web', previous: true }), 'first run\n');

    // Follow: a line appended later arrives; the client stops the stream.
    const ac = new AbortController();
    const followed = new Sink();
    const following = streams.logs({ namespace: 'default', name: 'web', follow: true, tailLines: 1 }, followed, ac.signal);
    following.catch(() => {}); // awaited below; a failure before then must not go unhandled
    await until('the last line', () => followed.text === 'hello 3\n', 20_000);
    appendFileSync(current, formatRecord(T + 4000, 'stderr', 'appended'));
    await until('the appended line', () => followed.text === 'hello 3\nappended\n', 20_000);
    ac.abort();
    await following;

    await rejects(logs({ namespace: 'default', name: 'nope' }), 'NotFound', 'pods "nope" not found');
    await rejects(logs({ namespace: 'default', name: 'duo' }), 'Invalid', 'a container name must be specified for pod duo, choose one of: [a b]');
    await rejects(logs({ namespace: 'default', name: 'web', container: 'db' }), 'Invalid', 'container db is not valid for pod web: choose one of: [app]');
    await rejects(logs({ namespace: 'default', name: 'pending' }), 'Invalid', 'pod pending does not have a host assigned');
    await rejects(logs({ namespace: 'default', name: 'duo', container: 'b', previous: true }), 'NotFound', 'previous terminated container "b" in pod "duo" not found');
    await rejects(logs({ namespace: 'default', name: 'web', tailLines: -2 }), 'Invalid', /tailLines: Invalid value: -2/);

    // Exec: stdin in, stdout and stderr apart, the exit code back.
    const stdin = new PassThrough();
    const stdout = new Sink();
    const stderr = new Sink();
    const argv = ['sh', '-c', 'read x; echo "got $x"; echo warn >&2; exit 7'];
    const running = streams.exec({ namespace: 'default', name: 'web', argv }, { stdin, stdout, stderr });
    stdin.end('ping\n');
    assert.equal(await running, 7);
    assert.equal(stdout.text, 'got ping\n');
    assert.equal(stderr.text, 'warn\n');
    assert.deepEqual(f.runtime.execs.at(-1), { id: 'web-app', options: { argv, tty: false, stdin: true } });

    // A TTY: the terminal's size first, then each change, ahead of the input that follows it.
    const ttyIn = new PassThrough();
    const ttyOut = new Sink();
    let resized: ((size: { cols: number; rows: number }) => void) | undefined;
    const underTty = streams.exec(
      { namespace: 'default', name: 'web', argv: ['sh', '-c', 'read x; echo "line $x"'], tty: true },
      { stdin: ttyIn, stdout: ttyOut, stderr: new Sink(), terminalSize: { initial: { cols: 80, rows: 24 }, subscribe: (f) => ((resized = f), () => (resized = undefined)) } },
    );
    await until('the resize subscription', () => resized !== undefined, 10_000);
    resized!({ cols: 132, rows: 43 });
    ttyIn.end('x\n');
    assert.equal(await underTty, 0);
    assert.equal(ttyOut.text, 'line x\n');
    assert.equal(f.runtime.execs.at(-1)?.options.tty, true);
    assert.deepEqual(f.runtime.resizes, [{ id: 'web-app', cols: 80, rows: 24 }, { id: 'web-app', cols: 132, rows: 43 }]);

    const out2 = new Sink();
    assert.equal(await streams.exec({ namespace: 'default', name: 'duo', container: 'b', argv: ['echo', 'from b'] }, { stdout: out2, stderr: new Sink() }), 0);
    assert.equal(out2.text, 'from b\n');
    await rejects(streams.exec({ namespace: 'default', name: 'duo', container: 'a', argv: ['true'] }, { stdout: new Sink(), stderr: new Sink() }), 'Invalid', 'container "a" in pod "duo" is not running');
    await rejects(streams.exec({ namespace: 'default', name: 'pending', argv: ['true'] }, { stdout: new Sink(), stderr: new Sink() }), 'Invalid', 'pod pending does not have a host assigned');
    await rejects(streams.exec({ namespace: 'default', name: 'web', argv: [] }, { stdout: new Sink(), stderr: new Sink() }), 'Invalid', /argv: Required value/);

    // The agent's own answer passes through the master: its status says running, the runtime says not.
    f.runtime.phases.set('duo-b', 'exited');
    await rejects(streams.exec({ namespace: 'default', name: 'duo', container: 'b', argv: ['true'] }, { stdout: new Sink(), stderr: new Sink() }), 'Invalid', 'container "b" in pod "duo" is not running');

    // The client going away (Ctrl-C) kills the command on the node.
    const ac2 = new AbortController();
    const sleeping = streams.exec({ namespace: 'default', name: 'web', argv: ['sleep', '600'] }, { stdout: new Sink(), stderr: new Sink(), signal: ac2.signal });
    sleeping.catch(() => {});
    await until('the command to start', () => f.runtime.children.size === 1, 20_000);
    const [child] = [...f.runtime.children];
    ac2.abort();
    await assert.rejects(sleeping, /Exec cancelled/);
    await until('the command to be killed', () => child.signalCode === 'SIGKILL', 20_000);

    // An agent that cannot be reached is named.
    await f.agent.stop();
    await rejects(logs({ namespace: 'default', name: 'web' }), 'Unavailable', /Cannot stream from the agent of node "node-1" at 127\.0\.0\.1:\d+/);
  } finally {
    streams.close();
  }
});
