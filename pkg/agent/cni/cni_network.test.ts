// Real pod networking: real namespaces, a real bridge, the installed CNI plugins and iptables. Needs
// root. Each run uses its own bridge name, a /24 of 198.18.0.0/15 not routed on this machine, and
// its own temporary data and namespace directories; `after` removes all of it.

import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { cidrContains, parseIpv4, parseIpv4Cidr } from '../../api/cidr.js';
import { until } from '../../localcluster/until.js';
import { freePort } from '../../../raft/transport/free_port.js';
import { CniNetwork } from './cni_network.js';
import { bridgeConflist } from './conflist.js';
import { deleteNetns } from './netns.js';
import type { PodNetworkRequest } from './pod_network.js';
import { CniPluginError } from './plugin_exec.js';
import { unusedPodCIDR } from '../../localcluster/agent_process.js';

const run = promisify(execFile);
const notRoot = process.getuid?.() !== 0 ? 'needs root (namespaces, bridges, iptables)' : false;
const tag = randomBytes(3).toString('hex');
const bridgeName = `nvt${tag}`;

function inNetns(netns: string, args: string[]): Promise<{ stdout: string }> {
  return run('nsenter', [`--net=${netns}`, ...args], { timeout: 10_000 });
}

/** Reads until the peer closes: the reply of a `busybox nc -ll -e echo` server (sending nothing, so no unread data resets the connection). */
function ask(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, timeout: 3000 });
    let got = '';
    s.on('data', (b) => (got += b.toString()));
    s.on('end', () => resolve(got.trim()));
    s.on('timeout', () => s.destroy(new Error(`no answer from ${host}:${port}`)));
    s.on('error', reject);
  });
}

function pod(name: string, portMappings: PodNetworkRequest['portMappings'] = []): PodNetworkRequest {
  return { podUid: `${tag}-${name}`, podName: name, podNamespace: 'default', portMappings };
}

