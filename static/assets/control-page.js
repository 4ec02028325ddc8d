// The control page's shared pieces, which its modules (one per section of
// the page) import: the page's state, the event's API path, stage
// commands, the notes at the bottom right (toasts) and the confirmation
// dialog; and `page`, through which sections ask each other to render
// without importing each other (control.js fills it in).
import { t } from "./i18n.js";
import { liveState, newerStage } from "./conn.js";
import { host, eventPath } from "./api.js";
import { $, h, setText } from "./dom.js";
import { errorText } from "./errors.js";

export const eventId = document.body.dataset.event;

// S is the page's state: liveState's (the event — the whole event from the
// API, or the public copy from the socket — the stage, standings, turnout)
// and the page's own.
export const S = liveState({
  full: null, // the whole event as the host API returned it (panel keys, revision)
  exists: null, // whether the event exists (null: not known yet)
  view: "loading", // "loading", "key", "run" or "setup"
  tab: "run", // the tab chosen: "run" or "setup"
});

// page holds the connection and the renders of the sections that others
// call; control.js sets them before anything runs.
export const page = {
  conn: null,
  renderAll: () => {},
  renderRun: () => {},
  renderStandings: () => {},
  setView: () => {},
  fillSetup: () => {},
  refreshHallLinks: () => {},
};

// api calls the host's API with the host key.
export const api = host;

export const evPath = () => eventPath(eventId);

// toast shows a note at the bottom right; kind "error", "ok" or "info".
export function toast(msg, kind) {
  const box = $("[data-toasts]");
  const el = h("div", { class: "toast " + (kind || "info"), role: kind === "error" ? "alert" : "status" }, msg);
  const close = h("button", { type: "button", class: "toast-x", "aria-label": "×" }, "×");
  close.addEventListener("click", () => el.remove());
  el.appendChild(close);
  box.appendChild(el);
  setTimeout(() => el.remove(), kind === "error" ? 9000 : 3000);
}

// showError says why the server refused, in the page's language (never
// the server's English message on a Chinese page).
export function showError(e) { toast(t("control.error", { msg: errorText(e, "host") }), "error"); }

// confirmBox asks; again names a key (e.g. "ArrowRight") that, pressed
// once more while it asks, confirms.
export function confirmBox(text, again) {
  const d = $("[data-confirm]");
  if (typeof d.showModal !== "function") return Promise.resolve(window.confirm(text));
  setText($("[data-confirm-text]"), text);
  d.returnValue = "";
  d.showModal();
  return new Promise((resolve) => {
    const onKey = (e) => {
      if (!again || e.key !== again || e.repeat) return;
      e.preventDefault();
      e.stopPropagation(); // not a new command once the dialog has closed
      d.close("ok");
    };
    d.addEventListener("keydown", onKey);
    d.addEventListener("close", () => {
      d.removeEventListener("keydown", onKey);
      resolve(d.returnValue === "ok");
    }, { once: true });
  });
}

// votingOpen says whether voting is open now (a countdown that ran out
// has closed it, whatever the last stage frame says).
export function votingOpen() {
  const st = S.stage || {};
  return st.phase === "voting" && !(st.endsAt && page.conn.now() >= st.endsAt);
}

// command sends a stage command; guarded ones carry the stage's version
// (ifVersion), so that a double press acts once.
export function command(cmd, guarded) {
  if (guarded && S.stage) cmd.ifVersion = S.stage.version;
  return api("POST", evPath() + "/stage", cmd).then((st) => {
    if (newerStage(S.stage, st)) S.stage = st;
    page.renderRun();
  }).catch((e) => {
    if (e.code === "conflict" && cmd.ifVersion) return; // a double press: acted once
    showError(e);
  });
}
