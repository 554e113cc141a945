// The managers' dashboard (templates/dashboard.html): KPI tiles, charts over time, the call
// list and a call's detail, all read from the analytics API (/api/...). The period, property,
// filters, page and open call live in the address (so a reload or a shared link shows the
// same), and the tiles and the list are read again every few seconds while the tab is visible.
// Everything the API sends is put on the page as text, never as markup.

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

import {
  NOT_PLAYABLE,
  clock,
  dayLabel,
  exportHref,
  inUnit,
  languageText,
  milliseconds,
  outcomeText,
  pageText,
  periodParams,
  query,
  seconds,
  sentimentBucket,
  sentimentText,
  targetText,
  verdict,
} from "./figures.js";

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);

const PAGE_SIZE = 25;
const root = document.getElementById("dashboard");
const $ = (id) => document.getElementById(id);
const ui = {
  status: $("live-status"),
  connection: $("connection"),
  range: $("range"),
  from: $("from"),
  to: $("to"),
  property: $("property"),
  rangeError: $("range-error"),
  exports: document.querySelectorAll("[data-export]"),
  kpis: $("kpis"),
  kpisEmpty: $("kpis-empty"),
  kpisScope: $("kpis-scope"),
  callsTable: document.querySelector("#calls-table tbody"),
  moodTable: document.querySelector("#mood-table tbody"),
  filters: $("filters"),
  outcome: $("outcome"),
  language: $("language"),
  sentiment: $("sentiment"),
  filtersError: $("filters-error"),
  calls: document.querySelector("#calls tbody"),
  callsCount: $("calls-count"),
  callsEmpty: $("calls-empty"),
  prev: $("prev"),
  next: $("next"),
  pageInfo: $("page-info"),
  detail: $("detail"),
  detailHeading: $("detail-heading"),
  detailError: $("detail-error"),
  detailSummary: $("detail-summary"),
  detailFacts: $("detail-facts"),
  recording: $("recording"),
  ivr: $("ivr"),
  turns: $("turns"),
  turnsEmpty: $("turns-empty"),
  tools: $("tools"),
  toolsEmpty: $("tools-empty"),
  close: $("close-detail"),
};

const FILTERS = ["outcome", "language", "sentiment"];
// No period in the address: the API's default (the last 7 days, today included, in the
// property's or the group's reporting time zone), read back from its first answer.
const state = {
  from: "",
  to: "",
  property: "",
  outcome: "",
  language: "",
  sentiment: "",
  offset: 0,
  call: "",
};
const refreshMs = Number(root.dataset.refreshMs) || 15000;
const properties = new Map(); // id -> name, from the group's KPIs
let timer = null;
let lastCalls = ""; // the list as last drawn: a refresh that changes nothing redraws nothing
let updatedAt = null;

// --- the API ----------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

class Offline extends Error {}

async function api(path) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "application/json" } });
  } catch {
    throw new Offline("no answer");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const said = body && (body.message || body.error);
    throw new ApiError(
      response.status,
      typeof said === "string" && said ? said : `The server answered ${response.status}.`,
    );
  }
  return body;
}

// --- the address ------------------------------------------------------------------------------
function readAddress() {
  const params = new URLSearchParams(location.search);
  for (const name of ["from", "to", "property", ...FILTERS, "call"]) {
    if (params.get(name)) state[name] = params.get(name);
  }
  const offset = Number(params.get("offset"));
  state.offset = Number.isInteger(offset) && offset > 0 ? offset : 0;
  // a manager of one property sees only it, whatever the address says
  const fixed = ui.property.dataset.fixed;
  if (fixed && state.property !== fixed) {
    const named = Boolean(state.property); // an address naming another property is put right
    state.property = fixed;
    if (named) writeAddress();
  }
}

function writeAddress() {
  const { from, to, property, outcome, language, sentiment, offset, call } = state;
  const search = query({ from, to, property, outcome, language, sentiment, offset: offset || "", call });
  history.replaceState(null, "", `${location.pathname}${search}`);
}

function showForm() {
  ui.from.value = state.from || root.dataset.defaultFrom;
  ui.to.value = state.to || root.dataset.defaultTo;
  ensureOption(state.property, state.property);
  ui.property.value = state.property;
  for (const name of FILTERS) ui[name].value = state[name];
  for (const link of ui.exports) link.href = exportHref(link.dataset.export, state);
}

