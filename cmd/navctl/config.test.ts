import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, resolveConfig, type ResolveInput } from './config.js';

const CWD = '/work/proj';
const HOME = '/home/u';

function config(endpoints: string[], namespace?: string): string {
  return [`apiVersion: navctl.navarch.io/v1`, 'kind: Config', 'cluster: local', 'endpoints:', ...endpoints.map((e) => `  - ${e}`), ...(namespace ? [`namespace: ${namespace}`] : [])].join('\n');
}

function input(files: Record<string, string>, o: Partial<ResolveInput> = {}): ResolveInput {
  return { env: {}, cwd: CWD, home: HOME, readFile: (p) => files[p], ...o };
}

test('resolveConfig() takes --server before every other source', () => {
  const files = { [`${CWD}/.navarch/navctl.yaml`]: config(['127.0.0.1:1']) };
  const r = resolveConfig(input(files, { server: '127.0.0.1:7001, 127.0.0.1:7002', env: { NAVCTL_SERVER: '127.0.0.1:9' } }));
  assert.deepEqual(r, { endpoints: ['127.0.0.1:7001', '127.0.0.1:7002'], namespace: 'default', source: '--server' });
});

test('resolveConfig() takes NAVCTL_SERVER before config files', () => {
  const r = resolveConfig(input({}, { config: 'x.yaml', env: { NAVCTL_SERVER: 'localhost:2379' } }));
  assert.deepEqual(r.endpoints, ['localhost:2379']);
  assert.equal(r.source, 'NAVCTL_SERVER');
});

test('resolveConfig() reads --config relative to the working directory, with its namespace', () => {
  const files = { [`${CWD}/conf/n.yaml`]: config(['127.0.0.1:5'], 'team-a'), [`${CWD}/.navarch/navctl.yaml`]: config(['127.0.0.1:1']) };
  const r = resolveConfig(input(files, { config: 'conf/n.yaml', env: { NAVCTL_CONFIG: '/elsewhere.yaml' } }));
  assert.deepEqual(r, { endpoints: ['127.0.0.1:5'], namespace: 'team-a', source: `${CWD}/conf/n.yaml` });
});

test('resolveConfig() takes NAVCTL_CONFIG, then ./.navarch, then ~/.navarch', () => {
  const local = `${CWD}/.navarch/navctl.yaml`;
  const home = `${HOME}/.navarch/navctl.yaml`;
  const all = { '/etc/n.yaml': config(['127.0.0.1:3']), [local]: config(['127.0.0.1:1']), [home]: config(['127.0.0.1:2']) };
  assert.equal(resolveConfig(input(all, { env: { NAVCTL_CONFIG: '/etc/n.yaml' } })).endpoints[0], '127.0.0.1:3');
  assert.equal(resolveConfig(input(all)).endpoints[0], '127.0.0.1:1');
  assert.equal(resolveConfig(input({ [home]: all[home] })).endpoints[0], '127.0.0.1:2');
});

test('resolveConfig() with no source says to run make up or pass --server', () => {
  assert.throws(() => resolveConfig(input({})), (e: Error) => e instanceof ConfigError && /make up/.test(e.message) && /--server/.test(e.message));
});

test('resolveConfig() names a missing --config file', () => {
  assert.throws(() => resolveConfig(input({}, { config: '/nope.yaml' })), /Cannot read navctl config \/nope\.yaml \(from --config\): no such file/);
});

test('resolveConfig() names the bad field of a config file', () => {
  const p = `${CWD}/.navarch/navctl.yaml`;
  assert.throws(() => resolveConfig(input({ [p]: config(['127.0.0.1:1', 'nohost']) })), new RegExp(`${p}: endpoints\\[1\\]: "nohost" is not host:port`));
  assert.throws(() => resolveConfig(input({ [p]: 'apiVersion: v1\nkind: Config\nendpoints: [a:1]' })), /apiVersion: expected "navctl.navarch.io\/v1", got "v1"/);
  assert.throws(() => resolveConfig(input({ [p]: `apiVersion: navctl.navarch.io/v1\nkind: Config\nendpoints: []` })), /endpoints: expected a non-empty list/);
  assert.throws(() => resolveConfig(input({ [p]: 'a: [' })), /Cannot parse navctl config/);
});

test('resolveConfig() refuses a bad --server list', () => {
  assert.throws(() => resolveConfig(input({}, { server: '127.0.0.1' })), /Invalid --server: "127.0.0.1" is not host:port/);
  assert.throws(() => resolveConfig(input({}, { server: 'h:99999' })), /"h:99999" is not host:port/);
  assert.throws(() => resolveConfig(input({}, { server: ',' })), /Invalid --server ",": expected host:port/);
});
