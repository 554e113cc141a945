import assert from "node:assert/strict";
import { test } from "node:test";

import { eModel, mosOf, mosWord, reading } from "../src/quality.js";

test("a clean line scores about 4.4, the narrowband E-model's best", () => {
  const { r, mos } = eModel({ rttMs: 0, jitterMs: 0, lossPct: 0 });
  // d = 20 ms: Id = 0.48, R = 92.72; MOS = 1 + 0.035 R + 7e-6 R (R - 60)(100 - R)
  assert.ok(Math.abs(r - 92.72) < 1e-9, String(r));
  assert.ok(Math.abs(mos - (1 + 0.035 * 92.72 + 7e-6 * 92.72 * 32.72 * 7.28)) < 1e-9);
  assert.equal(mosWord(mos), "good");
});

test("delay past 177.3 ms one way costs more than before it", () => {
  const before = eModel({ rttMs: 2 * (170 - 20) }).r; // d = 170
  const after = eModel({ rttMs: 2 * (190 - 20) }).r; // d = 190
  assert.ok(Math.abs(93.2 - 0.024 * 170 - before) < 1e-9);
  assert.ok(Math.abs(93.2 - 0.024 * 190 - 0.11 * (190 - 177.3) - after) < 1e-9);
});

test("five percent loss brings a clean line down to fair or worse", () => {
  const { r, mos } = eModel({ lossPct: 5 });
  const ieEff = (95 * 5) / (5 + 25.1);
  assert.ok(Math.abs(r - (93.2 - 0.48 - ieEff)) < 1e-9);
  assert.ok(mos < 4.0 && mos > 3.0, String(mos));
});

test("R outside 0..100 maps to MOS 1 and 4.5", () => {
  assert.equal(mosOf(-5), 1);
  assert.equal(mosOf(120), 4.5);
  assert.equal(mosWord(1), "bad");
});

test("a getStats reading takes RTT from remote-inbound-rtp, jitter and loss from inbound-rtp", () => {
  const first = reading(
    [
      { type: "inbound-rtp", kind: "audio", jitter: 0.004, packetsLost: 0, packetsReceived: 100 },
      { type: "remote-inbound-rtp", kind: "audio", roundTripTime: 0.05 },
      { type: "candidate-pair", nominated: true, state: "succeeded", currentRoundTripTime: 0.09 },
    ],
    null,
  );
  assert.equal(first.rttMs, 50);
  assert.equal(first.jitterMs, 4);
  assert.equal(first.lossPct, 0);
  const second = reading(
    [{ type: "inbound-rtp", kind: "audio", jitter: 0.01, packetsLost: 10, packetsReceived: 190 }],
    first,
  );
  // 10 lost of the 100 expected since the first reading
  assert.equal(second.lossPct, 10);
  assert.equal(second.rttMs, null);
  assert.ok(second.mos < first.mos);
});

test("without RTP statistics there is nothing to estimate", () => {
  const none = reading([{ type: "transport" }], null);
  assert.deepEqual([none.rttMs, none.jitterMs, none.lossPct, none.mos], [null, null, null, null]);
});

test("the candidate pair's RTT stands in when the far end sends no RTCP report yet", () => {
  const r = reading([{ type: "candidate-pair", nominated: true, state: "succeeded", currentRoundTripTime: 0.03 }], null);
  assert.equal(r.rttMs, 30);
});