function ensureOption(id, name) {
  if (!id) return;
  const existing = [...ui.property.options].find((o) => o.value === id);
  if (existing) {
    existing.textContent = name;
    return;
  }
  const option = document.createElement("option");
  option.value = id;
  option.textContent = name;
  ui.property.append(option);
}

// --- status -----------------------------------------------------------------------------------
function setStatus(kind, text) {
  ui.status.dataset.state = kind;
  ui.status.textContent = text;
}

function connectionLost() {
  const since = updatedAt ? ` The figures below are from ${updatedAt.toLocaleTimeString()}.` : "";
  ui.connection.textContent = `Lost the connection to the server: trying again every ${Math.round(refreshMs / 1000)} s.${since}`;
  ui.connection.hidden = false;
  setStatus("down", "Not connected");
}

function sessionEnded() {
  ui.connection.textContent = "";
  const link = document.createElement("a");
  link.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
  link.textContent = "Sign in again";
  ui.connection.append("Your session has ended. ", link, " to see the dashboard.");
  ui.connection.hidden = false;
  setStatus("down", "Signed out");
  stopTimer();
}

function paused() {
  setStatus("paused", "Paused while this tab is hidden");
}

function connected() {
  ui.connection.hidden = true;
  updatedAt = new Date();
  if (document.visibilityState !== "visible") {
    paused(); // a read that was on its way when the tab was hidden
    return;
  }
  setStatus(
    "live",
    `Live: updated ${updatedAt.toLocaleTimeString()}, refreshing every ${Math.round(refreshMs / 1000)} s`,
  );
}

/** What a failed read means for the page; `where` shows a 400's message next to its form. */
function failed(error, where) {
  if (error instanceof Offline) {
    connectionLost();
  } else if (error instanceof ApiError && error.status === 401) {
    sessionEnded();
  } else if (error instanceof ApiError) {
    where.textContent = error.message;
  } else {
    where.textContent = "Something went wrong showing these figures: reload the page.";
    console.warn(error);
  }
}

// --- KPI tiles --------------------------------------------------------------------------------
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function tile(kpi) {
  const li = el("li", "kpi");
  li.dataset.key = kpi.key;
  const judged = verdict(kpi);
  li.dataset.state = judged.state;
  li.append(el("h3", "kpi-label", kpi.label));
  li.append(el("p", "kpi-value", inUnit(kpi.value, kpi.unit, kpi.key)));
  const target = targetText(kpi);
  li.append(el("p", "kpi-target", target || "No target"));
  if (judged.text) {
    const verdictLine = el("p", "kpi-verdict");
    const icon = el("span", "icon", judged.icon);
    icon.setAttribute("aria-hidden", "true");
    verdictLine.append(icon, ` ${judged.text}`);
    li.append(verdictLine);
  }
  return li;
}

async function loadKpis() {
  const body = await api(`/api/kpis${query(periodParams(state))}`);
  if (!state.from || !state.to) {
    state.from = body.from;
    state.to = body.to;
    showForm();
  }
  for (const prop of body.properties ?? []) {
    if (!properties.has(prop.property_id)) {
      properties.set(prop.property_id, prop.name);
      ensureOption(prop.property_id, prop.name);
    }
  }
  const scope =
    (state.property && (body.properties ?? []).find((p) => p.property_id === state.property)) ||
    body.group;
  const only = body.properties?.length === 1 ? body.properties[0].name : null; // bound to one
  const name = state.property ? properties.get(state.property) ?? state.property : only ?? "all properties";
  ui.kpisScope.textContent = `(${name}, ${dayLabel(body.from ?? state.from)} to ${dayLabel(body.to ?? state.to)})`;
  ui.kpis.replaceChildren(...(scope?.kpis ?? []).map(tile));
  ui.kpisEmpty.hidden = (scope?.calls ?? 0) > 0;
}

// --- charts over time -------------------------------------------------------------------------
const COLOURS = {
  booked: "#1a7f37",
  transferred: "#0b5cad",
  abandoned: "#a40e26",
  other: "#8c959f",
  satisfaction: "#0b5cad",
  sentiment: "#9a6700",
};

