import assert from "node:assert/strict";
import { test } from "node:test";

import {
  clock,
  dayLabel,
  exportHref,
  inUnit,
  pageText,
  query,
  seconds,
  sentimentBucket,
  sentimentText,
  targetText,
  verdict,
} from "../src/figures.js";

const kpi = (over) => ({ key: "k", label: "K", value: 0.5, target: 0.8, comparison: "ge", met: false, unit: "ratio", ...over });

test("values read in their unit", () => {
  assert.equal(inUnit(0.875, "ratio"), "87.5 %");
  assert.equal(inUnit(0.6667, "ratio"), "66.7 %");
  assert.equal(inUnit(1, "ratio"), "100 %");
  assert.equal(inUnit(205, "seconds"), "3 min 25 s");
  assert.equal(inUnit(4.114, "score"), "4.11 / 5");
  assert.equal(inUnit(0.5, "usd"), "$0.50");
  assert.equal(inUnit(950, "ms"), "950 ms");
  assert.equal(inUnit(12, "count"), "12");
  assert.equal(inUnit(null, "ratio"), "–");
});

test("a target and its verdict are said in words and a sign", () => {
  assert.equal(targetText(kpi({})), "Target ≥ 80 %");
  assert.equal(targetText(kpi({ target: 180, comparison: "lt", unit: "seconds" })), "Target < 3 min");
  assert.equal(targetText(kpi({ target: null, comparison: null })), "");
  assert.deepEqual(verdict(kpi({ met: true })), { state: "met", icon: "✓", text: "Target met" });
  assert.deepEqual(verdict(kpi({ met: false })), { state: "missed", icon: "✗", text: "Target missed" });
  assert.equal(verdict(kpi({ value: null, met: null })).state, "unknown");
  assert.equal(verdict(kpi({ target: null, comparison: null, met: null })).state, "none");
});

test("sentiment buckets match the API's edges", () => {
  assert.equal(sentimentBucket(0.05), "positive");
  assert.equal(sentimentBucket(0.049), "neutral");
  assert.equal(sentimentBucket(-0.05), "negative");
  assert.equal(sentimentBucket(null), "unscored");
  assert.equal(sentimentText(-0.4), "Negative (−0.40)");
  assert.equal(sentimentText(null), "Not scored");
});

test("durations, days and pages", () => {
  assert.equal(seconds(4.2), "4.2 s");
  assert.equal(seconds(120), "2 min");
  assert.equal(clock(125), "2:05");
  assert.equal(dayLabel("2026-12-03"), "Dec 3");
  assert.equal(pageText(25, 5, 30), "Calls 26–30 of 30");
  assert.equal(pageText(0, 0, 0), "");
});

test("addresses carry only what is set", () => {
  assert.equal(query({ from: "2026-12-01", to: "", property: null }), "?from=2026-12-01");
  assert.equal(query({}), "");
  assert.equal(
    exportHref("calls.csv", { from: "2026-11-27", to: "2026-12-03", property: "harborview" }),
    "/api/export/calls.csv?from=2026-11-27&to=2026-12-03&property=harborview",
  );
});
