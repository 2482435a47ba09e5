// The plugin runner against small stand-in plugins (shell scripts in a temporary CNI_PATH): what
// it passes them and how it reads their failures. The real plugins run in cni_network.test.ts.

import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CniPluginError, type PluginRun, runPlugin } from './plugin_exec.js';

describe('runPlugin', () => {
  let bin: string;
  const base = (type: string, o: Partial<PluginRun> = {}): PluginRun => ({ type, command: 'ADD', binDirs: [join(bin, 'empty'), bin], config: { cniVersion: '1.0.0', name: 'n', type }, containerId: 'c1', netnsPath: '/run/netns/x', ifName: 'eth0', args: { K8S_POD_NAME: 'web' }, timeoutMs: 10_000, subject: 'Cannot set up pod default/web', ...o });

  before(async () => {
    bin = await mkdtemp(join(tmpdir(), 'navarch-cni-bin-'));
    const script = async (name: string, body: string) => {
      await writeFile(join(bin, name), `#!/bin/sh\n${body}\n`);
      await chmod(join(bin, name), 0o755);
    };
    // Echoes its environment and stdin back as a result.
    await script('echoer', 'conf=$(cat); printf \'{"cniVersion":"1.0.0","env":"%s|%s|%s|%s|%s|%s","conf":%s}\' "$CNI_COMMAND" "$CNI_CONTAINERID" "$CNI_NETNS" "$CNI_IFNAME" "$CNI_ARGS" "$CNI_PATH" "$conf"');
    await script('failer', 'cat >/dev/null; echo \'{"cniVersion":"1.0.0","code":11,"msg":"bridge port in error state","details":"eth0 is down"}\'; exit 1');
    await script('crasher', 'echo panic: oops >&2; exit 2');
    await script('sleeper', 'exec sleep 30');
    await script('babbler', 'echo hello');
  });
  after(() => rm(bin, { recursive: true, force: true }));

  it('passes the operation in CNI_* variables and the configuration on stdin', async () => {
    const r = await runPlugin(base('echoer'));
    assert.equal(r?.env, `ADD|c1|/run/netns/x|eth0|IgnoreUnknown=1;K8S_POD_NAME=web|${join(bin, 'empty')}:${bin}`);
    assert.deepEqual(r?.conf, { cniVersion: '1.0.0', name: 'n', type: 'echoer' });
  });

  it('raises the plugin error with its code, msg and details, naming the plugin', async () => {
    await assert.rejects(runPlugin(base('failer')), (e: unknown) => {
      assert.ok(e instanceof CniPluginError);
      assert.deepEqual([e.plugin, e.command, e.code, e.msg, e.details], ['failer', 'ADD', 11, 'bridge port in error state', 'eth0 is down']);
      assert.equal(e.message, 'Cannot set up pod default/web: CNI plugin "failer" ADD failed (code 11): bridge port in error state: eth0 is down');
      return true;
    });
  });

  it('reports the exit status and stderr of a plugin that fails without an error object', async () => {
    await assert.rejects(runPlugin(base('crasher', { command: 'DEL' })), { message: 'Cannot set up pod default/web: CNI plugin "crasher" DEL failed: exited with status 2: panic: oops' });
  });

  it('kills a plugin that runs past its timeout', async () => {
    await assert.rejects(runPlugin(base('sleeper', { timeoutMs: 200 })), { message: 'Cannot set up pod default/web: CNI plugin "sleeper" ADD failed: did not finish within 200 ms and was killed' });
  });

  it('refuses output that is not a JSON object, and a plugin that is not installed', async () => {
    await assert.rejects(runPlugin(base('babbler')), /CNI plugin "babbler" ADD failed: printed something that is not a JSON object .*: hello/);
    await assert.rejects(runPlugin(base('nope')), /CNI plugin "nope" ADD failed: no executable "nope" in CNI_PATH/);
  });
});