const baseOptions = () => ({
  responsive: true,
  maintainAspectRatio: false,
  animation: false,
  interaction: { mode: "index", intersect: false },
  plugins: { legend: { position: "bottom", labels: { boxWidth: 12, font: { size: 12 } } } },
});

let callsChart = null;
let moodChart = null;
let sentimentChart = null;

function drawDaily(days) {
  const labels = days.map((d) => dayLabel(d.day));
  const other = days.map((d) => Math.max(0, d.calls - d.booked - d.transferred - d.abandoned));
  const bars = [
    ["Booked", days.map((d) => d.booked), COLOURS.booked],
    ["Transferred", days.map((d) => d.transferred), COLOURS.transferred],
    ["Abandoned", days.map((d) => d.abandoned), COLOURS.abandoned],
    ["Other outcomes", other, COLOURS.other],
  ].map(([label, data, colour]) => ({ label, data, backgroundColor: colour, stack: "calls" }));
  if (!callsChart) {
    const options = baseOptions();
    options.scales = {
      x: { stacked: true, ticks: { autoSkip: true, maxRotation: 0 } },
      y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Calls" } },
    };
    callsChart = new Chart($("calls-chart"), { type: "bar", data: { labels, datasets: bars }, options });
  } else {
    callsChart.data.labels = labels;
    callsChart.data.datasets = bars;
    callsChart.update("none");
  }
  const lines = [
    {
      label: "Satisfaction (1–5)",
      data: days.map((d) => d.satisfaction),
      borderColor: COLOURS.satisfaction,
      backgroundColor: COLOURS.satisfaction,
      yAxisID: "y",
    },
    {
      label: "Sentiment (−1 to 1)",
      data: days.map((d) => d.sentiment),
      borderColor: COLOURS.sentiment,
      backgroundColor: COLOURS.sentiment,
      borderDash: [6, 4], // told apart by the dash, not only the colour
      pointStyle: "rectRot",
      yAxisID: "y1",
    },
  ];
  if (!moodChart) {
    const options = baseOptions();
    options.scales = {
      x: { ticks: { autoSkip: true, maxRotation: 0 } },
      y: { min: 1, max: 5, position: "left", title: { display: true, text: "Satisfaction" } },
      y1: {
        min: -1,
        max: 1,
        position: "right",
        grid: { drawOnChartArea: false },
        title: { display: true, text: "Sentiment" },
      },
    };
    moodChart = new Chart($("mood-chart"), { type: "line", data: { labels, datasets: lines }, options });
  } else {
    moodChart.data.labels = labels;
    moodChart.data.datasets = lines;
    moodChart.update("none");
  }
  ui.callsTable.replaceChildren(
    ...days.map((d) =>
      row([dayLabel(d.day), d.calls, d.automated, d.booked, d.transferred, d.abandoned], true),
    ),
  );
  ui.moodTable.replaceChildren(
    ...days.map((d) =>
      row(
        [
          dayLabel(d.day),
          d.satisfaction === null ? "–" : d.satisfaction.toFixed(2),
          d.sentiment === null ? "–" : d.sentiment.toFixed(2),
          seconds(d.avg_duration_s),
        ],
        true,
      ),
    ),
  );
}

function row(cells, firstIsHeader = false) {
  const tr = document.createElement("tr");
  cells.forEach((cell, i) => {
    const td = document.createElement(firstIsHeader && i === 0 ? "th" : "td");
    if (firstIsHeader && i === 0) td.scope = "row";
    td.textContent = String(cell);
    tr.append(td);
  });
  return tr;
}

async function loadDaily() {
  const body = await api(`/api/kpis/daily${query(periodParams(state))}`);
  drawDaily(body.days ?? []);
}

// --- the call list ----------------------------------------------------------------------------
const when = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

function startedText(iso) {
  return when.format(new Date(iso));
}

function cell(label, content, className) {
  const td = document.createElement("td");
  td.dataset.label = label;
  if (className) td.className = className;
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  return td;
}

