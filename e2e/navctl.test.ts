// The real navctl binary (bin/navctl.js) against three `navarch master` processes, the way a user
// drives it: the config file in ./.navarch, apply of a manifest directory (YAML and JSON), apply
// again (unchanged) and after an edit (configured, keeping a label set by hand), get in each
// output form, label with and without --overwrite, describe, a manifest with bad documents, delete,
// and kubectl's messages and exit codes.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import { ROOT } from '../pkg/localcluster/process.js';
import { envWithoutNavctlSettings, runToExit, type CommandRun } from './command.js';

const BIN = join(ROOT, 'bin/navctl.js');

type Run = CommandRun;

/** This process's environment, with a HOME of the test's own and no navctl settings inherited. */
function userEnv(home: string): NodeJS.ProcessEnv {
  return envWithoutNavctlSettings({ HOME: home });
}

function navctl(cwd: string, home: string, args: string[], input?: string): Promise<Run> {
  return runToExit([process.execPath, BIN, ...args], { cwd, env: userEnv(home), input });
}

/** A navctl that keeps running (get -w): its output so far, and a way to stop it with Ctrl-C. */
function navctlLive(cwd: string, home: string, args: string[]): { output: () => string; stop: () => Promise<number | null> } {
  const env = userEnv(home);
  const p = spawn(process.execPath, [BIN, ...args], { cwd, env });
  let stdout = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  return {
    output: () => stdout,
    stop: async () => {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGINT');
      return exited;
    },
  };
}

