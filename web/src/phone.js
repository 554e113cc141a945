// The staff's browser phone (/phone): SIP.js over the app's own /ws relay to Asterisk,
// registered as the signed-in user's extension with the login the app provisions
// (GET /phone/config); nobody types a SIP password.
import { Invitation, Web } from "sip.js";

import { dialTarget, dialUri, rejectionText } from "./dialing.js";
import { LevelMeter } from "./meters.js";
import { mosWord, reading } from "./quality.js";
import { SUMMARY_HEADER, summaryText } from "./summary.js";

const SIP_DOMAIN = "frontdesk";
const STATS_EVERY_MS = 2000;
const RETRY_CONFIG_MS = 30000;

const $ = (id) => document.getElementById(id);
const ui = {
  status: $("status"),
  problem: $("problem"),
  mic: $("mic-status"),
  incoming: $("incoming"),
  incomingCaller: $("incoming-caller"),
  incomingSummaryBox: $("incoming-summary-box"),
  incomingSummary: $("incoming-summary"),
  answer: $("answer"),
  decline: $("decline"),
  call: $("call"),
  callPeer: $("call-peer"),
  callState: $("call-state"),
  callTimer: $("call-timer"),
  callSummaryBox: $("call-summary-box"),
  callSummary: $("call-summary"),
  mute: $("mute"),
  hold: $("hold"),
  keypadToggle: $("keypad-toggle"),
  hangup: $("hangup"),
  transferForm: $("transfer-form"),
  transferTo: $("transfer-to"),
  localLevel: $("local-level"),
  remoteLevel: $("remote-level"),
  qRtt: $("q-rtt"),
  qJitter: $("q-jitter"),
  qLoss: $("q-loss"),
  qMos: $("q-mos"),
  dialTitle: $("dial-title"),
  dialForm: $("dial-form"),
  number: $("number"),
  callButton: $("call-button"),
  pad: $("pad"),
  speed: $("speed-dials"),
  speedTitle: $("speed-title"),
  audio: $("remote-audio"),
};

const phone = {
  config: null,
  manager: null,
  registered: false,
  session: null, // the call on screen (one at a time)
  incoming: null,
  summary: "",
  audioContext: null,
  meters: [],
  statsTimer: null,
  clockTimer: null,
  answeredAt: 0,
  lastReading: null,
  refreshTimer: null,
  pendingConfig: null,
  retriedLogin: false,
};
window.frontdeskPhone = phone; // for a person debugging in the console (and the tests)

// --- messages --------------------------------------------------------------------------
function say(text) {
  ui.status.textContent = text;
  ui.status.dataset.state = text;
}

function problem(text) {
  ui.problem.hidden = !text;
  ui.problem.textContent = text || "";
}

function micMessage(text, isError) {
  ui.mic.hidden = !text;
  ui.mic.textContent = text || "";
  ui.mic.classList.toggle("error", Boolean(isError));
  ui.mic.setAttribute("role", isError ? "alert" : "status");
}

function micProblem(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "The browser is not letting this page use the microphone. Allow the microphone for this site (the icon at the left of the address bar), then reload the page.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return "No microphone was found. Plug in a headset or microphone, then reload the page.";
  }
  if (name === "NotReadableError" || name === "AbortError") {
    return "The microphone is busy or not working: close other programs that use it, then try again.";
  }
  return null;
}

async function checkMicrophone() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    micMessage("This browser cannot use a microphone here (the page must be opened over https).", true);
    return false;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    for (const track of stream.getTracks()) track.stop();
    micMessage("Microphone ready.", false);
    return true;
  } catch (error) {
    micMessage(micProblem(error) || `The microphone could not be used (${error.name || error}).`, true);
    return false;
  }
}

// --- the login ---------------------------------------------------------------------------
async function fetchConfig() {
  const response = await fetch("/phone/config", {
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "application/json" },
  });
  if (response.status === 401) {
    const error = new Error("Your session has ended. Sign in again to use the phone.");
    error.fatal = true;
    throw error;
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = new Error((body && body.message) || `The phone's settings could not be loaded (${response.status}).`);
    error.fatal = response.status === 409 || response.status === 403;
    throw error;
  }
  return body;
}

function showSpeedDials(dials) {
  ui.speed.replaceChildren();
  for (const dial of dials) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `${dial.label} (${dial.number})`;
    button.dataset.number = dial.number;
    button.addEventListener("click", () => placeCall(dial.number, dial.label));
    item.append(button);
    ui.speed.append(item);
  }
}