function callRow(call) {
  const tr = document.createElement("tr");
  tr.dataset.id = call.id;
  const open = el("button", "open-call", call.caller);
  open.type = "button";
  open.setAttribute("aria-pressed", String(call.id === state.call));
  open.setAttribute("aria-label", `${call.caller}, ${startedText(call.started_at)}: open the call`);
  open.addEventListener("click", () => openCall(call.id, true));
  const outcome = outcomeText(call.outcome) + (call.automated ? " · AI only" : "");
  tr.append(
    cell("Started", startedText(call.started_at), "started"),
    cell("Caller", open),
    cell("Outcome", outcome, "outcome"),
    cell("Length", clock(call.duration_s), "length"),
    cell("Language", languageText(call.language), "language"),
    cell("Sentiment", sentimentText(call.sentiment), `sentiment s-${sentimentBucket(call.sentiment)}`),
    cell("Summary", call.summary || "–", "summary"),
  );
  if (call.id === state.call) tr.classList.add("open");
  return tr;
}

async function loadCalls() {
  const { outcome, language, sentiment, offset } = state;
  const params = { ...periodParams(state), outcome, language, sentiment, limit: PAGE_SIZE, offset };
  const body = await api(`/api/calls${query(params)}`);
  const calls = body.calls ?? [];
  const total = body.total ?? calls.length;
  if (!calls.length && offset > 0 && total > 0) {
    state.offset = Math.max(0, Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE); // past the end
    writeAddress();
    return loadCalls();
  }
  ui.filtersError.textContent = "";
  ui.callsCount.textContent = `(${total})`;
  ui.callsEmpty.hidden = calls.length > 0;
  ui.pageInfo.textContent = pageText(offset, calls.length, total);
  ui.prev.disabled = offset === 0;
  ui.next.disabled = offset + calls.length >= total;
  const drawn = JSON.stringify([state.call, calls]);
  if (drawn === lastCalls) return;
  lastCalls = drawn;
  const focused = document.activeElement?.closest?.("#calls tr")?.dataset.id;
  ui.calls.replaceChildren(...calls.map(callRow));
  if (focused) ui.calls.querySelector(`tr[data-id="${CSS.escape(focused)}"] button`)?.focus();
}

// --- a call's detail --------------------------------------------------------------------------
const ROLES = { caller: "Caller", agent: "Receptionist", system: "System", dtmf: "Keys" };

function fact(dl, term, value) {
  const div = document.createElement("div");
  div.append(el("dt", "", term), el("dd", "", value));
  dl.append(div);
}

function yesNo(value, yes, no, unknown = "Unknown") {
  if (value === true) return yes;
  if (value === false) return no;
  return unknown;
}

function renderRecording(call) {
  const rec = call.recording;
  if (!rec) {
    ui.recording.replaceChildren(el("p", "muted", "No recording of this call."));
    return;
  }
  const length = rec.duration_ms ? ` (${seconds(rec.duration_ms / 1000)})` : "";
  if (rec.playable) {
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "none";
    audio.src = rec.href;
    audio.setAttribute("aria-label", `Recording of the call${length}`);
    ui.recording.replaceChildren(audio);
    return;
  }
  const link = el("a", "download", `Download the encrypted recording${length}`);
  link.href = rec.href;
  link.setAttribute("download", "");
  const line = el("p");
  line.append(link);
  ui.recording.replaceChildren(line, el("p", "muted not-playable", NOT_PLAYABLE));
}

function ivrText(call) {
  const path = (call.ivr_path ?? []).map((step) =>
    typeof step === "string" ? step : step.label ?? step.choice ?? step.digit ?? JSON.stringify(step),
  );
  const waits = [];
  if (call.ivr_wait_ms !== null && call.ivr_wait_ms !== undefined) waits.push(`${seconds(call.ivr_wait_ms / 1000)} in the menu`);
  if (call.queue_wait_ms !== null && call.queue_wait_ms !== undefined) waits.push(`${seconds(call.queue_wait_ms / 1000)} waiting in a queue`);
  const route = path.length ? path.join(" → ") : "Straight to the receptionist (no menu)";
  return waits.length ? `${route}; ${waits.join(", ")}` : route;
}

