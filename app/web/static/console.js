// The staff console: live calls from /console/ws, their transcript as it happens, actions by
// POST (with the session's CSRF token), recent calls from /console/calls. Plain JS, no build.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const root = document.querySelector(".console");
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const myExtension = root.dataset.extension;
  const takingCalls = root.dataset.takingCalls === "yes";

  const STATES = {
    connecting: "Connecting",
    with_agent: "With the receptionist",
    on_hold: "On hold",
    transferring: "Being put through",
    with_staff: "With staff",
  };
  const SPEAKERS = { caller: "Caller", agent: "Receptionist", dtmf: "Keys", system: "System" };
  const OUTCOMES = {
    booked: "Booked", lead: "Lead", transferred: "Put through", callback: "Call back",
    info: "Information", abandoned: "Abandoned", failed: "Failed", other: "Other",
    taken_over: "Taken over",
  };

  const calls = new Map(); // id -> live call
  const lines = new Map(); // id -> Map(seq -> line)
  let selected = null;
  let ended = null; // the selected call, once it has ended: {reason, outcome}
  let busy = false;

  // --- formatting -------------------------------------------------------------------------
  function duration(since) {
    const total = Math.max(0, Math.floor((Date.now() - Date.parse(since)) / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  function seconds(total) {
    if (total == null) return "";
    const m = Math.floor(total / 60);
    return `${m}:${String(total % 60).padStart(2, "0")}`;
  }

  function stateText(call) {
    if (call.state === "with_staff") return `With staff (extension ${call.staff})`;
    return STATES[call.state] || call.state;
  }

  function activityText(call) {
    if (call.state === "with_staff") return "";
    if (call.activity === "tool") return `Receptionist: running ${call.tool.replaceAll("_", " ")}`;
    if (call.activity === "speaking") return "Receptionist: speaking";
    if (call.activity === "listening") return "Receptionist: listening";
    return "";
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child != null) node.append(child);
    return node;
  }

  // --- live calls ----------------------------------------------------------------------------
  function renderCalls() {
    const list = $("calls");
    const sorted = [...calls.values()].sort((a, b) => a.started_at.localeCompare(b.started_at));
    list.replaceChildren(
      ...sorted.map((call) => {
        const activity = activityText(call);
        const listeners = call.listeners.length
          ? `Listening: extension ${call.listeners.join(", ")}` : "";
        const button = el(
          "button",
          {
            type: "button",
            class: "call",
            "data-call": call.id,
            "aria-pressed": String(call.id === selected),
          },
          el("span", { class: "caller", text: call.caller }),
          el("span", { class: "duration", "data-since": call.started_at, text: duration(call.started_at) }),
          el("span", { class: `state state-${call.state}`, text: stateText(call) }),
          el("span", { class: "where muted", text: `${call.property_id} · ${call.language}` }),
          activity ? el("span", { class: "activity", text: activity }) : null,
          listeners ? el("span", { class: "listeners", text: listeners }) : null,
        );
        button.addEventListener("click", () => select(call.id, true));
        return el("li", {}, button);
      }),
    );
    $("no-calls").hidden = calls.size > 0;
    $("live-count").textContent = `(${calls.size})`;
  }

  function renderDetail() {
    const detail = $("detail");
    if (!selected) {
      detail.hidden = true;
      return;
    }
    detail.hidden = false;
    const call = calls.get(selected);
    const facts = $("call-facts");
    if (call) {
      $("call-heading").textContent = `Call from ${call.caller}`;
      const rows = [
        ["State", stateText(call)],
        ["Duration", duration(call.started_at)],
        ["Property", call.property_id],
        ["Language", call.language],
      ];
      const activity = activityText(call);
      if (activity) rows.push(["Agent", activity.replace("Receptionist: ", "")]);
      facts.replaceChildren(...rows.flatMap(([k, v]) => [
        el("dt", { text: k }),
        el("dd", k === "Duration" ? { class: "duration", "data-since": call.started_at, text: v } : { text: v }),
      ]));
    } else if (ended) {
      facts.replaceChildren(
        el("dt", { text: "State" }),
        el("dd", { text: `Ended (${ended.reason.replaceAll("_", " ")})` }),
      );
    }
    const live = Boolean(call);
    const withStaff = call?.state === "with_staff";
    $("listen").disabled = busy || !live || !takingCalls || !myExtension || withStaff
      || call.listeners.includes(myExtension);
    $("takeover").disabled = busy || !live || !takingCalls || !myExtension || withStaff;
    $("hangup").disabled = busy || !live || !takingCalls;
    renderTranscript();
  }

  function renderTranscript() {
    const said = [...(lines.get(selected)?.values() || [])].sort((a, b) => a.seq - b.seq);
    $("transcript").replaceChildren(
      ...said.map((line) => el(
        "li",
        { class: `line line-${line.speaker}`, "data-seq": String(line.seq) },
        el("span", { class: "speaker", text: `${SPEAKERS[line.speaker] || line.speaker}: ` }),
        el("span", { class: "text", text: line.text }),
      )),
    );
    $("no-lines").hidden = said.length > 0;
  }

  function select(id, moveFocus) {
    if (selected !== id) {
      selected = id;
      ended = null;
      say("");
    }
    renderCalls();
    renderDetail();
    if (moveFocus) $("call-heading").focus();
  }

  function keepLine(line) {
    if (!lines.has(line.call_id)) lines.set(line.call_id, new Map());
    lines.get(line.call_id).set(line.seq, line);
  }

  function onMessage(message) {
    switch (message.type) {
      case "snapshot":
        calls.clear();
        lines.clear();
        for (const call of message.calls) calls.set(call.id, call);
        for (const said of Object.values(message.transcripts)) said.forEach(keepLine);
        if (selected && !calls.has(selected) && !ended) ended = { reason: "ended", outcome: null };
        break;
      case "call_started":
      case "call_changed":
        calls.set(message.call.id, message.call);
        break;
      case "call_ended":
        calls.delete(message.call_id);
        if (message.call_id === selected) {
          ended = { reason: message.reason, outcome: message.outcome };
          say(`This call has ended (${message.reason.replaceAll("_", " ")}).`);
        } else {
          lines.delete(message.call_id);
        }
        setTimeout(loadRecent, 1500); // its summary is written as it ends
        break;
      case "transcript":
        keepLine(message);
        if (message.call_id === selected) {
          renderTranscript();
          return;
        }
        return;
      default:
        return;
    }
    renderCalls();
    renderDetail();
  }

  // --- the feed ------------------------------------------------------------------------------
  let retry = 1;
  function feedStatus(state, text) {
    const status = $("feed-status");
    status.dataset.state = state;
    status.textContent = text;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/console/ws`);
    socket.addEventListener("open", () => {
      retry = 1;
      feedStatus("live", "Live: calls update as they happen.");
    });
    socket.addEventListener("message", (event) => onMessage(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => {
      if (event.code === 4401) {
        feedStatus("ended", "Your session has ended. Reload the page to sign in again.");
        return;
      }
      feedStatus("down", `Connection to live calls lost. Trying again in ${retry} s…`);
      setTimeout(connect, retry * 1000);
      retry = Math.min(retry * 2, 30);
    });
  }

  // --- actions --------------------------------------------------------------------------------
  function say(text, error = false) {
    const status = $("action-status");
    status.textContent = text;
    status.classList.toggle("error", error);
    status.setAttribute("role", error ? "alert" : "status");
  }

  function confirmAction(title, text, ok, danger = false) {
    const dialog = $("confirm");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    $("confirm-ok").textContent = ok;
    $("confirm-ok").classList.toggle("danger", danger);
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.showModal();
      $("confirm-cancel").focus();
    });
  }

  async function act(action, pending) {
    const id = selected;
    busy = true;
    renderDetail();
    say(pending);
    try {
      const response = await fetch(`/console/calls/${id}/${action}`, {
        method: "POST",
        headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
        credentials: "same-origin",
      });
      let body = {};
      try { body = await response.json(); } catch { body = {}; }
      if (response.ok) say(body.message || "Done.");
      else say(body.error || `That did not work (${response.status}). Reload the page and try again.`, true);
    } catch {
      say("The server could not be reached. Check the connection and try again.", true);
    } finally {
      busy = false;
      renderDetail();
    }
  }

  $("listen").addEventListener("click", () => act("listen", `Ringing your phone (${myExtension})… answer it to listen in.`));
  $("takeover").addEventListener("click", async () => {
    const call = calls.get(selected);
    if (!call) return;
    const sure = await confirmAction(
      "Take over this call?",
      `Your phone (${myExtension}) will ring. When you answer, the caller ${call.caller} talks to you and the receptionist leaves the call. If you do not answer, the caller stays with the receptionist.`,
      "Take over",
    );
    if (sure) await act("takeover", `Ringing your phone (${myExtension})… answer it to take the call.`);
  });
  $("hangup").addEventListener("click", async () => {
    const call = calls.get(selected);
    if (!call) return;
    const sure = await confirmAction(
      "Hang up this call?",
      `The caller ${call.caller} will be disconnected.`,
      "Hang up",
      true,
    );
    if (sure) await act("hangup", "Hanging up…");
  });

  // --- recent calls ----------------------------------------------------------------------------
  let next = null;

  function recentItem(call) {
    const when = new Date(call.started_at).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
    const turns = el("ol", { class: "transcript", hidden: "" });
    const show = el("button", { type: "button", class: "link-button", "aria-expanded": "false", text: "Show transcript" });
    show.addEventListener("click", async () => {
      const open = show.getAttribute("aria-expanded") === "true";
      show.setAttribute("aria-expanded", String(!open));
      show.textContent = open ? "Show transcript" : "Hide transcript";
      turns.hidden = open;
      if (!open && !turns.childElementCount) {
        const response = await fetch(`/console/calls/${call.id}/turns`, { headers: { Accept: "application/json" } });
        const body = response.ok ? await response.json() : { turns: [] };
        turns.replaceChildren(...(body.turns.length ? body.turns : [{ speaker: "system", text: "Nothing was said." }]).map(
          (t) => el("li", { class: `line line-${t.speaker}` },
            el("span", { class: "speaker", text: `${SPEAKERS[t.speaker] || t.speaker}: ` }),
            el("span", { class: "text", text: t.text })),
        ));
      }
    });
    return el(
      "li",
      { class: "recent-call", "data-call": call.id },
      el("p", { class: "recent-head" },
        el("strong", { text: call.caller }), ` · ${when} · ${seconds(call.seconds)}`,
        call.outcome ? el("span", { class: "outcome", text: OUTCOMES[call.outcome] || call.outcome }) : null),
      el("p", { class: "summary", text: call.summary || "No summary." }),
      show,
      turns,
    );
  }

  async function loadRecent(older = false) {
    const query = new URLSearchParams({ limit: "10" });
    if (older && next) query.set("before", next);
    try {
      const response = await fetch(`/console/calls?${query}`, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      const body = await response.json();
      const items = body.calls.map(recentItem);
      if (older) $("recent").append(...items);
      else $("recent").replaceChildren(...items);
      next = body.next;
      $("more").hidden = !next;
      $("no-recent").hidden = $("recent").childElementCount > 0;
      $("recent-status").textContent = "";
    } catch {
      $("recent-status").textContent = "Recent calls could not be loaded. Reload the page to try again.";
    }
  }
  $("more").addEventListener("click", () => loadRecent(true));

  // --- the clock -------------------------------------------------------------------------------
  setInterval(() => {
    for (const node of document.querySelectorAll(".duration[data-since]")) {
      node.textContent = duration(node.dataset.since);
    }
  }, 1000);

  connect();
  loadRecent();
})();