function buildManager(config) {
  return new Web.SessionManager(config.ws_url, {
    aor: config.sip_uri,
    userAgentOptions: {
      authorizationUsername: config.authorization_user,
      authorizationPassword: config.password,
      displayName: config.display_name,
      logLevel: "warn",
      sessionDescriptionHandlerFactoryOptions: {
        peerConnectionConfiguration: { iceServers: config.ice_servers },
        iceGatheringTimeout: 2000,
      },
    },
    media: {
      constraints: { audio: true, video: false },
      remote: { audio: ui.audio },
    },
    maxSimultaneousSessions: 2,
    reconnectionAttempts: 1000,
    reconnectionDelay: 3,
    registrationRetry: true,
    registrationRetryInterval: 5,
    sendDTMFUsingSessionDescriptionHandler: true,
    delegate: {
      onServerConnect: () => {
        problem("");
        say(`Connected. Signing in extension ${config.extension}…`);
      },
      onServerDisconnect: (error) => {
        phone.registered = false;
        ui.callButton.disabled = true;
        if (error) {
          problem("The connection to the phone system was lost. Reconnecting…");
          say("Reconnecting…");
          setTimeout(checkStillSignedIn, 10000);
        }
      },
      onRegistered: () => {
        phone.registered = true;
        phone.retriedLogin = false;
        problem("");
        say(`Ready: extension ${config.extension} (${config.display_name}).`);
        ui.callButton.disabled = false;
      },
      onUnregistered: () => {
        phone.registered = false;
        ui.callButton.disabled = true;
      },
      onCallReceived: (session) => incomingCall(session),
      onCallCreated: (session) => outgoingCreated(session),
      onCallAnswered: (session) => callAnswered(session),
      onCallHangup: (session) => callEnded(session),
      onCallHold: (session, held) => {
        if (session === phone.session) showHold(held);
      },
    },
  });
}

async function registrationFailed(code) {
  phone.registered = false;
  ui.callButton.disabled = true;
  if (!phone.retriedLogin) {
    // The login may have been replaced (another tab, or Asterisk restarted): a fresh one.
    phone.retriedLogin = true;
    say("Signing in again…");
    await restart();
    return;
  }
  problem(
    `Registration failed: the phone system refused extension ${phone.config.extension}'s login (${code}). ` +
      "Reload the page; if it keeps failing, tell your administrator.",
  );
  say("Not registered.");
}

async function start(config) {
  phone.config = config;
  showSpeedDials(config.speed_dials || []);
  const manager = buildManager(config);
  phone.manager = manager;
  say(`Connecting to the phone system as extension ${config.extension}…`);
  try {
    await manager.connect();
  } catch (error) {
    problem("The phone system could not be reached. Retrying…");
    say("Reconnecting…");
  }
  await manager.register({
    requestDelegate: {
      onReject: (response) => registrationFailed(response.message.statusCode),
    },
  });
  scheduleRefresh(config);
}

async function restart() {
  const old = phone.manager;
  phone.manager = null;
  if (old) {
    try {
      await old.disconnect();
    } catch {
      // gone already
    }
  }
  await boot();
}

function scheduleRefresh(config) {
  clearTimeout(phone.refreshTimer);
  const seconds = Math.max(60, Math.min(config.expires_in, config.ice_expires_in || config.expires_in) / 2);
  phone.refreshTimer = setTimeout(refresh, seconds * 1000);
}

async function refresh() {
  try {
    const config = await fetchConfig();
    if (config.password === phone.config.password) {
      phone.config = config;
      scheduleRefresh(config);
    } else if (phone.session || phone.incoming) {
      phone.pendingConfig = config; // after the call
    } else {
      await restart();
    }
  } catch (error) {
    if (error.fatal) stopWith(error.message);
    else phone.refreshTimer = setTimeout(refresh, RETRY_CONFIG_MS);
  }
}

async function checkStillSignedIn() {
  if (phone.registered) return;
  try {
    await fetchConfig();
  } catch (error) {
    if (error.fatal) stopWith(error.message);
  }
}

function stopWith(message) {
  problem(message);
  say("The phone is off.");
  ui.callButton.disabled = true;
  clearTimeout(phone.refreshTimer);
  if (phone.manager) phone.manager.disconnect().catch(() => {});
  phone.manager = null;
}

async function boot() {
  say("Loading the phone's settings…");
  let config;
  try {
    config = await fetchConfig();
  } catch (error) {
    if (error.fatal) {
      stopWith(error.message);
    } else {
      problem(`${error.message} Trying again in 30 seconds.`);
      say("Waiting for the phone system…");
      setTimeout(boot, RETRY_CONFIG_MS);
    }
    return;
  }
  await start(config);
}

// --- calls ------------------------------------------------------------------------------
function audioContext() {
  if (!phone.audioContext) {
    const Context = window.AudioContext || window.webkitAudioContext;
    phone.audioContext = new Context();
  }
  if (phone.audioContext.state === "suspended") phone.audioContext.resume().catch(() => {});
  return phone.audioContext;
}

