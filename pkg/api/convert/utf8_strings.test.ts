import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import { useNodeUtf8Strings } from "./utf8_strings.js";

/** A string field's bytes: its length, then the bytes as they are (valid UTF-8 or not). */
function field(bytes: Uint8Array): Uint8Array {
  return new BinaryWriter().bytes(bytes).finish();
}

const decoder = new TextDecoder();

describe("useNodeUtf8Strings", () => {
  it("is installed, and decodes what the library decodes", () => {
    assert.equal(useNodeUtf8Strings(), true);
    const texts = ["", "a", "kube-system", "x".repeat(32), "y".repeat(33), "hollow-4711", "Grüße, 世界 🚀", "é".repeat(40), "2001:2::1f"];
    for (const t of texts) {
      const bytes = new BinaryWriter().string(t).finish();
      assert.equal(new BinaryReader(bytes).string(), t);
    }
  });

  it("turns invalid UTF-8 into U+FFFD as TextDecoder does", () => {
    const cases = [[0xff], [0x41, 0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xc0, 0xaf, 0x41], [0x80, 0x80]];
    for (const c of cases) {
      const bytes = new Uint8Array(c);
      assert.equal(new BinaryReader(field(bytes)).string(), decoder.decode(bytes), `bytes ${c.map((b) => b.toString(16)).join(" ")}`);
    }
  });

  it("still throws in strict mode, and on a length past the end", () => {
    assert.throws(() => new BinaryReader(field(new Uint8Array([0xff]))).string(true));
    assert.throws(() => new BinaryReader(new Uint8Array([5, 0x61, 0x62])).string(), /premature EOF|range|bounds/i);
  });

  it("reads from a view into a larger buffer (a message inside a gRPC frame) at the view's offsets", () => {
    const message = new BinaryWriter().string("héllo").string("world").finish();
    const frame = new Uint8Array(message.byteLength + 10).fill(0x7a);
    frame.set(message, 7);
    const r = new BinaryReader(frame.subarray(7, 7 + message.byteLength));
    assert.deepEqual([r.string(), r.string()], ["héllo", "world"]);
  });

  it("leaves the reader after the string", () => {
    const w = new BinaryWriter().string("first").string("second");
    const r = new BinaryReader(w.finish());
    assert.deepEqual([r.string(), r.string(), r.pos === r.len], ["first", "second", true]);
  });
});
