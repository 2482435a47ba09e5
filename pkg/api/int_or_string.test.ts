import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  formatIntOrString,
  intOrString,
  intOrStringValue,
  isPercent,
  resolveFenceposts,
  scaledValueFromIntOrPercent,
} from "./int_or_string.js";

describe("IntOrString", () => {
  it("builds and reads both forms", () => {
    assert.deepEqual(intOrString(3), { intVal: 3, strVal: undefined });
    assert.deepEqual(intOrString("25%"), { intVal: undefined, strVal: "25%" });
    assert.equal(intOrStringValue(intOrString("http")), "http");
    assert.equal(intOrStringValue(intOrString(8080)), 8080);
    assert.equal(formatIntOrString(undefined), "<none>");
    assert.ok(isPercent(intOrString("10%")));
    assert.ok(!isPercent(intOrString("http")));
  });

  it("scales percentages against a total, rounding as asked", () => {
    const table: Array<[number | string, number, boolean, number]> = [
      [2, 10, true, 2],
      ["25%", 10, true, 3],
      ["25%", 10, false, 2],
      ["10%", 30, true, 3],
      ["10%", 30, false, 3],
      ["0%", 10, true, 0],
      ["100%", 7, false, 7],
      ["33%", 1, true, 1],
      ["33%", 1, false, 0],
    ];
    for (const [v, total, up, want] of table) {
      assert.equal(scaledValueFromIntOrPercent(intOrString(v), total, up), want, `${v} of ${total} ${up ? "up" : "down"}`);
    }
    assert.throws(() => scaledValueFromIntOrPercent(intOrString("http"), 10, true), {
      name: "RangeError",
      message: 'Cannot scale IntOrString "http": a string value must be a percentage such as "25%"',
    });
  });

  it("resolves Deployment fenceposts as Kubernetes does", () => {
    assert.deepEqual(resolveFenceposts(intOrString("25%"), intOrString("25%"), 10), { surge: 3, unavailable: 2 });
    assert.deepEqual(resolveFenceposts(intOrString("25%"), intOrString("25%"), 1), { surge: 1, unavailable: 0 });
    assert.deepEqual(resolveFenceposts(intOrString(0), intOrString("10%"), 5), { surge: 0, unavailable: 1 });
    assert.deepEqual(resolveFenceposts(intOrString(0), intOrString(0), 5), { surge: 0, unavailable: 1 });
  });
});