function peerName(session) {
  const identity = session.remoteIdentity;
  const user = identity && identity.uri ? identity.uri.user : "";
  const name = identity && identity.displayName;
  return name && name !== user ? `${name} (${user})` : user || "Unknown caller";
}

function showCall(session, state) {
  ui.call.hidden = false;
  ui.callPeer.textContent = peerName(session);
  ui.callState.textContent = state;
  ui.callSummaryBox.hidden = !phone.summary;
  ui.callSummary.textContent = phone.summary;
  ui.dialForm.hidden = true;
  ui.speed.hidden = true;
  ui.speedTitle.hidden = true;
  ui.pad.hidden = true;
  ui.dialTitle.textContent = "Keypad";
  ui.keypadToggle.setAttribute("aria-expanded", "false");
  showHold(false);
  showMute(false);
}

function resetCallUi() {
  ui.call.hidden = true;
  ui.incoming.hidden = true;
  ui.dialForm.hidden = false;
  ui.speed.hidden = false;
  ui.speedTitle.hidden = false;
  ui.pad.hidden = false;
  ui.dialTitle.textContent = "Make a call";
  ui.callTimer.textContent = "0:00";
  for (const el of [ui.qRtt, ui.qJitter, ui.qLoss, ui.qMos]) el.textContent = "–";
  document.title = "Phone · Front Desk Voice";
}

async function placeCall(typed, label) {
  problem("");
  const target = dialTarget(typed);
  if (!target) {
    problem("That is not a number the phone can dial: use digits (an extension, 2500, or 9 then the number).");
    ui.number.focus();
    return;
  }
  if (!phone.manager || !phone.registered) {
    problem("The phone is not ready yet: wait until it says Ready.");
    return;
  }
  if (phone.session) {
    problem("Hang up the current call first.");
    return;
  }
  audioContext(); // created on the click: browsers start audio only after a gesture
  phone.summary = "";
  phone.dialling = label || target;
  try {
    await phone.manager.call(dialUri(target, SIP_DOMAIN), undefined, {
      requestDelegate: {
        onProgress: (response) => {
          if (phone.session && response.message.statusCode === 180) ui.callState.textContent = "Ringing…";
        },
        onReject: (response) => {
          problem(rejectionText(response.message.statusCode));
        },
      },
    });
  } catch (error) {
    const mic = micProblem(error);
    if (mic) micMessage(mic, true);
    problem(mic ? "The call could not start: the microphone is not available." : `The call could not start (${error.message || error}).`);
    phone.session = null;
    resetCallUi();
  }
}

function outgoingCreated(session) {
  if (session instanceof Invitation) return; // incoming: onCallReceived shows it
  phone.session = session;
  showCall(session, "Calling…");
  ui.callPeer.textContent = phone.dialling || peerName(session);
}

function incomingCall(session) {
  if (phone.session || phone.incoming) {
    session.reject({ statusCode: 486 }).catch(() => {});
    return;
  }
  phone.incoming = session;
  phone.summary = summaryText(session.request.getHeader(SUMMARY_HEADER));
  ui.incoming.hidden = false;
  ui.incomingCaller.textContent = `From ${peerName(session)}`;
  ui.incomingSummaryBox.hidden = !phone.summary;
  ui.incomingSummary.textContent = phone.summary;
  document.title = `Incoming call · ${peerName(session)}`;
  say("Incoming call.");
  ui.answer.focus();
}

async function answer() {
  const session = phone.incoming;
  if (!session) return;
  audioContext();
  ui.incoming.hidden = true;
  phone.session = session;
  phone.incoming = null;
  showCall(session, "Connecting…");
  try {
    await phone.manager.answer(session);
  } catch (error) {
    const mic = micProblem(error);
    if (mic) micMessage(mic, true);
    problem(mic ? "The call could not be answered: the microphone is not available." : `The call could not be answered (${error.message || error}).`);
    session.reject().catch(() => {});
    phone.session = null;
    resetCallUi();
  }
}

async function decline() {
  const session = phone.incoming;
  phone.incoming = null;
  resetCallUi();
  if (session) await phone.manager.decline(session).catch(() => {});
  say(`Ready: extension ${phone.config.extension}.`);
}

function callAnswered(session) {
  if (session !== phone.session) return;
  ui.callState.textContent = "Connected";
  say("On a call.");
  phone.answeredAt = Date.now();
  phone.clockTimer = setInterval(() => {
    const s = Math.floor((Date.now() - phone.answeredAt) / 1000);
    ui.callTimer.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }, 1000);
  startMeters(session);
  phone.lastReading = null;
  phone.statsTimer = setInterval(() => showQuality(session), STATS_EVERY_MS);
  ui.hangup.focus();
}

