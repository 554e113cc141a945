// The dashboard's figures as people read them: KPI values in their unit, targets, met or
// missed (in words and a sign, never colour alone), sentiment buckets, durations, days, and
// the API's and the exports' addresses for a period. No DOM here: node --test runs it.

// The API's buckets (GET /api/calls?sentiment=): positive >= 0.05, negative <= -0.05.
export const POSITIVE = 0.05;
export const NEGATIVE = -0.05;

const COMPARISON = { ge: "≥", gt: ">", le: "≤", lt: "<" };

function trimmed(value, digits) {
  return Number(value.toFixed(digits)).toString();
}

/** "2 min 5 s", "45 s", "1.5 s". */
export function seconds(value) {
  if (value === null || value === undefined) return "–";
  if (value < 10) return `${trimmed(value, 1)} s`;
  const whole = Math.round(value);
  if (whole < 60) return `${whole} s`;
  const m = Math.floor(whole / 60);
  const s = whole % 60;
  return s ? `${m} min ${s} s` : `${m} min`;
}

/** A call's length as a clock: "2:05". */
export function clock(value) {
  if (value === null || value === undefined) return "–";
  const whole = Math.round(value);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

export function milliseconds(value) {
  if (value === null || value === undefined) return "–";
  return value >= 10000 ? seconds(value / 1000) : `${Math.round(value)} ms`;
}

/** A KPI's value (or target) in its unit. */
export function inUnit(value, unit, key = "") {
  if (value === null || value === undefined) return "–";
  switch (unit) {
    case "ratio":
      return `${trimmed(value * 100, 1)} %`;
    case "seconds":
      return seconds(value);
    case "score":
      return `${trimmed(value, 2)} / 5`;
    case "usd":
      return `$${value.toFixed(2)}`;
    case "ms":
      return milliseconds(value);
    default:
      return key.endsWith("_ms") ? milliseconds(value) : String(trimmed(value, 2));
  }
}

/** "Target ≥ 80 %", or "" for a figure without a target. */
export function targetText(kpi) {
  if (kpi.target === null || kpi.target === undefined || !kpi.comparison) return "";
  return `Target ${COMPARISON[kpi.comparison] ?? kpi.comparison} ${inUnit(kpi.target, kpi.unit, kpi.key)}`;
}

/** Whether the target was met, as a sign and words (the colour only repeats it). */
export function verdict(kpi) {
  if (!targetText(kpi)) return { state: "none", icon: "", text: "" };
  if (kpi.met === true) return { state: "met", icon: "✓", text: "Target met" };
  if (kpi.met === false) return { state: "missed", icon: "✗", text: "Target missed" };
  return { state: "unknown", icon: "–", text: "No calls to measure" };
}

export function sentimentBucket(value) {
  if (value === null || value === undefined) return "unscored";
  if (value >= POSITIVE) return "positive";
  if (value <= NEGATIVE) return "negative";
  return "neutral";
}

const BUCKET_WORDS = {
  positive: "Positive",
  neutral: "Neutral",
  negative: "Negative",
  unscored: "Not scored",
};

/** "Positive (+0.42)", "Not scored". */
export function sentimentText(value) {
  const bucket = BUCKET_WORDS[sentimentBucket(value)];
  if (value === null || value === undefined) return bucket;
  const sign = value > 0 ? "+" : value < 0 ? "−" : "";
  return `${bucket} (${sign}${Math.abs(value).toFixed(2)})`;
}

export const OUTCOMES = {
  booked: "Booked",
  lead: "Lead",
  transferred: "Transferred",
  taken_over: "Taken over",
  callback: "Callback",
  info: "Information",
  abandoned: "Abandoned",
  failed: "Failed",
  other: "Other",
};

export function outcomeText(outcome) {
  if (!outcome) return "In progress or unknown";
  return OUTCOMES[outcome] ?? outcome;
}

const LANGUAGES = { en: "English", es: "Spanish" };

export function languageText(code) {
  if (!code) return "Unknown";
  return LANGUAGES[code] ?? code;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2026-12-03" as "Dec 3": read as a calendar day, never shifted by a time zone. */
export function dayLabel(day) {
  const [, month, date] = day.split("-").map(Number);
  return `${MONTHS[month - 1]} ${date}`;
}

/** A query string of the non-empty values, in the order given. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** The period and property every API call of the page carries. */
export function periodParams(state) {
  return { from: state.from, to: state.to, property: state.property };
}

export function exportHref(file, state) {
  return `/api/export/${file}${query(periodParams(state))}`;
}

/** "Calls 26–50 of 60". */
export function pageText(offset, shown, total) {
  if (!total) return "";
  return `Calls ${offset + 1}–${offset + shown} of ${total}`;
}

/** The line of the recording's section when this server cannot play it. */
export const NOT_PLAYABLE =
  "This server cannot play it: recordings are encrypted, and only an admin host holding " +
  "RECORDING_IDENTITY can decrypt and play them (open this dashboard there). The download is " +
  "the encrypted file.";
