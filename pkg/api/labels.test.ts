import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatFieldError, path } from "./field_errors.js";
import { FieldSelectorError, objectField, parseFieldSelector, supportedFieldSelectors } from "./fields.js";
import {
  LabelSelectorSyntaxError,
  labelSelectorMatches,
  labelSelectorToString,
  parseLabelSelector,
  Selector,
  sameLabels,
  selectorFromLabelSelector,
  validateLabelSelector,
} from "./labels.js";

const web = { app: "web", tier: "frontend", env: "prod", replicas: "3" };

describe("parseLabelSelector", () => {
  it("matches each operator as Kubernetes does", () => {
    const table: Array<[string, Record<string, string> | undefined, boolean]> = [
      ["", web, true],
      ["", undefined, true],
      ["app=web", web, true],
      ["app==web", web, true],
      ["app=db", web, false],
      ["app!=db", web, true],
      ["missing!=x", web, true],
      ["app!=web", web, false],
      ["app in (web,db)", web, true],
      ["app in (db)", web, false],
      ["missing in (a)", web, false],
      ["app notin (db,cache)", web, true],
      ["missing notin (a)", web, true],
      ["app notin (web)", web, false],
      ["app", web, true],
      ["missing", web, false],
      ["!missing", web, true],
      ["!app", web, false],
      ["app=web,tier=frontend", web, true],
      ["app=web,tier=backend", web, false],
      ["app = web , tier in ( frontend , edge ) , !canary", web, true],
      ["replicas>2", web, true],
      ["replicas<3", web, false],
      ["app>1", web, false],
      ["app=", { app: "" }, true],
      ["example.com/role=api", { "example.com/role": "api" }, true],
      ["app in (,web)", { app: "" }, true],
    ];
    for (const [text, labels, want] of table) {
      assert.equal(parseLabelSelector(text).matches(labels), want, `${text} on ${JSON.stringify(labels)}`);
    }
  });

  it("prints a canonical form that parses back", () => {
    const s = parseLabelSelector("tier in (b,a), app=web, !canary, env");
    assert.equal(s.toString(), "app=web,!canary,env,tier in (a,b)");
    assert.equal(parseLabelSelector(s.toString()).toString(), s.toString());
  });

  it("names the problem in bad selectors", () => {
    const table: Array<[string, string]> = [
      ["app in web", 'expected "(" after "in" at position 7, found "web"'],
      ["app in (a", 'expected "," or ")" at position 9, found end of input'],
      ["app in ()", '"in" needs at least one value'],
      ["app=web,", 'a selector may not end with ","'],
      ["app web", 'expected "=", "!=", "in", "notin" or "," after key "app" at position 4, found "web"'],
      ["=web", 'expected a label key at position 0, found "="'],
      ["app>x", 'expected an integer after ">" at position 4, found "x"'],
      ["app=a b", 'expected "," at position 6, found "b"'],
      [
        "Foo_=x",
        `invalid label key "Foo_": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      ],
      [
        "app=-bad",
        `invalid label value "-bad": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      ],
    ];
    for (const [text, reason] of table) {
      assert.throws(
        () => parseLabelSelector(text),
        (e: unknown) =>
          e instanceof LabelSelectorSyntaxError && e.message === `Cannot parse label selector ${JSON.stringify(text)}: ${reason}`,
        text,
      );
    }
  });
});

describe("LabelSelector (API form)", () => {
  it("treats undefined as nothing and {} as everything", () => {
    assert.equal(labelSelectorMatches(undefined, web), false);
    assert.equal(labelSelectorMatches({ matchLabels: {}, matchExpressions: [] }, web), true);
    assert.ok(Selector.nothing().isNothing());
  });

  it("combines matchLabels and matchExpressions", () => {
    const sel = {
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["frontend", "edge"] },
        { key: "env", operator: "NotIn", values: ["dev"] },
        { key: "canary", operator: "DoesNotExist", values: [] },
        { key: "replicas", operator: "Exists", values: [] },
      ],
    };
    assert.equal(labelSelectorMatches(sel, web), true);
    assert.equal(labelSelectorMatches(sel, { ...web, canary: "yes" }), false);
    assert.equal(labelSelectorToString(sel), "app=web,!canary,env notin (dev),replicas,tier in (edge,frontend)");
    assert.equal(labelSelectorToString({ matchLabels: { app: "web" }, matchExpressions: [] }), "app=web");
    assert.deepEqual(selectorFromLabelSelector(sel).equalities(), { app: "web" });
  });

  it("validates operators and values with field paths", () => {
    const errs = validateLabelSelector(
      {
        matchLabels: { "bad key!": "v" },
        matchExpressions: [
          { key: "a", operator: "In", values: [] },
          { key: "b", operator: "Exists", values: ["x"] },
          { key: "c", operator: "Near", values: [] },
        ],
      },
      path("spec", "selector"),
    ).map(formatFieldError);
    assert.equal(errs.length, 4);
    assert.match(errs[0], /^spec\.selector\.matchLabels: Invalid value: "bad key!": name part must consist of/);
    assert.deepEqual(errs.slice(1), [
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      'spec.selector.matchExpressions[2].operator: Invalid value: "Near": not a valid selector operator',
    ]);
    assert.throws(() => selectorFromLabelSelector({ matchLabels: {}, matchExpressions: [{ key: "c", operator: "Near", values: [] }] }), RangeError);
  });
});