function callEnded(session) {
  if (session === phone.incoming) {
    phone.incoming = null; // the caller gave up, or another phone answered
    resetCallUi();
    say(`Ready: extension ${phone.config.extension}.`);
    return;
  }
  if (session !== phone.session) return;
  phone.session = null;
  clearInterval(phone.clockTimer);
  clearInterval(phone.statsTimer);
  for (const meter of phone.meters) meter.stop();
  phone.meters = [];
  resetCallUi();
  say(phone.registered ? `Call ended. Ready: extension ${phone.config.extension}.` : "Call ended.");
  if (phone.pendingConfig) {
    phone.pendingConfig = null;
    restart();
  }
}

function startMeters(session) {
  const context = audioContext();
  const local = phone.manager.getLocalMediaStream(session);
  const remote = phone.manager.getRemoteMediaStream(session);
  try {
    if (local) phone.meters.push(new LevelMeter(context, local, ui.localLevel));
    if (remote) phone.meters.push(new LevelMeter(context, remote, ui.remoteLevel));
  } catch (error) {
    console.warn("level meters unavailable", error);
  }
}

async function showQuality(session) {
  const handler = session.sessionDescriptionHandler;
  const pc = handler && handler.peerConnection;
  if (!pc) return;
  const report = await pc.getStats();
  const now = reading(report.values(), phone.lastReading);
  phone.lastReading = now;
  ui.qRtt.textContent = now.rttMs === null ? "–" : `${Math.round(now.rttMs)} ms`;
  ui.qJitter.textContent = now.jitterMs === null ? "–" : `${now.jitterMs.toFixed(1)} ms`;
  ui.qLoss.textContent = now.lossPct === null ? "–" : `${now.lossPct.toFixed(1)} %`;
  ui.qMos.textContent = now.mos === null ? "–" : `${now.mos.toFixed(1)} (${mosWord(now.mos)})`;
}

function showMute(muted) {
  ui.mute.setAttribute("aria-pressed", String(muted));
  ui.mute.textContent = muted ? "Unmute" : "Mute";
}

function showHold(held) {
  ui.hold.setAttribute("aria-pressed", String(held));
  ui.hold.textContent = held ? "Resume" : "Hold";
  if (phone.session) ui.callState.textContent = held ? "On hold" : "Connected";
}

async function toggleMute() {
  const session = phone.session;
  if (!session) return;
  const muted = phone.manager.isMuted(session);
  if (muted) phone.manager.unmute(session);
  else phone.manager.mute(session);
  showMute(!muted);
}

async function toggleHold() {
  const session = phone.session;
  if (!session) return;
  const held = phone.manager.isHeld(session);
  try {
    if (held) await phone.manager.unhold(session);
    else await phone.manager.hold(session);
  } catch (error) {
    problem(`Hold did not work (${error.message || error}).`);
  }
}

async function hangup() {
  const session = phone.session;
  if (!session) return;
  try {
    await phone.manager.hangup(session);
  } catch {
    callEnded(session);
  }
}

async function transfer(event) {
  event.preventDefault();
  const session = phone.session;
  const target = dialTarget(ui.transferTo.value);
  if (!session) return;
  if (!target) {
    problem("Transfer to an extension or a number (digits).");
    return;
  }
  try {
    await phone.manager.transfer(session, dialUri(target, SIP_DOMAIN), {
      requestDelegate: {
        onAccept: () => say(`Transferred to ${target}.`),
        onReject: (response) => problem(`The transfer to ${target} was refused (${response.message.statusCode}).`),
      },
    });
    ui.transferTo.value = "";
  } catch (error) {
    problem(`The transfer did not work (${error.message || error}).`);
  }
}

function pressKey(key) {
  if (phone.session) {
    phone.manager.sendDTMF(phone.session, key).catch((error) => problem(`The tone was not sent (${error.message}).`));
    say(`Sent ${key}.`);
  } else {
    ui.number.value += key;
    ui.number.focus();
  }
}

// --- wiring -----------------------------------------------------------------------------
ui.dialForm.addEventListener("submit", (event) => {
  event.preventDefault();
  placeCall(ui.number.value);
});
ui.answer.addEventListener("click", answer);
ui.decline.addEventListener("click", decline);
ui.hangup.addEventListener("click", hangup);
ui.mute.addEventListener("click", toggleMute);
ui.hold.addEventListener("click", toggleHold);
ui.transferForm.addEventListener("submit", transfer);
ui.keypadToggle.addEventListener("click", () => {
  const open = ui.pad.hidden;
  ui.pad.hidden = !open;
  ui.keypadToggle.setAttribute("aria-expanded", String(open));
});
for (const key of ui.pad.querySelectorAll("button[data-key]")) {
  key.addEventListener("click", () => pressKey(key.dataset.key));
}
window.addEventListener("beforeunload", () => {
  if (phone.manager) phone.manager.unregister().catch(() => {});
});

checkMicrophone();
boot();