function turnItem(turn) {
  const li = el("li", `turn role-${turn.role}`);
  if (turn.interrupted) li.classList.add("interrupted");
  li.append(el("span", "speaker", `${ROLES[turn.role] ?? turn.role}: `), el("span", "said", turn.text));
  const meta = [];
  if (turn.latency_ms !== null && turn.latency_ms !== undefined) meta.push(`replied in ${milliseconds(turn.latency_ms)}`);
  if (turn.role === "caller" || turn.sentiment !== null) meta.push(`sentiment ${sentimentText(turn.sentiment)}`);
  const line = el("span", "turn-meta", meta.join(" · "));
  if (turn.interrupted) {
    const mark = el("span", "interrupted-mark");
    const icon = el("span", "icon", "⤫");
    icon.setAttribute("aria-hidden", "true");
    mark.append(icon, " interrupted");
    line.prepend(mark, meta.length ? " · " : "");
  }
  if (line.textContent) li.append(line);
  return li;
}

function toolItem(tool, callStart) {
  const ok = tool.status === "ok";
  const li = el("li", `tool tool-${tool.status}`);
  const icon = el("span", "icon", ok ? "✓" : "✗");
  icon.setAttribute("aria-hidden", "true");
  const at = callStart && tool.started_at ? (new Date(tool.started_at) - callStart) / 1000 : null;
  const when = at !== null && at >= 0 ? `at ${clock(at)}` : "";
  li.append(icon, " ", el("strong", "tool-name", tool.name), ` ${tool.status}`);
  const parts = [when, tool.duration_ms !== null ? `took ${milliseconds(tool.duration_ms)}` : ""].filter(Boolean);
  if (parts.length) li.append(el("span", "tool-meta", ` (${parts.join(", ")})`));
  if (tool.error_message) li.append(el("span", "tool-error", `: ${tool.error_message}`));
  return li;
}

function drawSentiment(turns) {
  const scored = turns.filter((t) => t.sentiment !== null && t.sentiment !== undefined);
  const labels = scored.map((t) => `${t.seq} ${ROLES[t.role] ?? t.role}`);
  const data = scored.map((t) => t.sentiment);
  if (!sentimentChart) {
    const options = baseOptions();
    options.plugins.legend.display = false;
    options.scales = { x: { ticks: { autoSkip: true, maxRotation: 0 } }, y: { min: -1, max: 1, title: { display: true, text: "Sentiment" } } };
    sentimentChart = new Chart($("sentiment-chart"), {
      type: "line",
      data: { labels, datasets: [{ label: "Sentiment", data, borderColor: COLOURS.sentiment, backgroundColor: COLOURS.sentiment }] },
      options,
    });
  } else {
    sentimentChart.data.labels = labels;
    sentimentChart.data.datasets[0].data = data;
    sentimentChart.update("none");
  }
}

function renderDetail(call) {
  ui.detailHeading.textContent = `Call from ${call.caller}, ${startedText(call.started_at)}`;
  ui.detailSummary.textContent = call.summary || "No summary.";
  ui.detailFacts.replaceChildren();
  const f = (term, value) => fact(ui.detailFacts, term, value);
  f("Outcome", outcomeText(call.outcome));
  f("Handled", yesNo(call.automated, "By the AI receptionist alone", "With staff"));
  f("Converted", yesNo(call.converted, "Yes", "No"));
  f("After hours", yesNo(call.after_hours, "Yes", "No"));
  f("Length", seconds(call.duration_s));
  f("Language", languageText(call.language));
  f("Direction", call.direction === "outbound" ? "Outbound" : "Inbound");
  f("Interruptions", String(call.interruptions ?? 0));
  f("Errors", String(call.errors ?? 0));
  f("Sentiment", sentimentText(call.sentiment));
  f("Satisfaction", call.satisfaction === null ? "–" : `${call.satisfaction.toFixed(2)} / 5`);
  f("Survey answer", call.survey_score === null ? "Not answered" : `${call.survey_score} / 5`);
  f("Reply latency", `median ${milliseconds(call.latency_p50_ms)}, 95th percentile ${milliseconds(call.latency_p95_ms)}`);
  renderRecording(call);
  ui.ivr.textContent = ivrText(call);
  const turns = Array.isArray(call.turns) ? call.turns : [];
  ui.turns.replaceChildren(...turns.map(turnItem));
  ui.turnsEmpty.hidden = turns.length > 0;
  drawSentiment(turns);
  const tools = call.tool_invocations ?? [];
  const start = call.started_at ? new Date(call.started_at) : null;
  ui.tools.replaceChildren(...tools.map((t) => toolItem(t, start)));
  ui.toolsEmpty.hidden = tools.length > 0;
}