describe("field selectors", () => {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web-1", namespace: "shop" },
    spec: { nodeName: "worker-1" },
    status: { phase: "Running" },
  };
  const event = {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "e1", namespace: "shop" },
    involvedObject: { kind: "Pod", name: "web-1", namespace: "shop", uid: "u-1" },
    reason: "Scheduled",
  };

  it("matches objects by their selectable fields", () => {
    assert.ok(parseFieldSelector("metadata.name=web-1", "Pod").matchesObject(pod as never));
    assert.ok(parseFieldSelector("spec.nodeName==worker-1,status.phase!=Pending", "Pod").matchesObject(pod as never));
    assert.ok(!parseFieldSelector("spec.nodeName=", "Pod").matchesObject(pod as never));
    assert.ok(parseFieldSelector("spec.nodeName!=", "Pod").matchesObject(pod as never));
    assert.ok(
      parseFieldSelector("involvedObject.name=web-1,involvedObject.namespace=shop,involvedObject.uid=u-1", "Event").matchesObject(event as never),
    );
    assert.ok(!parseFieldSelector("involvedObject.uid=u-2", "Event").matchesObject(event as never));
    assert.equal(objectField(event as never, "reason"), "Scheduled");
    assert.equal(parseFieldSelector("metadata.name=web-1").exactValue("metadata.name"), "web-1");
    assert.ok(parseFieldSelector("").isEverything());
  });

  it("reads each supported field of a kind, and an unknown one as empty", () => {
    const node = { kind: "Node", metadata: { name: "n" }, spec: { unschedulable: true } };
    const want: Array<[object, string, Record<string, string>]> = [
      [pod, "Pod", {
        "metadata.name": "web-1", "metadata.namespace": "shop", "spec.nodeName": "worker-1", "spec.restartPolicy": "", "spec.schedulerName": "",
        "spec.serviceAccountName": "", "spec.hostNetwork": "false", "status.phase": "Running", "status.podIP": "", "status.nominatedNodeName": "",
      }],
      [event, "Event", {
        "metadata.name": "e1", "metadata.namespace": "shop", "involvedObject.kind": "Pod", "involvedObject.namespace": "shop", "involvedObject.name": "web-1",
        "involvedObject.uid": "u-1", "involvedObject.apiVersion": "", "involvedObject.resourceVersion": "", "involvedObject.fieldPath": "",
        reason: "Scheduled", reportingComponent: "", source: "", type: "",
      }],
      [node, "Node", { "metadata.name": "n", "metadata.namespace": "", "spec.unschedulable": "true" }],
    ];
    for (const [o, kind, fields] of want) {
      assert.deepEqual(supportedFieldSelectors(kind as never), Object.keys(fields));
      for (const [f, v] of Object.entries(fields)) assert.equal(objectField(o as never, f), v, `${kind} ${f}`);
    }
    for (const f of ["spec.unschedulable", "toString", "constructor", ""]) assert.equal(objectField(pod as never, f), "", f);
  });

  it("unescapes values and prints them escaped", () => {
    const s = parseFieldSelector("metadata.name=a\\,b\\=c");
    assert.equal(s.requirements[0].value, "a,b=c");
    assert.equal(s.toString(), "metadata.name=a\\,b\\=c");
  });

  it("refuses fields the kind does not support, and malformed terms", () => {
    const table: Array<[string, string]> = [
      ["spec.foo=1", "field label not supported: spec.foo"],
      ["metadata.name", 'term "metadata.name" has no operator; use "=", "==" or "!="'],
      ["=x", 'term "=x" has no field name'],
      ["metadata.name=a\\qb", 'invalid escape sequence "\\q" in value "a\\\\qb"'],
    ];
    for (const [text, reason] of table) {
      assert.throws(
        () => parseFieldSelector(text, "Pod"),
        (e: unknown) => e instanceof FieldSelectorError && e.reason === reason,
        text,
      );
    }
  });
});

describe("sameLabels", () => {
  it("compares keys and values, with undefined as the empty set", () => {
    assert.equal(sameLabels({ a: "1", b: "2" }, { b: "2", a: "1" }), true);
    assert.equal(sameLabels(undefined, {}), true);
    assert.equal(sameLabels({ a: "1" }, { a: "2" }), false);
    assert.equal(sameLabels({ a: "1" }, { a: "1", b: "2" }), false);
    assert.equal(sameLabels({ a: "1", b: "2" }, { a: "1" }), false);
    assert.equal(sameLabels({ a: "" }, {}), false);
  });
});
