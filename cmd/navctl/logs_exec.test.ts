// navctl logs and navctl exec as a user runs them: the real CLI as a child process against a real
// master member, whose agent stream server reads real log files and runs exec'd commands on the host.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Pod } from '../../pkg/api/registry.js';
import { formatRecord } from '../../pkg/agent/stream/log_record.js';
import { streamsFixture } from '../../pkg/apiserver/pod_streams/test_fixture.js';
import { useTty } from './exec.js';
import { logsRequest } from './logs.js';
import { defaultContainer, parsePodArg } from './pod_target.js';
import { obj } from '../../pkg/apiserver/test_util.js';

const NAVCTL = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'navctl.ts');

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

function navctl(server: string, args: string[], o: { stdin?: string; onStdout?: (text: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', NAVCTL, '--server', server, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NAVCTL_CONFIG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      o.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code }));
    child.stdin.end(o.stdin ?? '');
  });
}

const T = Date.UTC(2026, 11, 2, 12, 0, 0);

test('navctl logs and exec print what the container wrote and exit with the command\'s code', { timeout: 240_000 }, async () => {
  await using f = await streamsFixture();
  const server = f.member.clientAddress;
  const web = await f.addPod('web', ['app']);
  const duo = await f.addPod('duo', ['a', 'b']);
  const current = f.writeLog(web, 'app', 0, ['one', 'two', 'three'].map((t, i) => formatRecord(T + i, 'stdout', t)).join(''));
  f.writeLog(duo, 'a', 0, formatRecord(T, 'stdout', 'from a'));

  const tail = await navctl(server, ['logs', 'web', '--tail', '2']);
  assert.deepEqual(tail, { stdout: 'two\nthree\n', stderr: '', code: 0 });

  const defaulted = await navctl(server, ['logs', 'pod/duo']);
  assert.deepEqual(defaulted, { stdout: 'from a\n', stderr: 'Defaulted container "a" out of: a, b\n', code: 0 });

  const missing = await navctl(server, ['logs', 'nope']);
  assert.deepEqual(missing, { stdout: '', stderr: 'Error from server (NotFound): pods "nope" not found\n', code: 1 });

  // -f keeps printing what is appended; Ctrl-C ends it quietly.
  let appended = false;
  const followed = await navctl(server, ['logs', '-f', 'web', '--tail=1'], {
    onStdout: (text, child) => {
      if (text === 'three\n' && !appended) {
        appended = true;
        appendFileSync(current, formatRecord(T + 10, 'stdout', 'four'));
      }
      if (text === 'three\nfour\n') child.kill('SIGINT');
    },
  });
  assert.deepEqual(followed, { stdout: 'three\nfour\n', stderr: '', code: 0 });

  const exec = await navctl(server, ['exec', '-i', 'web', '--', 'sh', '-c', 'tr a-z A-Z; echo to-stderr >&2; exit 4'], { stdin: 'quiet\n' });
  assert.deepEqual(exec, { stdout: 'QUIET\n', stderr: 'to-stderr\n', code: 4 });

  const noTty = await navctl(server, ['exec', '-t', '-i', 'duo', '-c', 'b', '--', 'echo', 'hi']);
  assert.deepEqual(noTty, { stdout: 'hi\n', stderr: 'Unable to use a TTY - input is not a terminal or the right kind of file\n', code: 0 });
  assert.equal(f.runtime.execs.at(-1)?.options.tty, false);
});

test('navctl exec -ti under a terminal puts it in raw mode, sends its size and passes keys through', { timeout: 240_000 }, async () => {
  await using f = await streamsFixture();
  await f.addPod('web', ['app']);
  // script(1) (util-linux, in every Debian) gives navctl a terminal on stdin and stdout.
  const cmd = [process.execPath, '--import', 'tsx', NAVCTL, '--server', f.member.clientAddress, 'exec', '-ti', 'web', '--', 'sh', '-c', "read x; echo got-$x; exit 5"].map((a) => `'${a}'`).join(' ');
  const r = await new Promise<Run>((resolve, reject) => {
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NAVCTL_CONFIG: '', COLUMNS: '', LINES: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code }));
    // Keys go in only once the command runs, so the terminal is raw by then (no echo, no line editing).
    const started = setInterval(() => {
      if (f.runtime.execs.length > 0) {
        clearInterval(started);
        child.stdin.write('abc\n');
      }
    }, 20);
    child.on('close', () => clearInterval(started));
  });
  assert.equal(r.code, 5, `stdout ${JSON.stringify(r.stdout)} stderr ${JSON.stringify(r.stderr)}`);
  // Raw: the keys are not echoed by the local terminal (a cooked one would print "abc" first).
  assert.equal(r.stdout, 'got-abc\r\n');
  assert.equal(f.runtime.execs.at(-1)?.options.tty, true);
  assert.ok(f.runtime.resizes.length >= 1 && f.runtime.resizes[0].cols > 0 && f.runtime.resizes[0].rows > 0, JSON.stringify(f.runtime.resizes));
});

test('logs flags become the request kubectl would send, and bad ones are named', () => {
  assert.deepEqual(logsRequest({ tail: '-1' }), { follow: false, tailLines: undefined, sinceSeconds: undefined, timestamps: false, previous: false, limitBytes: undefined });
  assert.deepEqual(logsRequest({ tail: '5', since: '1500ms', follow: true, previous: true, timestamps: true, limitBytes: '100' }), {
    follow: true,
    tailLines: 5,
    sinceSeconds: 2,
    timestamps: true,
    previous: true,
    limitBytes: 100,
  });
  assert.throws(() => logsRequest({ tail: 'ten' }), /Invalid --tail "ten"/);
  assert.throws(() => logsRequest({ limitBytes: '0' }), /Invalid --limit-bytes "0": expected a whole number >= 1/);
  assert.throws(() => logsRequest({ since: '0' }), /Invalid --since "0"/);
});

test('exec uses a TTY only with -i and a terminal, and says why not', () => {
  const warnings: string[] = [];
  const warn = (t: string) => warnings.push(t);
  assert.equal(useTty({ tty: true, stdin: true }, true, warn), true);
  assert.equal(useTty({ stdin: true }, true, warn), false);
  assert.equal(useTty({ tty: true }, true, warn), false);
  assert.equal(useTty({ tty: true, stdin: true }, false, warn), false);
  assert.equal(warnings.length, 2);
});

test('the pod argument and the default container follow kubectl', () => {
  assert.equal(parsePodArg('web'), 'web');
  assert.equal(parsePodArg('po/web'), 'web');
  assert.throws(() => parsePodArg('deploy/web'), /only pods have logs and exec here/);
  const pod = (annotations: Record<string, string>) =>
    obj<Pod>({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', annotations }, spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x' }] } });
  const notes: string[] = [];
  assert.equal(defaultContainer(pod({}), undefined, (t) => notes.push(t)), 'a');
  assert.equal(defaultContainer(pod({ 'kubectl.kubernetes.io/default-container': 'b' }), undefined, (t) => notes.push(t)), 'b');
  assert.equal(defaultContainer(pod({}), 'b', (t) => notes.push(t)), 'b');
  assert.deepEqual(notes, ['Defaulted container "a" out of: a, b\n', 'Defaulted container "b" out of: a, b\n']);
});
