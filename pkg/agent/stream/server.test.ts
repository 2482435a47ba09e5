// The agent's stream server over real gRPC on 127.0.0.1: logs from real files in the pod workers'
// layout, and exec through a runtime double whose commands are real host processes.

import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { ContainerStreamsClient, type ExecOutput, type LogsRequest } from '../../../gen/navarch/agent/v1/streams.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { until } from '../../localcluster/until.js';
import { formatRecord } from './log_record.js';
import type { ContainerLookup } from './lookup.js';
import { startStreamServer, type StreamServer } from './server.js';
import { HostExecRuntime } from './test_runtime.js';

const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);

interface Fixture {
  dir: string;
  logDir: string;
  clock: FakeClock;
  runtime: HostExecRuntime;
  client: ContainerStreamsClient;
  server: StreamServer;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A pod "web" (uid u1) whose container "app" runs as container id "c1", logs under a temp podsDir. */
async function fixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-streams-'));
  const logDir = join(dir, 'default_web_u1', 'app');
  mkdirSync(logDir, { recursive: true });
  const clock = new FakeClock(T0);
  const runtime = new HostExecRuntime();
  runtime.phases.set('c1', 'running');
  const lookup: ContainerLookup = (r) => (r.namespace === 'default' && r.name === 'web' && (r.uid === '' || r.uid === 'u1') && r.container === 'app' ? { logDir, containerId: 'c1' } : undefined);
  const server = await startStreamServer('127.0.0.1:0', { runtime, lookup, clock, pollIntervalMs: 100 });
  const client = new ContainerStreamsClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
  return {
    dir,
    logDir,
    clock,
    runtime,
    client,
    server,
    async [Symbol.asyncDispose]() {
      client.close();
      await runtime.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const req = (o: Partial<LogsRequest> = {}): LogsRequest => ({ namespace: 'default', name: 'web', uid: '', container: 'app', follow: false, timestamps: false, previous: false, ...o });

function logs(client: ContainerStreamsClient, r: LogsRequest): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const call = client.logs(r);
    call.on('data', (c: { data: Buffer }) => (text += c.data.toString()));
    call.on('error', reject);
    call.on('end', () => resolve(text));
  });
}

const lines = (n: number, from = 0, prefix = 'line'): string => Array.from({ length: n }, (_, i) => formatRecord(T0 - 60_000 + (from + i) * 1000, 'stdout', `${prefix} ${from + i}`)).join('');

test('logs returns the current attempt, its last N lines, with timestamps, and the previous attempt', async () => {
  await using f = await fixture();
  writeFileSync(join(f.logDir, '0.log'), lines(3, 0, 'first run'));
  writeFileSync(join(f.logDir, '1.log'), lines(5) + formatRecord(T0, 'stderr', 'half ', true) + formatRecord(T0, 'stderr', 'and rest'));
  assert.equal(await logs(f.client, req()), 'line 0\nline 1\nline 2\nline 3\nline 4\nhalf and rest\n');
  assert.equal(await logs(f.client, req({ tailLines: 3 })), 'line 4\nhalf and rest\n');
  assert.equal(await logs(f.client, req({ tailLines: 0 })), '');
  assert.equal(await logs(f.client, req({ tailLines: 1, timestamps: true })), '2026-12-02T12:00:00.000000000Z and rest\n');
  assert.equal(await logs(f.client, req({ previous: true })), 'first run 0\nfirst run 1\nfirst run 2\n');
  // Lines from the last 57 s: line 3 was written 57 s ago.
  assert.equal(await logs(f.client, req({ sinceSeconds: 57 })), 'line 3\nline 4\nhalf and rest\n');
  assert.equal(await logs(f.client, req({ limitBytes: 10 })), 'line 0\nlin');
});

test('logs refuses what Kubernetes refuses, with its messages', async () => {
  await using f = await fixture();
  writeFileSync(join(f.logDir, '0.log'), lines(1));
  await assert.rejects(logs(f.client, req({ previous: true })), (e: ServiceError) => e.details === 'previous terminated container "app" in pod "web" not found' && e.code === 5);
  await assert.rejects(logs(f.client, req({ container: 'db' })), (e: ServiceError) => /container "db" in pod "web" not found/.test(e.details));
  await assert.rejects(logs(f.client, req({ uid: 'other' })), (e: ServiceError) => e.code === 5);
  await assert.rejects(logs(f.client, req({ tailLines: -1, limitBytes: 0 })), (e: ServiceError) => /tailLines: Invalid value: -1.*limitBytes: Invalid value: 0/.test(e.details) && e.code === 3);
});

