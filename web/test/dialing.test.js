import assert from "node:assert/strict";
import { test } from "node:test";

import { dialTarget, dialUri, rejectionText } from "../src/dialing.js";
import { summaryText } from "../src/summary.js";

test("numbers as people write them become what the dialplan wants", () => {
  assert.equal(dialTarget(" 2500 "), "2500");
  assert.equal(dialTarget("+1 (555) 010-0100"), "915550100100");
  assert.equal(dialTarget("9 1 555 010 0100"), "915550100100");
  assert.equal(dialTarget("Queue-Front-Desk"), "queue-front-desk");
  assert.equal(dialTarget("*72#"), "*72#");
});

test("what cannot be dialled is refused before any call", () => {
  for (const bad of ["", "abc", "2500@evil", "sip:2001@x", "1".repeat(21), "queue-", "25 00; drop"]) {
    assert.equal(dialTarget(bad), null, bad);
  }
});

test("a # is escaped in the request URI", () => {
  assert.equal(dialUri("*72#", "frontdesk"), "sip:*72%23@frontdesk");
});

test("refusals are said in words", () => {
  assert.match(rejectionText(403), /outside what the hotel's phones may dial/);
  assert.match(rejectionText(486), /busy/);
  assert.match(rejectionText(503), /could not place the call \(503\)/);
});

test("the warm-transfer summary header reads as plain text", () => {
  const spoken = "Ava here, with a caller for the Front desk. They want a late check-out — room 12, 2 nights. Putting them through now.";
  assert.equal(summaryText(encodeURIComponent(spoken)), spoken);
  assert.equal(summaryText("Late%20check-out%0D%0AX-Evil%3A%201"), "Late check-out X-Evil: 1");
  assert.equal(summaryText("%E0%A4%A"), "%E0%A4%A"); // not percent-encoding: shown as it is
  assert.equal(summaryText(undefined), "");
  assert.equal(summaryText("a".repeat(2000)).length, 1000);
});
