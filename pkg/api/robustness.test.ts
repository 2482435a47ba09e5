import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { decodeStored, encodeBinary } from "./convert/binary.js";
import { DecodeError, decodeObject } from "./convert/object.js";
import { parseYamlDocuments } from "./convert/yaml.js";
import { applyDefaults } from "./defaults/defaults.js";
import { validateObject } from "./validation/validate.js";

const TESTDATA = fileURLToPath(new URL("./testdata/", import.meta.url));
const seeds = readdirSync(TESTDATA)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => parseYamlDocuments(readFileSync(TESTDATA + f, "utf8"))[0].value);

// Small seeded PRNG (mulberry32) so a failure replays.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_VALUES: unknown[] = [null, 0, -1, 1.5, 2 ** 40, "", "x", "-1", "25%", "1Gi", true, [], {}, [1], { a: 1 }, "\u0000", "a".repeat(300)];

function mutate(value: unknown, r: () => number, depth = 0): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || r() < 0.1) return ODD_VALUES[Math.floor(r() * ODD_VALUES.length)];
    const i = Math.floor(r() * value.length);
    const copy = [...value];
    copy[i] = mutate(copy[i], r, depth + 1);
    return copy;
  }
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value);
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const roll = r();
    if (keys.length === 0 || roll < 0.1) copy[`unknown${Math.floor(r() * 10)}`] = ODD_VALUES[Math.floor(r() * ODD_VALUES.length)];
    else if (roll < 0.15) delete copy[keys[Math.floor(r() * keys.length)]];
    else {
      const k = keys[Math.floor(r() * keys.length)];
      copy[k] = depth > 12 || r() < 0.2 ? ODD_VALUES[Math.floor(r() * ODD_VALUES.length)] : mutate(copy[k], r, depth + 1);
    }
    return copy;
  }
  return ODD_VALUES[Math.floor(r() * ODD_VALUES.length)];
}

describe("bad input", () => {
  it("mutated manifests only ever fail with DecodeError, and what decodes defaults, validates and encodes", () => {
    const r = rng(20240501);
    let decoded = 0;
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const input = mutate(seeds[i % seeds.length], r);
      let object;
      try {
        object = decodeObject(input).object;
        decoded++;
      } catch (e) {
        assert.ok(e instanceof DecodeError, `iteration ${i}: ${String(e)}`);
        assert.ok(e.message.length > 0);
        rejected++;
        continue;
      }
      applyDefaults(object);
      validateObject(object);
      assert.deepStrictEqual(decodeStored(encodeBinary(object)), object, `iteration ${i}`);
    }
    assert.ok(decoded > 100 && rejected > 100, `decoded ${decoded}, rejected ${rejected}`);
  });

  it("random bytes never decode into a crash", () => {
    const r = rng(7);
    for (let i = 0; i < 2000; i++) {
      const bytes = new Uint8Array(Math.floor(r() * 64)).map(() => Math.floor(r() * 256));
      try {
        decodeStored(bytes);
      } catch (e) {
        assert.ok(e instanceof DecodeError, `iteration ${i}: ${String(e)}`);
      }
    }
  });
});
