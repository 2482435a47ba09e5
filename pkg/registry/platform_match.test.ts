import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Descriptor } from '../oci/mod.js';
import { selectPlatform } from './platform_match.js';

const d = (digit: string, os: string, architecture: string, variant?: string): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${digit.repeat(64)}`,
  size: 1,
  platform: { os, architecture, ...(variant ? { variant } : {}) },
});

describe('selectPlatform', () => {
  const list = [d('0', 'unknown', 'unknown'), d('1', 'linux', 'arm', 'v6'), d('2', 'linux', 'arm64', 'v8'), d('3', 'linux', 'amd64'), d('4', 'linux', 'arm', 'v7'), d('5', 'windows', 'amd64')];

  it('picks linux/amd64 for an amd64 machine and skips other operating systems and attestations', () => {
    assert.equal(selectPlatform(list, { os: 'linux', architecture: 'amd64' })?.digest, list[3]!.digest);
  });

  it('treats arm64 without a variant as v8', () => {
    assert.equal(selectPlatform(list, { os: 'linux', architecture: 'arm64' })?.digest, list[2]!.digest);
    assert.equal(selectPlatform([d('6', 'linux', 'arm64')], { os: 'linux', architecture: 'arm64', variant: 'v8' })?.digest, `sha256:${'6'.repeat(64)}`);
  });

  it('prefers an arm machine’s own variant, then an older one, never a newer one', () => {
    assert.equal(selectPlatform(list, { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest, list[4]!.digest);
    assert.equal(selectPlatform([list[1]!], { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest, list[1]!.digest);
    assert.equal(selectPlatform([list[4]!], { os: 'linux', architecture: 'arm', variant: 'v6' }), undefined);
  });

  it('returns undefined when nothing runs here', () => {
    assert.equal(selectPlatform([list[5]!, list[0]!], { os: 'linux', architecture: 'amd64' }), undefined);
  });
});
