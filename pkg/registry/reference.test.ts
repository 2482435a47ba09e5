import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeRegistryHost, parseReference } from './reference.js';

const D = 'sha256:' + 'ab'.repeat(32);

describe('parseReference', () => {
  const table: [string, string, string, string | undefined, string | undefined][] = [
    // input, registry, repository, tag, digest
    ['busybox', 'docker.io', 'library/busybox', 'latest', undefined],
    ['busybox:1.36', 'docker.io', 'library/busybox', '1.36', undefined],
    ['library/busybox', 'docker.io', 'library/busybox', 'latest', undefined],
    ['user/app:v1', 'docker.io', 'user/app', 'v1', undefined],
    ['docker.io/busybox', 'docker.io', 'library/busybox', 'latest', undefined],
    ['index.docker.io/library/busybox', 'docker.io', 'library/busybox', 'latest', undefined],
    ['localhost/app', 'localhost', 'app', 'latest', undefined],
    ['localhost:5000/app:dev', 'localhost:5000', 'app', 'dev', undefined],
    ['127.0.0.1:5000/navarch/busybox:latest', '127.0.0.1:5000', 'navarch/busybox', 'latest', undefined],
    ['127.0.0.1:5000/navarch/busybox', '127.0.0.1:5000', 'navarch/busybox', 'latest', undefined],
    ['registry.example.com/a/b/c:1.0-rc_1', 'registry.example.com', 'a/b/c', '1.0-rc_1', undefined],
    ['Registry.Example.com/app', 'registry.example.com', 'app', 'latest', undefined],
    [`busybox@${D}`, 'docker.io', 'library/busybox', undefined, D],
    [`127.0.0.1:5000/navarch/busybox:latest@${D}`, '127.0.0.1:5000', 'navarch/busybox', 'latest', D],
    ['[::1]:5000/app', '[::1]:5000', 'app', 'latest', undefined],
    ['my_org/my-app__x', 'docker.io', 'my_org/my-app__x', 'latest', undefined],
  ];
  for (const [input, registry, repository, tag, digest] of table) {
    it(`normalises "${input}" to ${registry} ${repository} ${tag ?? '-'} ${digest ? 'digest' : '-'}`, () => {
      const r = parseReference(input);
      assert.deepEqual([r.registry, r.repository, r.tag, r.digest], [registry, repository, tag, digest]);
      assert.equal(r.full, `${registry}/${repository}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`);
      assert.deepEqual(parseReference(r.full), r, 'the normalised form parses to itself');
    });
  }

  const bad: [string, RegExp][] = [
    ['', /"": it is empty/],
    [' busybox', /leading or trailing spaces/],
    ['Busybox', /repository "Busybox" must be lowercase/],
    ['user/App', /repository "user\/App" must be lowercase/],
    ['busybox:', /tag "" must be/],
    ['busybox:.bad', /tag "\.bad" must be/],
    [`busybox:${'t'.repeat(129)}`, /tag "t+" must be 1 to 128/],
    ['busybox@sha256:abc', /digest "sha256:abc" does not have 64 lowercase hex digits/],
    [`busybox@md5:${'a'.repeat(32)}`, /digest algorithm "md5" is not supported/],
    ['busybox@nocolon', /digest "nocolon" is not algorithm:hex/],
    ['a//b', /empty path component/],
    ['example.com/', /repository "" has an empty path component/],
    ['example.com:port/app', /(registry "example.com:port" is not a valid|tag)/],
    ['bad-.host.com/app', /registry "bad-.host.com" is not a valid host/],
    ['app-/x', /component "app-" must be lowercase letters and digits/],
    [':latest', /the repository name is empty/],
    [`example.com/${'a'.repeat(250)}`, /longer than 255 bytes/],
  ];
  for (const [input, why] of bad) {
    it(`refuses "${input.slice(0, 40)}" saying what is wrong`, () => {
      assert.throws(() => parseReference(input), (e: Error) => e.name === 'ReferenceError' && why.test(e.message) && e.message.startsWith('Cannot parse image reference'));
    });
  }

  it('normalises credential hosts the way references name registries', () => {
    assert.equal(normalizeRegistryHost('https://index.docker.io/v1/'), 'docker.io');
    assert.equal(normalizeRegistryHost('127.0.0.1:5000'), '127.0.0.1:5000');
    assert.equal(normalizeRegistryHost('http://Registry.Example.com'), 'registry.example.com');
  });
});