test('follow streams lines as they are appended and ends when the next attempt starts', async () => {
  await using f = await fixture();
  const path = join(f.logDir, '0.log');
  writeFileSync(path, lines(2));
  let text = '';
  let ended = false;
  const call = f.client.logs(req({ follow: true, tailLines: 1 }));
  call.on('data', (c: { data: Buffer }) => (text += c.data.toString()));
  call.on('error', () => {});
  call.on('end', () => (ended = true));
  await until('the tail line', () => text === 'line 1\n', 10_000);
  appendFileSync(path, lines(2, 2));
  await until('appended lines', async () => {
    await f.clock.advance(100);
    return text === 'line 1\nline 2\nline 3\n';
  }, 10_000);
  // The container restarts: what the old attempt still wrote is sent, then the stream ends.
  appendFileSync(path, lines(1, 4));
  writeFileSync(join(f.logDir, '1.log'), lines(1, 0, 'second run'));
  await until('the end of the stream', async () => {
    await f.clock.advance(100);
    return ended;
  }, 10_000);
  assert.equal(text, 'line 1\nline 2\nline 3\nline 4\n');
});

test('follow ends when the container exits', async () => {
  await using f = await fixture();
  writeFileSync(join(f.logDir, '0.log'), lines(1));
  const done = logs(f.client, req({ follow: true }));
  await f.clock.advance(100);
  appendFileSync(join(f.logDir, '0.log'), lines(1, 1));
  f.runtime.phases.set('c1', 'exited');
  const advancing = setInterval(() => void f.clock.advance(100), 20);
  try {
    assert.equal(await done, 'line 0\nline 1\n');
  } finally {
    clearInterval(advancing);
  }
});

function exec(f: Fixture, argv: string[], stdin?: string): Promise<{ stdout: string; stderr: string; exitCode: number | undefined }> {
  return new Promise((resolve, reject) => {
    const call = f.client.exec();
    let stdout = '';
    let stderr = '';
    let exitCode: number | undefined;
    call.on('data', (m: ExecOutput) => {
      if (m.stdout) stdout += m.stdout.toString();
      if (m.stderr) stderr += m.stderr.toString();
      if (m.exitCode !== undefined) exitCode = m.exitCode;
    });
    call.on('error', reject);
    call.on('end', () => resolve({ stdout, stderr, exitCode }));
    call.write({ options: { namespace: 'default', name: 'web', uid: 'u1', container: 'app', argv, stdin: stdin !== undefined, tty: false } });
    if (stdin !== undefined) {
      call.write({ stdin: Buffer.from(stdin) });
      call.write({ resize: { cols: 120, rows: 40 } });
    }
    call.end();
  });
}

test('exec passes stdin through, returns stdout and stderr apart, and the exit code last', async () => {
  await using f = await fixture();
  const r = await exec(f, ['sh', '-c', 'tr a-z A-Z; echo oops >&2; exit 3'], 'hello\n');
  assert.deepEqual(r, { stdout: 'HELLO\n', stderr: 'oops\n', exitCode: 3 });
  assert.deepEqual(f.runtime.resizes, [{ id: 'c1', cols: 120, rows: 40 }]);
  assert.deepEqual(await exec(f, ['true']), { stdout: '', stderr: '', exitCode: 0 });
  // More output than one message holds arrives whole.
  const big = await exec(f, ['sh', '-c', 'head -c 300000 /dev/zero | tr "\\0" x']);
  assert.equal(big.stdout.length, 300000);
});

test('exec refuses a stopped container and an empty command', async () => {
  await using f = await fixture();
  await assert.rejects(exec(f, []), (e: ServiceError) => e.code === 3 && /argv: Required value/.test(e.details));
  f.runtime.phases.set('c1', 'exited');
  await assert.rejects(exec(f, ['true']), (e: ServiceError) => e.details === 'container "app" in pod "web" is not running');
});

