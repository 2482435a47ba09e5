import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerStatus, Secret } from '../../../gen/navarch/api/v1/core.js';
import { containerArgv } from './argv.js';
import { Backoff } from './backoff.js';
import { podPhase } from './pod_status.js';
import { parseDockerConfig, registryHost } from './pull_secrets.js';

describe('containerArgv', () => {
  const image = { entrypoint: ['/entry'], cmd: ['--default'] };
  const env = new Map([['NAME', 'world'], ['EMPTY', '']]);
  it('merges command and args with the image as Kubernetes does', () => {
    assert.deepEqual(containerArgv([], [], image, env), ['/entry', '--default']);
    assert.deepEqual(containerArgv([], ['x'], image, env), ['/entry', 'x']);
    assert.deepEqual(containerArgv(['/bin/echo'], [], image, env), ['/bin/echo'], 'command drops the image cmd too');
    assert.deepEqual(containerArgv(['/bin/echo'], ['a', 'b'], image, env), ['/bin/echo', 'a', 'b']);
  });
  it('expands $(VAR) in command and args, keeping unknown references and $$ escapes', () => {
    assert.deepEqual(containerArgv(['echo', 'hi $(NAME)!'], ['$(MISSING)', '$$(NAME)', '[$(EMPTY)]', '$(NAME', 'a$b'], image, env), ['echo', 'hi world!', '$(MISSING)', '$(NAME)', '[]', '$(NAME', 'a$b']);
  });
});

describe('podPhase', () => {
  const running: ContainerStatus = { state: { running: {} } };
  const ok: ContainerStatus = { state: { terminated: { exitCode: 0 } } };
  const failed: ContainerStatus = { state: { terminated: { exitCode: 1 } } };
  const waiting: ContainerStatus = { state: { waiting: { reason: 'ContainerCreating' } } };
  const backingOff: ContainerStatus = { state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } } };
  const cases: Array<[string, string, ContainerStatus[], ContainerStatus[], string]> = [
    ['a container not started yet', 'Always', [], [running, waiting], 'Pending'],
    ['every container running', 'Always', [ok], [running, running], 'Running'],
    ['an init container running', 'Always', [running], [waiting], 'Pending'],
    ['an init container failed under Never', 'Never', [failed], [waiting], 'Failed'],
    ['an init container backing off under OnFailure', 'OnFailure', [backingOff], [waiting], 'Pending'],
    ['all exited under Always', 'Always', [], [ok, failed], 'Running'],
    ['all exited 0 under OnFailure', 'OnFailure', [], [ok, ok], 'Succeeded'],
    ['one failed under OnFailure', 'OnFailure', [], [ok, backingOff], 'Running'],
    ['all exited 0 under Never', 'Never', [], [ok], 'Succeeded'],
    ['one failed under Never', 'Never', [], [ok, failed], 'Failed'],
    ['one crash-looping, one running', 'Always', [], [running, backingOff], 'Running'],
  ];
  for (const [what, policy, inits, apps, phase] of cases) {
    it(`is ${phase} with ${what}`, () => assert.equal(podPhase(policy, inits, apps), phase));
  }
});

describe('parseDockerConfig', () => {
  const secret = (type: string, key: string, text: string): Secret => ({ type, data: { [key]: Buffer.from(text) }, stringData: {} });
  it('reads dockerconfigjson and dockercfg entries, keyed by registry host', () => {
    assert.deepEqual(parseDockerConfig(secret('kubernetes.io/dockerconfigjson', '.dockerconfigjson', '{"auths":{"https://index.docker.io/v1/":{"auth":"YTpi","identitytoken":"t"}}}')), [
      { registry: 'index.docker.io', username: undefined, password: undefined, auth: 'YTpi', identityToken: 't' },
    ]);
    assert.deepEqual(parseDockerConfig(secret('kubernetes.io/dockercfg', '.dockercfg', '{"127.0.0.1:5000":{"username":"u","password":"p"}}')), [
      { registry: '127.0.0.1:5000', username: 'u', password: 'p', auth: undefined, identityToken: undefined },
    ]);
  });
  it('names what is wrong', () => {
    assert.throws(() => parseDockerConfig(secret('Opaque', 'x', '{}')), /secret type "Opaque" is not kubernetes.io\/dockerconfigjson/);
    assert.throws(() => parseDockerConfig(secret('kubernetes.io/dockerconfigjson', '.other', '{}')), /data\[\.dockerconfigjson\]: Required value/);
    assert.throws(() => parseDockerConfig(secret('kubernetes.io/dockerconfigjson', '.dockerconfigjson', '{')), /data\[\.dockerconfigjson\]: invalid JSON/);
    assert.throws(() => parseDockerConfig(secret('kubernetes.io/dockerconfigjson', '.dockerconfigjson', '{"auths":3}')), /expected an object of registries under "auths"/);
  });
  it('strips scheme and path from registry keys', () => {
    assert.equal(registryHost('https://registry.example.com:443/v2/'), 'registry.example.com:443');
    assert.equal(registryHost('127.0.0.1:5000'), '127.0.0.1:5000');
  });
});

describe('Backoff', () => {
  it('doubles from the initial delay to the maximum and starts over after 2 x max without a bump', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 40 });
    const seen: number[] = [];
    let t = 0;
    for (let i = 0; i < 5; i++) {
      b.next('k', t, t);
      seen.push(b.get('k'));
      t += 1;
    }
    assert.deepEqual(seen, [10, 20, 40, 40, 40]);
    assert.equal(b.backoffUntil('k', t, t), t + 40);
    b.next('k', t + 81, t + 81);
    assert.equal(b.get('k'), 10);
  });
  it('keeps at most maxKeys entries, dropping the oldest', () => {
    const b = new Backoff({ maxKeys: 2 });
    for (const k of ['a', 'b', 'c']) b.next(k, 0, 0);
    assert.deepEqual(['a', 'b', 'c'].map((k) => b.get(k)), [0, 10_000, 10_000]);
  });
  it('refuses a maximum below the initial delay', () => {
    assert.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), /need 0 < initialMs <= maxMs, got 10 and 5/);
  });
});
