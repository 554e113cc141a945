// Call quality from RTCPeerConnection.getStats(): round trip, jitter, packet loss, and an
// estimated MOS from the ITU-T G.107 E-model (narrowband; G.711 with packet loss
// concealment: Ie = 0, Bpl = 25.1, as G.113 Appendix I lists them). Pure functions: tested
// with node's test runner (web/test/quality.test.js).

const CODEC_DELAY_MS = 20; // one 20 ms packet of audio, plus the codec's look-ahead (about none)
const IE = 0;
const BPL = 25.1;

/** R factor and MOS for a one-way delay (ms) and random packet loss (percent). */
export function eModel({ rttMs = 0, jitterMs = 0, lossPct = 0 }) {
  // one way: half the round trip, a jitter buffer of about twice the jitter, the codec
  const d = Math.max(0, rttMs / 2 + 2 * jitterMs + CODEC_DELAY_MS);
  const id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
  const ppl = Math.min(100, Math.max(0, lossPct));
  const ieEff = IE + ((95 - IE) * ppl) / (ppl + BPL);
  const r = 93.2 - id - ieEff;
  return { r, mos: mosOf(r) };
}

/** G.107's mapping from R to MOS (1 … 4.5). */
export function mosOf(r) {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

/** What the listener would call it. */
export function mosWord(mos) {
  if (mos >= 4.0) return "good";
  if (mos >= 3.6) return "fair";
  if (mos >= 3.1) return "poor";
  return "bad";
}

/**
 * One reading from a getStats() report (anything iterable of stats objects: an
 * RTCStatsReport's values()) and the previous reading's counters (or null).
 * Returns { rttMs, jitterMs, lossPct, mos, counters } with null for what the report lacks.
 */
export function reading(stats, previous) {
  let inbound = null;
  let remoteInbound = null;
  let pair = null;
  for (const s of stats) {
    if (s.type === "inbound-rtp" && (s.kind === "audio" || s.mediaType === "audio")) inbound = s;
    else if (s.type === "remote-inbound-rtp" && (s.kind === "audio" || s.mediaType === "audio")) remoteInbound = s;
    else if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s;
  }
  const rttS = remoteInbound?.roundTripTime ?? pair?.currentRoundTripTime ?? null;
  const rttMs = rttS === null || rttS === undefined ? null : rttS * 1000;
  const jitterMs = inbound?.jitter === undefined || inbound === null ? null : inbound.jitter * 1000;
  let lossPct = null;
  let counters = previous?.counters ?? null;
  if (inbound && inbound.packetsReceived !== undefined) {
    const lost = Math.max(0, inbound.packetsLost ?? 0);
    const received = inbound.packetsReceived;
    const before = previous?.counters ?? { lost: 0, received: 0 };
    const dLost = Math.max(0, lost - before.lost);
    const dReceived = Math.max(0, received - before.received);
    lossPct = dLost + dReceived > 0 ? (100 * dLost) / (dLost + dReceived) : 0;
    counters = { lost, received };
  }
  const known = rttMs !== null || jitterMs !== null || lossPct !== null;
  const mos = known ? eModel({ rttMs: rttMs ?? 0, jitterMs: jitterMs ?? 0, lossPct: lossPct ?? 0 }).mos : null;
  return { rttMs, jitterMs, lossPct, mos, counters };
}
