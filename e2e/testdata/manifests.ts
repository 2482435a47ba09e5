// The e2e tests' manifests (shop.yaml): applied through the client before the tests break things,
// then read back from every master to show they are intact, byte for byte.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeBinary } from '../../pkg/api/convert/binary.js';
import { decodeManifestsStrict } from '../../pkg/api/convert/yaml.js';
import type { KubeObject } from '../../pkg/api/registry.js';
import { NavarchClient } from '../../pkg/client/mod.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface Applied {
  resource: string;
  namespace: string | undefined;
  name: string;
  /** The object as the server stored it (the create's answer). */
  stored: KubeObject;
}

export function loadShopManifests(): Array<{ resource: string; object: KubeObject }> {
  return decodeManifestsStrict(readFileSync(join(HERE, 'shop.yaml'), 'utf8')).map((d) => ({ resource: d.info.resource, object: d.object }));
}

/** Creates every manifest (the Namespace first, as it is listed first). */
export async function applyShop(client: NavarchClient): Promise<Applied[]> {
  const out: Applied[] = [];
  for (const { resource, object } of loadShopManifests()) {
    const stored = await client.create(object);
    out.push({ resource, namespace: stored.metadata?.namespace || undefined, name: stored.metadata?.name ?? '', stored });
  }
  return out;
}

/** Each master, asked alone with a linearizable read, returns every applied object unchanged. */
export async function assertShopIntact(endpoints: readonly string[], applied: readonly Applied[]): Promise<void> {
  for (const endpoint of endpoints) {
    const one = new NavarchClient({ endpoints: [endpoint], retryDeadlineMs: 10_000 });
    try {
      for (const a of applied) {
        const got = await one.get(a.resource, a.namespace, a.name, { serializable: false });
        assert.ok(
          Buffer.from(encodeBinary(got)).equals(Buffer.from(encodeBinary(a.stored))),
          `${a.resource} ${a.namespace ?? ''}/${a.name} on master ${endpoint} differs from what was stored`,
        );
      }
    } finally {
      one.close();
    }
  }
}
