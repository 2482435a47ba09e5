import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../client/testing/fake_clock.js';
import { OCI_MANIFEST } from '../oci/mod.js';
import { parseChallenge } from './auth.js';
import { RegistryClient } from './client.js';
import type { RegistryError } from './errors.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

const BLOB = Buffer.from('layer bytes');
const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(BLOB), size: BLOB.length }, layers: [] }));

/**
 * A registry that wants a bearer token from its own /token endpoint (given for alice:secret, or for the
 * refresh token "refresh-1"), and a /v2/basic/ repository that wants Basic credentials directly.
 */
class AuthRegistry {
  server: Server;
  host = '';
  tokenRequests: { method: string; service: string | null; scope: string | null; authorization: string | undefined; body: string }[] = [];
  issued = 0;

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, `http://${this.host}`);
    let body = '';
    for await (const c of req) body += c;
    if (url.pathname === '/token') {
      this.tokenRequests.push({ method: req.method!, service: url.searchParams.get('service'), scope: url.searchParams.get('scope'), authorization: req.headers.authorization, body });
      const form = new URLSearchParams(body);
      const ok = req.headers.authorization === basic('alice', 'secret') || (req.method === 'POST' && form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === 'refresh-1');
      if (!ok) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      this.issued++;
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.method === 'POST' ? { access_token: `tok-${this.issued}`, expires_in: 300 } : { token: `tok-${this.issued}`, expires_in: 300 }));
    }
    if (url.pathname.startsWith('/v2/basic/')) {
      if (req.headers.authorization !== basic('bob', 'hunter2')) {
        return void res.writeHead(401, { 'www-authenticate': 'Basic realm="test"', 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      }
    } else if (!/^Bearer tok-\d+$/.test(req.headers.authorization ?? '')) {
      const repo = url.pathname.split('/').slice(2, -2).join('/');
      return void res
        .writeHead(401, { 'www-authenticate': `Bearer realm="http://${this.host}/token",service="test-registry",scope="repository:${repo}:pull"`, 'content-type': 'application/json' })
        .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    }
    if (url.pathname.endsWith('/manifests/v1')) return void res.writeHead(200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': sha(MANIFEST) }).end(MANIFEST);
    if (url.pathname.endsWith(`/manifests/sha256:${'1'.repeat(64)}`)) return void res.writeHead(200, { 'content-type': OCI_MANIFEST }).end(MANIFEST);
    if (url.pathname.endsWith('/manifests/old')) return void res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' }).end('{"schemaVersion":1}');
    if (url.pathname.endsWith('/manifests/huge')) return void res.writeHead(200, { 'content-type': OCI_MANIFEST }).end(Buffer.alloc(5 * 1024 * 1024, 0x20));
    if (url.pathname.endsWith(`/blobs/${sha(BLOB)}`)) return void res.writeHead(200).end(BLOB);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
  }
}

async function readAll(r: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('registry authentication', () => {
  const reg = new AuthRegistry();
  before(() => reg.start());
  after(() => new Promise<void>((r) => reg.server.close(() => r())));

  it('parses Bearer and Basic challenges', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"'), {
      scheme: 'bearer',
      params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull,push' },
    });
    assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
  });

  it('answers a Bearer challenge with a token from the realm, asked for with the credentials, and reuses it until it expires', async () => {
    const clock = new FakeClock(1_000_000);
    const client = new RegistryClient({ clock, credentials: [{ registry: reg.host, username: 'alice', password: 'secret' }] });
    reg.tokenRequests = [];
    const resolved = await client.resolve(`${reg.host}/navarch/app:v1`);
    assert.equal(resolved.digest, sha(MANIFEST));
    assert.deepEqual(await readAll(await client.fetchBlob(`${reg.host}/navarch/app:v1`, sha(BLOB))), BLOB);
    assert.deepEqual(
      reg.tokenRequests.map((t) => [t.method, t.service, t.scope, t.authorization]),
      [['GET', 'test-registry', 'repository:navarch/app:pull', basic('alice', 'secret')]],
      'one token served both requests',
    );
    await clock.advance(300_000);
    await client.resolve(`${reg.host}/navarch/app:v1`);
    assert.equal(reg.tokenRequests.length, 1, 'the token that worked is sent up front');
    // A fresh client with the same clock finds the cached token expired and asks again.
    const again = new RegistryClient({ clock, credentials: [{ registry: reg.host, auth: Buffer.from('alice:secret').toString('base64') }] });
    await again.resolve(`${reg.host}/navarch/app:v1`);
    assert.equal(reg.tokenRequests.length, 2);
  });

  it('uses credentials given to one call for that call only, never for a later anonymous one', async () => {
    const client = new RegistryClient();
    const ref = `${reg.host}/navarch/app:v1`;
    const credentials = [{ registry: reg.host, username: 'alice', password: 'secret' }];
    assert.equal((await client.resolve(ref, { credentials })).digest, sha(MANIFEST));
    assert.deepEqual(await readAll(await client.fetchBlob(ref, sha(BLOB), { credentials })), BLOB);
    await assert.rejects(client.resolve(ref), (e: RegistryError) => e.status === 401 && e.message.startsWith(`Cannot authenticate to registry ${reg.host}`));
    await assert.rejects(client.fetchBlob(ref, sha(BLOB)), (e: RegistryError) => e.status === 401);
  });

  it('trades an identity token for an access token by POST', async () => {
    reg.tokenRequests = [];
    const client = new RegistryClient({ credentials: [{ registry: `http://${reg.host}`, identityToken: 'refresh-1' }] });
    assert.equal((await client.resolve(`${reg.host}/navarch/app:v1`)).digest, sha(MANIFEST));
    assert.equal(reg.tokenRequests[0]!.method, 'POST');
    assert.match(reg.tokenRequests[0]!.body, /grant_type=refresh_token&refresh_token=refresh-1/);
  });

  it('fails with the registry, the reference and the token server’s answer when the credentials are wrong', async () => {
    const client = new RegistryClient({ credentials: [{ registry: reg.host, username: 'alice', password: 'wrong' }] });
    await assert.rejects(client.resolve(`${reg.host}/navarch/app:v1`), (e: RegistryError) => {
      assert.equal(e.name, 'RegistryError');
      assert.equal(e.status, 401);
      assert.equal(e.code, 'UNAUTHORIZED');
      assert.match(e.message, new RegExp(`^Cannot authenticate to registry ${reg.host} for ${reg.host}/navarch/app:v1: Cannot get a registry token from http://${reg.host}/token: HTTP 401`));
      return true;
    });
  });

  it('sends Basic credentials when the registry asks for them, and says when there are none', async () => {
    const client = new RegistryClient({ credentials: [{ registry: reg.host, username: 'bob', password: 'hunter2' }] });
    assert.equal((await client.resolve(`${reg.host}/basic/app:v1`)).digest, sha(MANIFEST));
    await assert.rejects(new RegistryClient().resolve(`${reg.host}/basic/app:v1`), (e: RegistryError) => e.status === 401 && /it asks for credentials \(Basic\) and none are configured/.test(e.message));
    const wrong = new RegistryClient({ credentials: [{ registry: reg.host, username: 'bob', password: 'nope' }] });
    await assert.rejects(wrong.resolve(`${reg.host}/basic/app:v1`), (e: RegistryError) => e.status === 401 && /answered HTTP 401 UNAUTHORIZED: authentication required/.test(e.message));
  });

  it('refuses a manifest over 4 MiB without reading it all', async () => {
    const client = new RegistryClient({ credentials: [{ registry: reg.host, username: 'alice', password: 'secret' }] });
    await assert.rejects(client.resolve(`${reg.host}/navarch/app:huge`), (e: RegistryError) => e.code === 'TOO_LARGE' && /over the 4194304-byte limit/.test(e.message));
  });

  it('refuses a manifest whose bytes do not match the digest asked for, and Docker schema 1', async () => {
    const client = new RegistryClient({ credentials: [{ registry: reg.host, username: 'alice', password: 'secret' }] });
    const wanted = `sha256:${'1'.repeat(64)}`;
    await assert.rejects(client.resolve(`${reg.host}/navarch/app@${wanted}`), (e: RegistryError) => e.code === 'DIGEST_MISMATCH' && e.message.includes(`digest is ${sha(MANIFEST)}, not ${wanted}`));
    await assert.rejects(client.resolve(`${reg.host}/navarch/app:old`), (e: RegistryError) => e.code === 'UNSUPPORTED' && /Docker schema 1 is not supported/.test(e.message));
  });
});
