import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  canonicalQuantity,
  compareQuantities,
  Quantity,
  QUANTITY_ERR_FORMAT,
  QUANTITY_ERR_NUMERIC,
  QUANTITY_ERR_SUFFIX,
  QuantityError,
  quantityToBytes,
  quantityToMilli,
} from "./quantity.js";

describe("Quantity", () => {
  it("writes the canonical form Kubernetes writes", () => {
    const table: Array<[string, string]> = [
      ["500m", "500m"],
      ["0.5", "500m"],
      ["1.5", "1500m"],
      [".5", "500m"],
      ["5.", "5"],
      ["128Mi", "128Mi"],
      ["1Gi", "1Gi"],
      ["1024Mi", "1Gi"],
      ["1536Mi", "1536Mi"],
      ["1.5Gi", "1536Mi"],
      ["0.5Gi", "512Mi"],
      ["0.1Ki", "102400m"],
      ["1023", "1023"],
      ["1024", "1024"],
      ["2k", "2k"],
      ["1000", "1k"],
      ["1500", "1500"],
      ["1000000", "1M"],
      ["100M", "100M"],
      ["1e3", "1e3"],
      ["10e2", "1e3"],
      ["1e4", "10e3"],
      ["1E3", "1e3"],
      ["5e-3", "5e-3"],
      ["1E", "1E"],
      ["0", "0"],
      ["0Mi", "0"],
      ["-0.5", "-500m"],
      ["+2", "2"],
      ["1n", "1n"],
      ["1u", "1u"],
      ["0.0000000001", "1n"],
      ["1.0000000001", "1000000001n"],
      ["007", "7"],
    ];
    for (const [input, canonical] of table) assert.equal(canonicalQuantity(input), canonical, input);
  });

  it("gives milli-units and whole units rounded up", () => {
    assert.equal(quantityToMilli("500m"), 500);
    assert.equal(quantityToMilli("2"), 2000);
    assert.equal(quantityToMilli("0.1"), 100);
    assert.equal(quantityToMilli("1n"), 1);
    assert.equal(quantityToMilli("1.5k"), 1500000);
    assert.equal(quantityToBytes("128Mi"), 134217728);
    assert.equal(quantityToBytes("1Gi"), 1073741824);
    assert.equal(quantityToBytes("1G"), 1000000000);
    assert.equal(quantityToBytes("500m"), 1);
    assert.equal(quantityToBytes("1e3"), 1000);
  });

  it("compares across formats exactly", () => {
    assert.equal(compareQuantities("1", "1000m"), 0);
    assert.equal(compareQuantities("1Ki", "1024"), 0);
    assert.equal(compareQuantities("1k", "1Ki"), -1);
    assert.equal(compareQuantities("2", "1999m"), 1);
    assert.equal(compareQuantities("1e3", "1k"), 0);
    assert.equal(compareQuantities("-1", "0"), -1);
    assert.ok(Quantity.parse("0.1").add(Quantity.parse("0.2")).equals(Quantity.parse("300m")));
    assert.equal(Quantity.parse("1Gi").sub(Quantity.parse("512Mi")).toString(), "512Mi");
    assert.equal(Quantity.fromMilli(1500).toString(), "1500m");
    assert.equal(Quantity.fromBytes(2048).toString(), "2Ki");
  });

  it("parses a text seen before to the same value, and refuses a malformed one every time", () => {
    for (let round = 0; round < 2; round++) {
      assert.equal(Quantity.parse("1500m").milliValue(), 1500);
      assert.equal(Quantity.parse("1.5").toString(), "1500m");
      assert.equal(Quantity.parse("128Mi").value(), 128 * 2 ** 20);
      assert.throws(() => Quantity.parse("12x"), QuantityError);
      assert.equal(Quantity.tryParse("12x"), undefined);
    }
    // Past the table's bound it starts over: still right.
    for (let i = 0; i < 3000; i++) assert.equal(Quantity.parse(`${i}k`).value(), i * 1000);
    assert.equal(Quantity.parse("1500m").milliValue(), 1500);
  });

  it("rejects malformed text with Kubernetes' reason and the input quoted", () => {
    const table: Array<[string, string]> = [
      ["", QUANTITY_ERR_FORMAT],
      ["abc", QUANTITY_ERR_FORMAT],
      ["1 Gi", QUANTITY_ERR_FORMAT],
      ["1.2.3", QUANTITY_ERR_NUMERIC],
      [".", QUANTITY_ERR_NUMERIC],
      ["1Gb", QUANTITY_ERR_FORMAT],
      ["1KiB", QUANTITY_ERR_FORMAT],
      ["2kk", QUANTITY_ERR_SUFFIX],
      ["1mi", QUANTITY_ERR_SUFFIX],
    ];
    for (const [input, reason] of table) {
      assert.throws(
        () => Quantity.parse(input),
        (e: unknown) =>
          e instanceof QuantityError && e.reason === reason && e.message === `Cannot parse quantity ${JSON.stringify(input)}: ${reason}`,
        input,
      );
    }
    assert.equal(Quantity.tryParse("nope"), undefined);
  });
});