async function waitFor(what: string, fn: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function ok(r: Run, what: string): string {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const NAMESPACE = `apiVersion: v1
kind: Namespace
metadata:
  name: demo
`;

function app(image: string, colors: boolean): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  greeting: hello
${colors ? '  color: blue\n' : ''}---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${image}
        ports: [{containerPort: 80}]
        env:
        - name: GREETING
          valueFrom: {configMapKeyRef: {name: web-config, key: greeting}}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
`;
}

const POD_JSON = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'debug', labels: { app: 'debug' } },
  spec: { containers: [{ name: 'sh', image: 'busybox', command: ['sleep', '3600'] }] },
});

const BAD = `apiVersion: v1
kind: ConfigMap
metadata: {name: extra}
data: {a: "1"}
---
apiVersion: v1
kind: Pod
metadata: {name: typo}
spec:
  containerz: [{name: x, image: y}]
---
apiVersion: v1
kind: Pod
metadata: {name: noimage}
spec:
  containers: [{name: x}]
`;

test('navctl apply, get, label, describe and delete against three masters', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-e2e-navctl-'));
  const cluster = await LocalMasterCluster.create({ dir, masters: 3 });
  try {
    cluster.startAll();
    // The user's working directory: .navarch/navctl.yaml as `navarch up` writes it, namespace demo.
    const work = join(dir, 'work');
    const manifests = join(work, 'manifests');
    mkdirSync(join(work, '.navarch'), { recursive: true });
    mkdirSync(manifests, { recursive: true });
    writeFileSync(
      join(work, '.navarch', 'navctl.yaml'),
      ['apiVersion: navctl.navarch.io/v1', 'kind: Config', 'cluster: local', 'endpoints:', ...cluster.members.map((m) => `  - ${m.clientAddress}`), 'namespace: demo', ''].join('\n'),
    );
    writeFileSync(join(manifests, '00-namespace.yaml'), NAMESPACE);
    writeFileSync(join(manifests, '10-app.yaml'), app('nginx:1.25', true));
    writeFileSync(join(manifests, '20-pod.json'), POD_JSON);
    writeFileSync(join(work, 'bad.yaml'), BAD);
    const run = (...args: string[]) => navctl(work, dir, args);

    // Without any config: the message says what to do.
    const lost = await navctl(dir, dir, ['get', 'pods']);
    assert.equal(lost.code, 1);
    assert.match(lost.stderr, /make up/);

    await cluster.waitForLeader();

    assert.equal(
      ok(await run('apply', '-f', 'manifests'), 'apply'),
      'namespace/demo created\nconfigmap/web-config created\ndeployment.apps/web created\nservice/web created\npod/debug created\n',
    );
    assert.equal(
      ok(await run('apply', '-f', 'manifests'), 'apply again'),
      'namespace/demo unchanged\nconfigmap/web-config unchanged\ndeployment.apps/web unchanged\nservice/web unchanged\npod/debug unchanged\n',
    );

    const [wide, yaml, names, describe, byServer] = await Promise.all([
      run('get', 'pods', '-o', 'wide'),
      run('get', 'deploy', 'web', '-o', 'yaml'),
      run('get', 'all', '-o', 'name'),
      run('describe', 'deployment', 'web'),
      navctl(work, dir, ['--server', cluster.members.map((m) => m.clientAddress).join(','), 'get', 'ns', 'demo']),
    ]);
    const lines = ok(wide, 'get -o wide').trimEnd().split('\n');
    assert.match(lines[0], /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
    // No agent runs here: the pod stays Pending (IP and NODE depend on whether a scheduler runs).
    // The Deployment controller may have created web's pods already; they are the only others.
    assert.match(lines.find((l) => l.startsWith('debug ')) ?? '', /^debug\s+0\/1\s+Pending\s+0\s+\d+s\s+\S+\s+\S+\s+<none>\s+<none>$/);
    for (const l of lines.slice(1)) assert.match(l, /^(debug|web-[a-z0-9]+-[a-z0-9]+)\s/);
    const deployment = parse(ok(yaml, 'get -o yaml')) as { kind: string; metadata: { namespace: string; annotations: Record<string, string> }; spec: { replicas: number } };
    assert.equal(deployment.kind, 'Deployment');
    assert.equal(deployment.metadata.namespace, 'demo');
    assert.equal(deployment.spec.replicas, 2);
    assert.ok(deployment.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    const all = ok(names, 'get all -o name').trimEnd().split('\n');
    for (const n of ['pod/debug', 'service/web', 'deployment.apps/web']) assert.ok(all.includes(n), `get all lists ${n}: ${all.join(' ')}`);
    const described = ok(describe, 'describe');
    for (const want of [/^Name:\s+web$/m, /^Namespace:\s+demo$/m, /^Replicas:\s+2 desired/m, /Image:\s+nginx:1\.25/, /GREETING:\s+<set to the key 'greeting' of config map 'web-config'>/, /^Events:/m]) {
      assert.match(described, want);
    }
    assert.doesNotMatch(described, /last-applied-configuration/);
    assert.match(ok(byServer, 'get ns --server'), /^NAME\s+STATUS\s+AGE\ndemo\s+Active\s+\d+s\n$/);

    // Labels: a new key, a refused change, a change with --overwrite, a selector that finds it.
    assert.equal(ok(await run('label', 'deploy', 'web', 'owner=ops'), 'label'), 'deployment.apps/web labeled\n');
    const refused = await run('label', 'deploy', 'web', 'owner=dev');
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, "error: 'owner' already has a value (ops), and --overwrite is false\n");
    assert.equal(ok(await run('label', 'deploy', 'web', 'owner=dev', '--overwrite'), 'label --overwrite'), 'deployment.apps/web labeled\n');
    assert.equal(ok(await run('get', 'deploy', '-l', 'owner=dev', '-o', 'name'), 'get -l'), 'deployment.apps/web\n');

    // An edited manifest: image changed, a key removed; the hand-set label stays. A watch sees it.
    const watch = navctlLive(work, dir, ['get', 'deploy', '-w']);
    await waitFor('the watch to print its table', () => /^NAME.*\nweb\s+\d\/2/.test(watch.output()));
    writeFileSync(join(manifests, '10-app.yaml'), app('nginx:1.26', false));
    assert.equal(
      ok(await run('apply', '--dry-run=server', '-f', join(manifests, '10-app.yaml')), 'apply --dry-run=server'),
      'configmap/web-config configured (server dry run)\ndeployment.apps/web configured (server dry run)\nservice/web unchanged (server dry run)\n',
    );
    assert.equal(
      ok(await run('get', 'deploy', 'web', '-o', 'json'), 'get after dry run').match(/"image": "([^"]+)"/)?.[1],
      'nginx:1.25',
      'a dry run stores nothing',
    );
    assert.equal(
      ok(await run('apply', '-f', join(manifests, '10-app.yaml')), 'apply edited'),
      'configmap/web-config configured\ndeployment.apps/web configured\nservice/web unchanged\n',
    );
    await waitFor('the watch to print the change', () => watch.output().trimEnd().split('\n').length >= 3);
    assert.equal(await watch.stop(), 0);
    assert.match(watch.output(), /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n(web\s+\d\/2\s+\d\s+\d\s+\d+s\n){2,}$/);
    const after = JSON.parse(ok(await run('get', 'deploy,cm', '-o', 'json'), 'get -o json')) as {
      kind: string;
      items: Array<{ kind: string; metadata: { labels?: Record<string, string> }; spec?: { template: { spec: { containers: Array<{ image: string; imagePullPolicy: string }> } } }; data?: Record<string, string> }>;
    };
    assert.equal(after.kind, 'List');
    const dep = after.items.find((i) => i.kind === 'Deployment')!;
    assert.equal(dep.spec!.template.spec.containers[0].image, 'nginx:1.26');
    assert.equal(dep.spec!.template.spec.containers[0].imagePullPolicy, 'IfNotPresent', 'server defaults stay');
    assert.deepEqual(dep.metadata.labels, { app: 'web', owner: 'dev' });
    assert.deepEqual(after.items.find((i) => i.kind === 'ConfigMap')!.data, { greeting: 'hello' });

    // Bad documents: each reported with file, document and field path; the good one still applies.
    const bad = await run('apply', '-f', 'bad.yaml');
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, 'configmap/extra created\n');
    const errors = bad.stderr.trimEnd().split('\n');
    assert.equal(errors.length, 2, bad.stderr);
    assert.match(errors[0], /^error: error validating "bad\.yaml" \(document 2, line 6\): .*spec\.containerz: unknown field/);
    assert.match(errors[1], /^Error from server \(Invalid\): error when applying "bad\.yaml" \(document 3, line 12\): Pod "noimage" is invalid: spec\.containers\[0\]\.image: Required value/);

    // Manifests on stdin, and create (which refuses what exists).
    const stdinCm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: piped}\ndata: {k: v}\n';
    const [piped, created] = await Promise.all([navctl(work, dir, ['apply', '-f', '-'], stdinCm), run('create', 'namespace', 'scratch')]);
    assert.equal(ok(piped, 'apply -f -'), 'configmap/piped created\n');
    assert.equal(ok(created, 'create namespace'), 'namespace/scratch created\n');
    const again = await navctl(work, dir, ['create', '-f', '-'], stdinCm);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'Error from server (AlreadyExists): error when creating "STDIN" (document 1, line 1): configmaps "piped" already exists\n');

    // Delete by name and by manifest; a missing object is kubectl's NotFound, exit 1.
    assert.equal(ok(await run('delete', 'pod', 'debug'), 'delete pod'), 'pod "debug" deleted\n');
    const gone = await run('get', 'pod', 'debug');
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'Error from server (NotFound): pods "debug" not found\n');
    assert.equal(
      ok(await run('delete', '-f', join(manifests, '10-app.yaml')), 'delete -f'),
      'configmap "web-config" deleted\ndeployment.apps "web" deleted\nservice "web" deleted\n',
    );
    const empty = await run('get', 'deploy,svc');
    assert.equal(ok(empty, 'get after delete'), '');
    assert.equal(empty.stderr, 'No resources found in demo namespace.\n');
  } catch (e) {
    for (const m of cluster.members) {
      try {
        process.stderr.write(`--- ${m.logFile} (tail)\n${readFileSync(m.logFile, 'utf8').split('\n').slice(-20).join('\n')}\n`);
      } catch {
        // no log yet
      }
    }
    throw e;
  } finally {
    await cluster.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
});