describe('CniNetwork', { skip: notRoot }, () => {
  let dir: string;
  let podCIDR: string;
  let net: CniNetwork;
  const listeners: ChildProcess[] = [];
  const usedUids = new Set<string>();
  const networks: CniNetwork[] = [];

  /** A TCP server in the namespace answering every connection with `reply`. */
  function listen(netns: string, port: number, reply: string): void {
    const child = spawn('nsenter', [`--net=${netns}`, 'busybox', 'nc', '-ll', '-p', String(port), '-e', 'echo', reply], { stdio: 'ignore' });
    listeners.push(child);
  }

  async function setUp(n: CniNetwork, req: PodNetworkRequest) {
    usedUids.add(req.podUid);
    return n.setUp(req);
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'navarch-cni-'));
    podCIDR = await unusedPodCIDR();
    net = await CniNetwork.open({ dataDir: join(dir, 'data'), netnsDir: join(dir, 'netns'), podCIDR, bridgeName, pluginTimeoutMs: 60_000 });
    networks.push(net);
  });

  after(async () => {
    for (const l of listeners) l.kill('SIGKILL');
    // DEL undoes each pod's address, veth and portmap rules; then whatever is left goes by force.
    for (const n of networks) for (const uid of await n.list().catch(() => [])) await n.tearDown(uid).catch((e) => console.error(`cleanup: ${e.message}`));
    for (const uid of usedUids) await net.tearDown(uid).catch(() => {});
    for (const f of await readdir(join(dir, 'netns')).catch(() => [])) await deleteNetns(join(dir, 'netns', f)).catch(() => {});
    await run('ip', ['link', 'del', bridgeName]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('gives a pod an address in the podCIDR on eth0, with lo up, in its own namespace', async () => {
    const s = await setUp(net, pod('a'));
    assert.equal(s.netnsPath, join(dir, 'netns', `navarch-${tag}-a`));
    const cidr = parseIpv4Cidr(podCIDR, 'podCIDR');
    assert.ok(cidrContains(cidr, parseIpv4(s.ip)!), `${s.ip} in ${podCIDR}`);
    assert.notEqual(parseIpv4(s.ip), cidr.base + 1, 'the first address is the bridge gateway');
    const addrs = (await inNetns(s.netnsPath, ['ip', '-4', '-o', 'addr'])).stdout;
    assert.match(addrs, new RegExp(`eth0\\s+inet ${s.ip.replace(/\./g, '\\.')}/24`));
    assert.match(addrs, /lo\s+inet 127\.0\.0\.1\/8/);
    const gateway = podCIDR.replace(/0\/24$/, '1');
    assert.match((await inNetns(s.netnsPath, ['ip', '-4', 'route'])).stdout, new RegExp(`default via ${gateway.replace(/\./g, '\\.')} dev eth0`));
    assert.deepEqual(await net.status(`${tag}-a`), s);
  });

  it('lets two pods on the bridge reach each other, and the node reach a pod', async () => {
    const a = (await net.status(`${tag}-a`))!;
    const b = await setUp(net, pod('b'));
    assert.notEqual(a.ip, b.ip);
    listen(a.netnsPath, 8080, 'hello-from-a');
    assert.equal(await until('pod a answering the node', () => ask(a.ip, 8080), 20_000), 'hello-from-a');
    const fromB = (await inNetns(b.netnsPath, ['busybox', 'nc', '-w', '3', a.ip, '8080'])).stdout.trim();
    assert.equal(fromB, 'hello-from-a');
  });

  it('maps a hostPort to the pod from 127.0.0.1 through portmap, and removes the rules on tearDown', async () => {
    const hostPort = await freePort();
    const c = await setUp(net, pod('c', [{ hostPort, containerPort: 9090, protocol: 'tcp' }]));
    listen(c.netnsPath, 9090, 'hello-from-c');
    assert.equal(await until('pod c answering on its pod IP', () => ask(c.ip, 9090), 20_000), 'hello-from-c');
    assert.equal(await ask('127.0.0.1', hostPort), 'hello-from-c');
    const rules = (await run('iptables-save', ['-t', 'nat'])).stdout;
    assert.match(rules, new RegExp(`id: \\\\"${tag}-c\\\\"`));
    await net.tearDown(`${tag}-c`);
    assert.doesNotMatch((await run('iptables-save', ['-t', 'nat'])).stdout, new RegExp(`${tag}-c`));
    await assert.rejects(ask('127.0.0.1', hostPort));
  });

  it('returns the same address when a pod is set up twice, holding one address', async () => {
    const first = (await net.status(`${tag}-a`))!;
    const again = await net.setUp(pod('a'));
    assert.deepEqual(again, first);
    const held = (await readdir(join(dir, 'data', 'ipam', 'navarch'))).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
    assert.deepEqual(held.sort(), [(await net.status(`${tag}-a`))!.ip, (await net.status(`${tag}-b`))!.ip].sort());
  });

  it('serialises concurrent calls for one pod: two setUps give one address, a tearDown after them frees it', async () => {
    usedUids.add(`${tag}-e`);
    const [x, y] = await Promise.all([net.setUp(pod('e')), net.setUp(pod('e'))]);
    assert.deepEqual(x, y);
    await net.tearDown(`${tag}-e`);
    const held = (await readdir(join(dir, 'data', 'ipam', 'navarch'))).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
    assert.ok(!held.includes(x.ip), `${x.ip} released`);
    assert.deepEqual(await net.list(), [`${tag}-a`, `${tag}-b`]);
  });

  it('reads back what was set up after a restart, and lists the pods for orphan cleanup', async () => {
    const restarted = await CniNetwork.open({ dataDir: join(dir, 'data'), netnsDir: join(dir, 'netns'), podCIDR, bridgeName });
    assert.deepEqual(await restarted.status(`${tag}-a`), await net.status(`${tag}-a`));
    assert.deepEqual(await restarted.list(), [`${tag}-a`, `${tag}-b`]);
    assert.equal(await restarted.status('never-set-up'), undefined);
  });

  it('passes CHECK for a healthy pod and names the bridge plugin once the pod lost its eth0', async () => {
    await net.check(`${tag}-b`);
    const b = (await net.status(`${tag}-b`))!;
    await inNetns(b.netnsPath, ['ip', 'link', 'del', 'eth0']);
    await assert.rejects(net.check(`${tag}-b`), (e: unknown) => e instanceof CniPluginError && e.plugin === 'bridge' && e.command === 'CHECK' && e.message.includes(`pod default/b (uid ${tag}-b)`));
  });

  it('frees the address and removes the namespace on tearDown; a second tearDown is not an error', async () => {
    const a = (await net.status(`${tag}-a`))!;
    await net.tearDown(`${tag}-a`);
    assert.equal(await net.status(`${tag}-a`), undefined);
    assert.ok(!existsSync(a.netnsPath), 'namespace file removed');
    assert.ok(!existsSync(join(dir, 'data', 'ipam', 'navarch', a.ip)), 'host-local released the address');
    assert.deepEqual(await net.list(), [`${tag}-b`]);
    await net.tearDown(`${tag}-a`);
    // A pod whose eth0 is already gone still tears down (host-local DEL runs regardless).
    await net.tearDown(`${tag}-b`);
    assert.deepEqual(await net.list(), []);
  });

  it('names the plugin that broke a setUp and leaves nothing behind', async () => {
    const dataDir = join(dir, 'broken');
    const conflist = bridgeConflist({ podCIDR, bridgeName, ipamDataDir: join(dataDir, 'ipam') });
    conflist.plugins[1].conditionsV4 = ['-m', 'nosuchmatch'];
    const broken = await CniNetwork.open({ dataDir, netnsDir: join(dir, 'netns'), podCIDR, bridgeName, conflist });
    networks.push(broken);
    const req = pod('d', [{ hostPort: await freePort(), containerPort: 80, protocol: 'tcp' }]);
    usedUids.add(req.podUid);
    await assert.rejects(broken.setUp(req), (e: unknown) => {
      assert.ok(e instanceof CniPluginError, String(e));
      assert.equal(e.plugin, 'portmap');
      assert.equal(e.command, 'ADD');
      assert.match(e.message, new RegExp(`^Cannot set up the network of pod default/d \\(uid ${tag}-d\\): CNI plugin "portmap" ADD failed \\(code \\d+\\): .*nosuchmatch`));
      return true;
    });
    assert.deepEqual(await broken.list(), []);
    assert.ok(!existsSync(join(dir, 'netns', `navarch-${tag}-d`)));
    const held = (await readdir(join(dataDir, 'ipam', 'navarch')).catch(() => [])).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
    assert.deepEqual(held, [], 'the address bridge took was released');
  });

  it('does not run portmap for a pod without hostPorts (a portmap that refuses every call leaves it working)', async () => {
    const dataDir = join(dir, 'no-portmap');
    const conflist = bridgeConflist({ podCIDR, bridgeName, ipamDataDir: join(dataDir, 'ipam') });
    // portmap refuses this setting on every ADD and DEL, mappings or not.
    conflist.plugins[1].markMasqBit = 99;
    const n = await CniNetwork.open({ dataDir, netnsDir: join(dir, 'netns'), podCIDR, bridgeName, conflist });
    networks.push(n);
    const plain = pod('e');
    usedUids.add(plain.podUid);
    const up = await n.setUp(plain);
    assert.ok(cidrContains(parseIpv4Cidr(podCIDR, 'podCIDR'), parseIpv4(up.ip)!), `${up.ip} in ${podCIDR}`);
    await n.tearDown(plain.podUid);
    assert.deepEqual(await n.list(), []);
    const mapped = pod('f', [{ hostPort: await freePort(), containerPort: 80, protocol: 'tcp' }]);
    usedUids.add(mapped.podUid);
    // With a hostPort it runs, and refuses (its DEL refuses too, so `after` removes what is left by force).
    await assert.rejects(n.setUp(mapped), (e: unknown) => e instanceof CniPluginError && e.plugin === 'portmap');
  });

  it('refuses to open with a plugin that is not installed, naming it', async () => {
    const conflist = { cniVersion: '1.0.0', name: 'navarch', plugins: [{ type: 'bridge' }, { type: 'no-such-plugin' }] };
    await assert.rejects(CniNetwork.open({ dataDir: join(dir, 'other'), netnsDir: join(dir, 'netns'), podCIDR, conflist }), /CNI plugin "no-such-plugin" VERSION failed: no executable "no-such-plugin" in CNI_PATH/);
  });
});