async function openCall(id, byPerson = false) {
  state.call = id;
  writeAddress();
  for (const tr of ui.calls.querySelectorAll("tr")) {
    const open = tr.dataset.id === id;
    tr.classList.toggle("open", open);
    tr.querySelector("button")?.setAttribute("aria-pressed", String(open));
  }
  ui.detail.hidden = false;
  ui.detailError.hidden = true;
  ui.detailHeading.textContent = "Call";
  try {
    const call = await api(`/api/calls/${encodeURIComponent(id)}`);
    if (state.call !== id) return; // another call was chosen meanwhile
    renderDetail(call);
  } catch (error) {
    if (error instanceof Offline) connectionLost();
    else if (error instanceof ApiError && error.status === 401) sessionEnded();
    else {
      ui.detailError.textContent =
        error instanceof ApiError && error.status === 404
          ? "There is no such call (it may be outside what you can see)."
          : error.message;
      ui.detailError.hidden = false;
    }
  }
  if (byPerson) ui.detailHeading.focus();
}

function closeCall() {
  const id = state.call;
  state.call = "";
  writeAddress();
  ui.detail.hidden = true;
  for (const tr of ui.calls.querySelectorAll("tr")) {
    tr.classList.remove("open");
    tr.querySelector("button")?.setAttribute("aria-pressed", "false");
  }
  ui.calls.querySelector(`tr[data-id="${CSS.escape(id)}"] button`)?.focus();
}

// --- reading it all ---------------------------------------------------------------------------
async function refresh({ period = true } = {}) {
  let offline = false;
  const note = (where) => (error) => {
    if (error instanceof Offline) offline = true;
    failed(error, where);
    return false;
  };
  ui.rangeError.textContent = "";
  const kpis = loadKpis().then(() => true, note(ui.rangeError));
  if (!state.from || !state.to) await kpis; // the period the others read comes from it
  const reads = [kpis, loadCalls().then(() => true, note(ui.filtersError))];
  if (period) reads.push(loadDaily().then(() => true, note(ui.rangeError)));
  const results = await Promise.all(reads);
  // one 400 about the period: shown once, next to the period, not twice
  if (ui.rangeError.textContent && ui.filtersError.textContent === ui.rangeError.textContent) {
    ui.filtersError.textContent = "";
  }
  if (!offline && results.some(Boolean)) connected();
}

function stopTimer() {
  if (timer !== null) clearTimeout(timer);
  timer = null;
}

function schedule() {
  stopTimer();
  if (document.visibilityState !== "visible") return;
  timer = setTimeout(async () => {
    timer = null;
    await refresh();
    schedule();
  }, refreshMs);
}

async function applyPeriod() {
  state.from = ui.from.value;
  state.to = ui.to.value;
  state.property = ui.property.value;
  state.offset = 0;
  writeAddress();
  showForm();
  await refresh();
  schedule();
}

ui.range.addEventListener("submit", (event) => {
  event.preventDefault();
  applyPeriod();
});
ui.property.addEventListener("change", () => applyPeriod());
ui.filters.addEventListener("change", async () => {
  for (const name of FILTERS) state[name] = ui[name].value;
  state.offset = 0;
  writeAddress();
  try {
    await loadCalls();
    connected();
  } catch (error) {
    failed(error, ui.filtersError);
  }
});
ui.filters.addEventListener("submit", (event) => event.preventDefault());
ui.prev.addEventListener("click", () => page(-1));
ui.next.addEventListener("click", () => page(1));
ui.close.addEventListener("click", closeCall);
ui.detail.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeCall();
});

async function page(step) {
  state.offset = Math.max(0, state.offset + step * PAGE_SIZE);
  writeAddress();
  try {
    await loadCalls();
  } catch (error) {
    failed(error, ui.filtersError);
  }
}

document.addEventListener("visibilitychange", async () => {
  if (document.visibilityState === "visible") {
    await refresh();
    schedule();
  } else {
    stopTimer();
    paused();
  }
});

readAddress();
showForm();
refresh().then(() => {
  schedule();
  if (state.call) openCall(state.call);
});
