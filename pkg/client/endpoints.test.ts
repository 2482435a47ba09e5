import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EndpointPool } from './endpoints.js';

// No call is made: the pool's channels connect only when used.
const ENDPOINTS = ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'];

describe('EndpointPool', () => {
  it('reads elsewhere once the leader is named, and writes to it', () => {
    const pool = new EndpointPool(ENDPOINTS);
    try {
      assert.equal(pool.pick().endpoint, ENDPOINTS[0]);
      pool.noteLeader(ENDPOINTS[0]);
      assert.equal(pool.pick().endpoint, ENDPOINTS[1]);
      assert.equal(pool.pickForWrite().endpoint, ENDPOINTS[0]);
    } finally {
      pool.close();
    }
  });

  it('falls back to reading from the leader when the others fail, until another member leads', () => {
    const pool = new EndpointPool(ENDPOINTS);
    try {
      pool.noteLeader(ENDPOINTS[2]);
      pool.failed(0);
      pool.failed(1);
      assert.equal(pool.pick().endpoint, ENDPOINTS[2]);
      pool.noteLeader(ENDPOINTS[2]);
      assert.equal(pool.pick().endpoint, ENDPOINTS[2], 'the same leader named again: reads stay');
      pool.noteLeader(ENDPOINTS[1]);
      assert.equal(pool.pick().endpoint, ENDPOINTS[2], 'reads already on a member that does not lead');
      pool.noteLeader(ENDPOINTS[2]);
      assert.equal(pool.pick().endpoint, ENDPOINTS[0], 'a newly named leader moves reads off it');
    } finally {
      pool.close();
    }
  });

  it('reads from the member it runs in whenever another member leads', () => {
    const pool = new EndpointPool(ENDPOINTS, false, ENDPOINTS[1]);
    try {
      assert.equal(pool.pick().endpoint, ENDPOINTS[1]);
      pool.noteLeader(ENDPOINTS[1]);
      assert.equal(pool.pick().endpoint, ENDPOINTS[2], 'its member leads: reads move off it');
      assert.equal(pool.homeFrom(2), false);
      pool.noteLeader(ENDPOINTS[0]);
      assert.equal(pool.pick().endpoint, ENDPOINTS[1], 'another member leads: reads come back');
      assert.equal(pool.homeFrom(2), true, 'a watch on member 3 should come back');
      assert.equal(pool.homeFrom(1), false);
      pool.failed(1);
      assert.equal(pool.pick().endpoint, ENDPOINTS[2]);
      pool.noteLeader(ENDPOINTS[0]);
      assert.equal(pool.pick().endpoint, ENDPOINTS[1], 'the next answer brings reads back after a failure');
      pool.noteLeader(ENDPOINTS[1]);
      assert.equal(pool.pick().endpoint, ENDPOINTS[2]);
      pool.noteLeader(ENDPOINTS[2]);
      assert.equal(pool.pick().endpoint, ENDPOINTS[1], 'the member read from now leads: reads come home, not to the next member');
    } finally {
      pool.close();
    }
  });

  it('refuses a member to run in that is not one of the endpoints', () => {
    assert.throws(() => new EndpointPool(ENDPOINTS, false, '127.0.0.1:9'), /The local master 127\.0\.0\.1:9 is not one of the endpoints/);
  });

  it('keeps a lone member for everything', () => {
    const pool = new EndpointPool([ENDPOINTS[0]]);
    try {
      pool.noteLeader(ENDPOINTS[0]);
      assert.equal(pool.pick().endpoint, ENDPOINTS[0]);
    } finally {
      pool.close();
    }
  });
});
