import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Container, Probe } from '../../../gen/navarch/api/v1/core.js';
import { realClock } from '../../../raft/node/ports.js';
import { intOrString } from '../../api/int_or_string.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { peek, PENDING } from '../../client/testing/settle.js';
import type { ExecFn } from './outcome.js';
import { runProbe } from './probe.js';

const noExec: ExecFn = async () => {
  throw new Error('no exec in this test');
};

function container(ports: Array<{ name: string; containerPort: number }> = []): Container {
  return { name: 'app', command: [], args: [], ports: ports.map((p) => ({ ...p, protocol: 'TCP' })), envFrom: [], env: [], volumeMounts: [] };
}

const http = (path: string, port: number | string, extra: Partial<NonNullable<Probe['httpGet']>> = {}, timeoutSeconds = 1): Probe => ({
  httpGet: { path, port: intOrString(port), httpHeaders: [], ...extra },
  timeoutSeconds,
});

describe('httpGet probes against a real server', () => {
  let server: Server;
  let port: number;
  let lastHeaders: IncomingHttpHeaders = {};
  const hanging: Array<() => void> = [];

  before(async () => {
    server = createHttpServer((req, res) => {
      lastHeaders = req.headers;
      if (req.url === '/ok') res.end('fine');
      else if (req.url === '/moved') res.writeHead(302, { Location: '/elsewhere' }).end();
      else if (req.url === '/broken') res.writeHead(500).end('oops');
      else if (req.url === '/missing') res.writeHead(404).end();
      else if (req.url === '/hang') hanging.push(() => res.end('late'));
      else res.writeHead(400).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const h of hanging) h();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const probe = (p: Probe, c = container()) => runProbe(p, { container: c, podIP: '127.0.0.1', exec: noExec }, realClock, 'spec.containers[0].livenessProbe');

  it('succeeds on 200 and on a redirect, keeping the body as output', async () => {
    assert.deepEqual(await probe(http('/ok', port)), { result: 'success', output: 'fine' });
    assert.equal((await probe(http('/moved', port))).result, 'success');
  });

  it('fails on 500 and 404 with the status in the output', async () => {
    assert.deepEqual(await probe(http('/broken', port)), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
    assert.deepEqual(await probe(http('/missing', port)), { result: 'failure', output: 'HTTP probe failed with statuscode: 404' });
  });

  it('fails when no answer comes within timeoutSeconds', async () => {
    const o = await probe(http('/hang', port, {}, 1));
    assert.equal(o.result, 'failure');
    assert.match(o.output, /timeout after 1000 ms/);
  });

  it('fails when nothing listens', async () => {
    const closed = createTcpServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const free = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const o = await probe(http('/ok', free));
    assert.equal(o.result, 'failure');
    assert.match(o.output, /ECONNREFUSED/);
  });

  it('sends the default headers, and the probe headers in their place', async () => {
    await probe(http('/ok', port));
    assert.equal(lastHeaders['user-agent'], 'kube-probe/navarch');
    assert.equal(lastHeaders.accept, '*/*');
    assert.equal(lastHeaders.host, `127.0.0.1:${port}`);
    await probe(http('/ok', port, { httpHeaders: [{ name: 'Host', value: 'shop.example' }, { name: 'user-agent', value: 'mine' }, { name: 'X-Probe', value: '1' }] }));
    assert.equal(lastHeaders.host, 'shop.example');
    assert.equal(lastHeaders['user-agent'], 'mine');
    assert.equal(lastHeaders['x-probe'], '1');
  });

  it('goes to the probe host when one is given, and to the pod IP otherwise', async () => {
    const o = await runProbe(http('/ok', port, { host: '127.0.0.1' }), { container: container(), podIP: '198.18.255.254', exec: noExec }, realClock);
    assert.equal(o.result, 'success');
  });

  it('finds a port by the container port name, and fails naming the field when there is none', async () => {
    assert.equal((await probe(http('/ok', 'web'), container([{ name: 'web', containerPort: port }]))).result, 'success');
    assert.deepEqual(await probe(http('/ok', 'metrics'), container([{ name: 'web', containerPort: port }])), {
      result: 'failure',
      output: 'spec.containers[0].livenessProbe.httpGet.port: no port named "metrics" in container "app"',
    });
  });
});

describe('tcpSocket probes against a real server', () => {
  it('succeed when a connection opens and fail when none can', async () => {
    const server = createTcpServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const target = { container: container([{ name: 'db', containerPort: port }]), podIP: '127.0.0.1', exec: noExec };
    assert.deepEqual(await runProbe({ tcpSocket: { port: intOrString(port) } }, target, realClock), { result: 'success', output: '' });
    assert.equal((await runProbe({ tcpSocket: { port: intOrString('db') } }, target, realClock)).result, 'success');
    await new Promise((r) => server.close(r));
    const o = await runProbe({ tcpSocket: { port: intOrString(port) } }, target, realClock);
    assert.equal(o.result, 'failure');
    assert.match(o.output, /dial tcp 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });
});

describe('exec probes', () => {
  const target = (exec: ExecFn) => ({ container: container(), podIP: '127.0.0.1', exec });

  it('succeed on exit code 0 and fail otherwise, with the output', async () => {
    const clock = new FakeClock(0);
    const seen: Array<{ argv: string[]; timeoutMs: number }> = [];
    const exec: ExecFn = async (argv, timeoutMs) => {
      seen.push({ argv, timeoutMs });
      return argv[1] === 'good' ? { exitCode: 0, output: 'ok\n' } : { exitCode: 2, output: 'bad things' };
    };
    assert.deepEqual(await runProbe({ exec: { command: ['check', 'good'] }, timeoutSeconds: 3 }, target(exec), clock), { result: 'success', output: 'ok\n' });
    assert.deepEqual(await runProbe({ exec: { command: ['check', 'bad'] } }, target(exec), clock), { result: 'failure', output: 'bad things' });
    assert.deepEqual(seen, [
      { argv: ['check', 'good'], timeoutMs: 3000 },
      { argv: ['check', 'bad'], timeoutMs: 1000 },
    ]);
  });

  it('fail when the command outlives the timeout, and are unknown when exec itself fails', async () => {
    const clock = new FakeClock(0);
    const pending = runProbe({ exec: { command: ['sleep', '100'] }, timeoutSeconds: 2 }, target(() => new Promise(() => {})), clock);
    await clock.advance(1999);
    assert.equal(await peek(pending), PENDING);
    await clock.advance(1);
    assert.deepEqual(await pending, { result: 'failure', output: 'command timed out after 2000 ms' });
    const broken: ExecFn = async () => {
      throw new Error('container not running');
    };
    assert.deepEqual(await runProbe({ exec: { command: ['true'] } }, target(broken), clock), { result: 'unknown', output: 'exec failed: container not running' });
  });
});