test('cancelling an exec kills its command', async () => {
  await using f = await fixture();
  const call = f.client.exec();
  call.on('error', () => {});
  call.on('data', () => {});
  call.write({ options: { namespace: 'default', name: 'web', uid: '', container: 'app', argv: ['sleep', '600'], stdin: false, tty: false } });
  await until('the command to start', () => f.runtime.execs.length === 1, 10_000);
  await until('the child process', () => f.runtime.children.size === 1, 10_000);
  const [child] = [...f.runtime.children];
  call.cancel();
  await until('the command to be killed', () => child.signalCode === 'SIGKILL', 10_000);
});

test('an exec call that never sends its options is refused once the clock says so', async () => {
  await using f = await fixture();
  const call = f.client.exec();
  let error: ServiceError | undefined;
  call.on('error', (e: ServiceError) => (error = e));
  call.on('data', () => {});
  // The server waits on the (fake) clock: time passes until it gives up.
  const refused = await until('the refusal', async () => {
    await f.clock.advance(10_000);
    return error;
  }, 10_000);
  assert.equal(refused.code, 3);
  assert.equal(refused.details, 'Cannot start exec: no options arrived within 30000 ms');
  assert.equal(f.runtime.execs.length, 0);
});

test('a client that stops reading stops the agent reading the log file', async () => {
  await using f = await fixture();
  // 24 MiB of log text: more than every buffer between the file and the client holds.
  const line = formatRecord(T0, 'stdout', 'x'.repeat(1000));
  const text = line.repeat(24 * 1024);
  writeFileSync(join(f.logDir, '0.log'), text);
  const expectedBytes = 24 * 1024 * 1001;
  let received = 0;
  let ended = false;
  const call = f.client.logs(req());
  call.on('data', (c: { data: Buffer }) => {
    received += c.data.length;
    call.pause();
  });
  call.on('end', () => (ended = true));
  call.on('error', () => {});
  await until('the server to wait for the client', () => f.server.stats.logStreamsWaitingOnClient === 1, 30_000);
  assert.ok(f.server.stats.logBytesSent < expectedBytes / 2, `sent ${f.server.stats.logBytesSent} of ${expectedBytes} bytes to a client that took ${received}`);
  call.removeAllListeners('data');
  call.on('data', (c: { data: Buffer }) => (received += c.data.length));
  call.resume();
  await until('the whole log', () => ended, 60_000);
  assert.equal(received, expectedBytes);
  assert.equal(f.server.stats.logStreamsWaitingOnClient, 0);
});

test('a slow exec client gets all the output, even from a background child still writing after the command exited, then the exit code', async () => {
  await using f = await fixture();
  const call = f.client.exec();
  let received = 0;
  let exitCode: number | undefined;
  let ended = false;
  call.on('data', (m: ExecOutput) => {
    received += m.stdout?.length ?? 0;
    if (m.exitCode !== undefined) exitCode = m.exitCode;
    call.pause();
  });
  call.on('end', () => (ended = true));
  call.on('error', () => {});
  call.write({ options: { namespace: 'default', name: 'web', uid: '', container: 'app', argv: ['sh', '-c', 'head -c 3000000 /dev/zero & exit 2'], stdin: false, tty: false } });
  call.end();
  await until('the command to exit', () => f.runtime.execs.length === 1 && f.runtime.children.size === 0, 30_000);
  // Until the buffers between are full, the output pauses and resumes; then it stays paused.
  let pausedPolls = 0;
  await until('the output to wait for the client', () => (pausedPolls = f.server.stats.execPipesWaitingOnClient > 0 ? pausedPolls + 1 : 0) >= 10, 30_000);
  // Long past the drain wait: output held back by the slow client is not given up on.
  await f.clock.advance(60_000);
  call.removeAllListeners('data');
  call.on('data', (m: ExecOutput) => {
    received += m.stdout?.length ?? 0;
    if (m.exitCode !== undefined) exitCode = m.exitCode;
  });
  call.resume();
  await until('the end of the call', () => ended, 30_000);
  assert.equal(received, 3000000);
  assert.equal(exitCode, 2);
});
