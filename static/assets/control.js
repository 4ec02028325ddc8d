// The host's control page: set up the event (contestants, rules, panels),
// run it (voting, running order, countdown, ranking, reveal, end) with
// buttons and keys, and watch turnout and the standings live.
import { t, initI18n, onLangChange } from "./i18n.js";
import { Connection, bannerFor, secretProtocols } from "./conn.js";
import {
  $, $$, h, setText, load, save, fmtScore, fmtClock, fmtPoints, contestantIndex, groupsOf, timerView, parseMinSec, fmtMinSec,
} from "./format.js";
import { parseContestants, toLines } from "./csv.js";
import { errorText, localError } from "./errors.js";
import { showReachWarning } from "./reach.js";

const body = document.body;
const eventId = body.dataset.event;
const KEY_STORE = "leitai.hostKey";

// The host key comes once in the link's fragment (#key=...), which the
// server prints; it is kept in localStorage and removed from the address bar.
let hostKey = load(KEY_STORE, "") || "";
(function readKeyFromFragment() {
  const m = /(?:^#|[#&])key=([^&]+)/.exec(window.location.hash);
  if (!m) return;
  hostKey = decodeURIComponent(m[1]);
  save(KEY_STORE, hostKey);
  try { window.history.replaceState(null, "", window.location.pathname + window.location.search); } catch (e) { /* old browser */ }
})();

const S = {
  ev: null, // the event (the whole event from the API, or the public copy from the socket)
  full: null, // the whole event as the host API returned it (panel keys, revision)
  stage: null,
  standings: null,
  turnout: null,
  exists: null,
  view: "loading",
  tab: "run",
};

// ---- API -------------------------------------------------------------------

function api(method, path, payload) {
  const opts = { method: method, headers: { Authorization: "Bearer " + hostKey }, cache: "no-store" };
  if (payload !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(payload);
  }
  return fetch("/api" + path, opts).then((res) => res.text().then((text) => {
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!res.ok) {
      const eb = (data && data.error) || {};
      const err = new Error(eb.message || res.status + " " + res.statusText);
      err.code = eb.code || "";
      err.status = res.status;
      throw err;
    }
    return data;
  }));
}

const evPath = () => "/events/" + encodeURIComponent(eventId);

// ---- toasts and confirmation -------------------------------------------------

function toast(msg, kind) {
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
function showError(e) { toast(t("control.error", { msg: errorText(e, "host") }), "error"); }

// confirmBox asks; again names a key (e.g. "ArrowRight") that, pressed
// once more while it asks, confirms.
function confirmBox(text, again) {
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

// ---- views -------------------------------------------------------------------

function setView(v) {
  S.view = v;
  $$("[data-view]").forEach((el) => { el.hidden = el.dataset.view !== v; });
  $("[data-tabs]").hidden = !(v === "run" || v === "setup") || !S.exists;
  $("[data-action='logout']").hidden = v === "key" || v === "loading";
  $$("[data-tab]").forEach((b) => b.setAttribute("aria-pressed", b.dataset.tab === v ? "true" : "false"));
  if (v === "run") loadTickets();
}

function showKeyForm(wrong) {
  conn.stop();
  setView("key");
  $("[data-key-error]").hidden = !wrong;
  const input = $("[data-key-input]");
  input.value = "";
  input.focus();
}

// begin checks the key and whether the event exists (from the list of
// events, so that a new event is no failed request), then connects.
function begin() {
  if (!hostKey) { showKeyForm(false); return; }
  api("GET", "/events").then((list) => {
    const ev = ((list && list.events) || []).filter((e) => e.id === eventId)[0];
    if (!ev) {
      S.exists = false;
      S.full = null;
      setView("setup");
      fillSetup();
      return null;
    }
    return api("GET", evPath() + "/standings").then((sd) => {
      S.full = ev;
      S.ev = ev;
      S.standings = sd;
      S.exists = true;
      if (S.view === "loading" || S.view === "key") setView(S.tab);
      renderAll();
      conn.start();
      refreshHallLinks();
      renderAuditHeads();
    });
  }).catch((e) => {
    if (e.status === 403) { showKeyForm(true); return; }
    if (e.status === 404) {
      S.exists = false;
      S.full = null;
      setView("setup");
      fillSetup();
      return;
    }
    showError(e);
    setTimeout(begin, 3000);
  });
}

const conn = new Connection({
  event: eventId,
  query: () => ({ role: "host" }),
  // The key travels in the subprotocol: never in a URL, which proxies log.
  protocols: () => secretProtocols("key", hostKey),
  onMessage: receive,
  onState: (st) => {
    banner(st);
    if (st === "forbidden") showKeyForm(true);
    if (st === "notfound" && S.exists) {
      S.exists = false;
      setView("setup");
      fillSetup();
    }
  },
  probe: () => fetch("/api" + evPath() + "/standings", { headers: { Authorization: "Bearer " + hostKey }, cache: "no-store" }).then((r) => {
    if (r.status === 403) return "forbidden";
    if (r.status === 404) return "notfound";
    return "ok";
  }),
});
const banner = bannerFor($("[data-banner]"), () => t("common.offline"));

function receive(m) {
  switch (m.type) {
    case "snapshot":
      S.ev = mergeEvent(m.event);
      S.stage = m.stage;
      S.turnout = m.turnout || null;
      if (m.standings) S.standings = m.standings;
      renderAll();
      noteAuditHead(S.stage);
      break;
    case "stage":
      if (!S.stage || m.stage.version >= S.stage.version) S.stage = m.stage;
      renderRun();
      noteAuditHead(S.stage);
      break;
    case "event":
      S.ev = mergeEvent(m.event);
      renderAll();
      break;
    case "standings":
      S.turnout = m.turnout || S.turnout;
      if (m.standings) S.standings = m.standings;
      renderStandings();
      renderTurnout();
      renderRevealControls();
      break;
    case "deleted":
      toast(t("vote.deleted"), "error");
      conn.stop();
      S.exists = false;
      setView("setup");
      fillSetup();
      break;
  }
}

// The socket carries the public copy (panel keys hidden); keep the keys the
// host API gave us when the revision matches.
function mergeEvent(pub) {
  if (S.full && S.full.revision === pub.revision) return S.full;
  return pub;
}

// ---- run view ---------------------------------------------------------------

function renderAll() {
  if (!S.ev) return;
  setText($("[data-title]"), S.ev.title);
  document.title = S.ev.title + " · " + t("control.docTitle");
  setText($("[data-revision]"), t("control.revision", { n: S.ev.revision }));
  renderJump();
  renderRun();
  renderStandings();
  renderPublished();
  renderTicketPanels();
}

// ---- the hall code (现场码) ---------------------------------------------------
// The link to the big screen carries the screen key in its fragment: with
// it, the screen reads the rotating hall code for its QR code. The vote
// links and the vote link card's QR code carry the current code, so that
// the host can open them or let a phone scan them; with the code on they
// admit new phones for about a minute only, and the card says so.
let hallTimer = 0;
function refreshHallLinks() {
  clearTimeout(hallTimer);
  if (!hostKey || !S.exists) return;
  api("GET", evPath() + "/hall-code").then((info) => {
    const base = "/e/" + encodeURIComponent(eventId);
    $("[data-screen-link]").href = base + "/screen" + (info.screenKey ? "#s=" + encodeURIComponent(info.screenKey) : "");
    drawVoteLinks(info.on ? info.code : "");
    hallTimer = setTimeout(refreshHallLinks, info.on ? Math.max(1000, info.expiresIn + 250) : 30000);
  }).catch(() => { hallTimer = setTimeout(refreshHallLinks, 5000); });
}

// drawVoteLinks points every vote link (the header's and the card's, whose
// text is the link) and the card's QR code at the public vote URL with
// the hall code, if any.
let shownHallCode = "";
function drawVoteLinks(code) {
  shownHallCode = code;
  const q = code ? "?j=" + encodeURIComponent(code) : "";
  const url = body.dataset.voteUrl + q;
  $$("[data-vote-link]").forEach((a) => { a.href = url; });
  setText($("[data-vote-link-text]"), url);
  $("[data-vote-link-qr]").src = "/e/" + encodeURIComponent(eventId) + "/qr.svg" + q;
  setText($("[data-vote-link-hint]"), t(code ? "control.voteLinkHall" : "control.voteLinkHint"));
}

// ---- the audit chain head -------------------------------------------------------
// When voting closes (for each contestant) and when the event ends, the
// page notes the head of the audit chain: the entries so far and the last
// one's hash. Written down or photographed, it anchors the log: `leitai
// audit verify --head N:HASH` fails for a log edited afterwards.
const HEADS_STORE = "leitai.auditHeads." + eventId;
let heads = load(HEADS_STORE, []) || [];
let headVersion = 0;
function noteAuditHead(st) {
  if (!st || (st.phase !== "closed" && st.phase !== "ended") || st.version <= headVersion) return;
  headVersion = st.version;
  api("GET", evPath() + "/audit/head").then((hd) => {
    const c = st.current && S.ev && contestantIndex(S.ev)[st.current];
    const label = st.phase === "ended" ? t("control.auditHeadEnd") : t("control.auditHeadClosed", { name: c ? c.c.name : "" });
    heads = heads.filter((x) => x.v !== st.version).concat([{ v: st.version, label: label, head: hd.head }]).slice(-200);
    save(HEADS_STORE, heads);
    renderAuditHeads();
  }).catch(() => { headVersion = 0; });
}

function renderAuditHeads() {
  const list = $("[data-audit-heads]");
  $("[data-audit-heads-box]").hidden = !heads.length;
  list.textContent = "";
  heads.slice().reverse().forEach((x) => list.appendChild(h("li", null, h("span", null, x.label + " "), h("code", null, x.head))));
}

// ---- tickets, audit log, host key ----------------------------------------------

function renderTicketPanels() {
  const sel = $("[data-issue-panel]");
  const keep = sel.value;
  sel.textContent = "";
  (S.ev.panels || []).forEach((p) => sel.appendChild(h("option", { value: p.id }, p.name)));
  if (keep) sel.value = keep;
  else {
    const tp = (S.ev.panels || []).filter((p) => p.tickets)[0];
    if (tp) sel.value = tp.id;
  }
}

function loadTickets() {
  if (!S.exists) return;
  api("GET", evPath() + "/tickets").then((b) => {
    const by = {};
    (b.tickets || []).forEach((tk) => {
      const c = by[tk.panel] || (by[tk.panel] = { issued: 0, claimed: 0, revoked: 0 });
      c.issued++;
      if (tk.claimed) c.claimed++;
      if (tk.revoked) c.revoked++;
    });
    const parts = (S.ev.panels || []).filter((p) => by[p.id]).map((p) => t("control.ticketsSummary", { panel: p.name, issued: by[p.id].issued, claimed: by[p.id].claimed, revoked: by[p.id].revoked }));
    setText($("[data-tickets-summary]"), parts.length ? parts.join("；") : t("control.ticketsNone"));
  }).catch(() => {});
}

$("[data-issue-form]").addEventListener("submit", (e) => {
  e.preventDefault();
  const n = Number($("[data-issue-count]").value);
  api("POST", evPath() + "/tickets", { panel: $("[data-issue-panel]").value, count: n }).then((b) => {
    toast(t("control.issued", { n: (b.tickets || []).length }), "ok");
    loadTickets();
  }).catch(showError);
});

$("[data-revoke-form]").addEventListener("submit", (e) => {
  e.preventDefault();
  const code = $("[data-revoke-code]").value.trim();
  if (!code) return;
  confirmBox(t("control.revokeConfirm", { code: code })).then((ok) => {
    if (!ok) return;
    api("POST", evPath() + "/tickets/" + encodeURIComponent(code) + "/revoke").then((tk) => {
      toast(t("control.revoked", { code: tk.code }), "ok");
      $("[data-revoke-code]").value = "";
      loadTickets();
    }).catch(showError);
  });
});

function rotateKey() {
  confirmBox(t("control.rotateConfirm")).then((ok) => {
    if (!ok) return;
    api("POST", "/host-key", {}).then((b) => {
      hostKey = b.key;
      save(KEY_STORE, hostKey);
      const el = $("[data-new-key]");
      el.hidden = false;
      setText(el, t("control.newKey", { key: b.key }));
      conn.restart(); // the old key's socket is closed by the server
    }).catch(showError);
  });
}
setInterval(() => { if (S.view === "run") loadTickets(); }, 10000);

function renderJump() {
  const sel = $("[data-jump]");
  const keep = sel.value;
  sel.textContent = "";
  S.ev.contestants.forEach((c, i) => {
    sel.appendChild(h("option", { value: c.id }, (i + 1) + ". " + c.name + (c.group ? "（" + c.group + "）" : "")));
  });
  if (keep) sel.value = keep;
}

function open() {
  const st = S.stage || {};
  return st.phase === "voting" && !(st.endsAt && conn.now() >= st.endsAt);
}

function renderRun() {
  if (!S.ev || !S.stage) return;
  const st = S.stage;
  const idx = contestantIndex(S.ev);
  const cur = st.current && idx[st.current];
  const onStage = cur && st.phase !== "lobby" && st.phase !== "reveal";
  setText($("[data-stage-name]"), onStage ? cur.c.name : st.phase === "reveal" || st.phase === "ended" ? t("phase." + st.phase) : t("control.nobody"));
  setText($("[data-stage-meta]"), onStage ? [cur.c.group, cur.c.presenter ? t("vote.presenter", { name: cur.c.presenter }) : "", t("common.nOfN", { n: cur.i + 1, total: S.ev.contestants.length })].filter(Boolean).join(" · ") : "");
  const theme = $("[data-stage-theme]");
  theme.hidden = !(onStage && cur.c.theme);
  setText(theme, onStage && cur.c.theme ? cur.c.theme : "");
  const badge = $("[data-phase]");
  const isOpen = open();
  badge.className = "phase-badge phase-" + (isOpen ? "voting" : st.phase === "voting" ? "closed" : st.phase);
  setText(badge, isOpen ? t("phase.voting") : st.phase === "voting" ? t("phase.closed") : t("phase." + st.phase));

  const ended = st.phase === "ended";
  const reveal = st.phase === "reveal";
  const all = S.ev.votingScope === "all";
  const n = S.ev.contestants.length;
  const tv = $("[data-cmd='toggle-voting']");
  setText(tv, isOpen || st.phase === "voting" ? t("control.close") + "（Space）" : t("control.open") + "（Space）");
  tv.classList.toggle("danger", st.phase === "voting");
  tv.classList.toggle("primary", st.phase !== "voting");
  tv.disabled = ended || reveal || !n || (st.phase !== "voting" && !all && !onStage);
  $("[data-cmd='previous']").disabled = ended || !onStage || (cur && cur.i === 0);
  $("[data-cmd='next']").disabled = ended || !n || (onStage && cur.i >= n - 1);
  $("[data-cmd='jump']").disabled = ended || !n;
  const sel = $("[data-jump]");
  sel.disabled = ended || !n;
  // The dropdown follows the stage (the host picks from there on); a pick
  // in progress stays until the stage moves.
  if (sel.__follows !== st.current) {
    sel.__follows = st.current;
    if (st.current && idx[st.current]) sel.value = st.current;
  }
  $$("[data-issue-form] button").forEach((b) => { b.disabled = ended; });
  lockSetup();
  $$("[data-cmd='countdown']").forEach((b) => {
    const s = Number(b.dataset.seconds);
    if (s) setText(b, t("control.seconds", { n: s }));
    b.disabled = ended || reveal || (s === 0 && !st.endsAt);
  });
  renderTimerControls(onStage && !ended);
  const rk = $("[data-cmd='toggle-ranking']");
  setText(rk, (st.rankingVisible ? t("control.hideRanking") : t("control.showRanking")) + "（H）");
  rk.disabled = ended;
  setText($("[data-ranking-state]"), st.rankingVisible ? t("control.rankingShown") : t("control.rankingHiddenNow"));
  renderRevealControls();
  $("[data-cmd='end']").disabled = ended;
  $("[data-cmd='lobby']").disabled = ended || st.phase === "lobby";
  renderTurnout();
  tick();
  // The current row of the standings follows the stage.
  $$("[data-standings-body] tr").forEach((tr) => tr.classList.toggle("current", tr.dataset.id === st.current && onStage));
}

// ---- reveal --------------------------------------------------------------------

// revealPlaces are the steps of the reveal, best place first: one per place
// held by ranked contestants (a tie is one step), as voting.RevealSteps
// counts them. Contestants without ballots have no place.
function revealPlaces() {
  const places = [];
  ((S.standings && S.standings.rows) || []).forEach((r) => {
    if (!(r.rank > 0)) return;
    const last = places[places.length - 1];
    if (last && last.rank === r.rank) last.n++;
    else places.push({ rank: r.rank, n: 1 });
  });
  return places;
}

// unscored counts the contestants without ballots.
function unscored() {
  const has = {};
  ((S.standings && S.standings.rows) || []).forEach((r) => { if (r.ballots > 0) has[r.contestant] = true; });
  return S.ev.contestants.filter((c) => !has[c.id]).length;
}

// votingOver: voting is closed and every contestant has ballots. Until
// then the reveal is not the host's next step: its button stays plain and
// starting it asks first.
function votingOver() {
  const st = S.stage || {};
  return st.phase === "closed" && unscored() === 0;
}

function renderRevealControls() {
  if (!S.ev || !S.stage) return;
  const st = S.stage;
  const reveal = st.phase === "reveal";
  const ended = st.phase === "ended";
  const places = revealPlaces();
  const steps = places.length;
  const btn = $("[data-cmd='reveal']");
  setText(btn, t(reveal ? "control.revealStep" : "control.revealStart"));
  btn.classList.toggle("gold", reveal || votingOver());
  btn.disabled = ended || !steps || (reveal && st.revealed >= steps);
  $("[data-cmd='unreveal']").disabled = !reveal || !st.revealed;
  let note = "";
  if (reveal || ended) {
    note = t("control.revealed", { n: ended ? steps : Math.min(st.revealed, steps), total: steps });
    const next = reveal && st.revealed < steps ? places[steps - st.revealed - 1] : null;
    if (next) note += " · " + t(next.n > 1 ? "control.revealNextTie" : "control.revealNext", { place: next.rank, n: next.n });
  } else if (!steps) {
    note = t("control.revealNothing");
  } else if (unscored()) {
    note = t("control.revealUnscored", { n: unscored() });
  }
  setText($("[data-revealed]"), note);
}

// revealCommand takes the next reveal step. Starting the reveal before
// voting is over asks first, saying how many contestants have no ballots.
function revealCommand() {
  const st = S.stage || {};
  if (st.phase === "reveal" || votingOver()) return command({ action: "reveal" }, true);
  const n = unscored();
  const detail = (open() ? t("control.revealConfirmOpen") : "") +
    (n ? t("control.revealConfirmUnscored", { n: n }) : t("control.revealConfirmAllScored"));
  return confirmBox(t("control.revealConfirm", { detail: detail })).then((ok) => ok && command({ action: "reveal" }, true));
}

function renderTurnout() {
  const tu = S.turnout || { voters: 0, voted: 0 };
  const st = S.stage || {};
  const voted = tu.contestant && tu.contestant === st.current ? tu.voted : 0;
  setText($("[data-turnout]"), t("control.turnout", { voters: tu.voters || 0, voted: voted || 0 }));
}

function tick() {
  const st = S.stage;
  const el = $("[data-clock]");
  if (!st || !st.endsAt || st.phase === "ended" || st.phase === "reveal") { el.hidden = true; return; }
  const left = st.endsAt - conn.now();
  el.hidden = false;
  setText(el, t("control.countdownLeft", { t: fmtClock(left) }));
  el.classList.toggle("urgent", left <= 10000);
  if (left <= 0 && st.phase === "voting" && !el.__done) {
    el.__done = true;
    renderRun();
  } else if (left > 0) {
    el.__done = false;
  }
}
setInterval(tick, 250);

function renderStandings() {
  if (!S.ev) return;
  const ev = S.ev;
  const idx = contestantIndex(ev);
  const sd = S.standings || { rows: [], ballots: 0 };
  const groups = groupsOf(ev);
  setText($("[data-total]"), t("control.totalBallots", { n: sd.ballots || 0 }));
  const head = $("[data-standings-head]");
  const cols = [t("control.colRank")];
  if (groups.length) cols.push(t("control.colGroupRank"));
  cols.push(t("control.colName"));
  ev.panels.forEach((p) => cols.push(p.name + (ev.panels.length > 1 ? " " + fmtPoints(p.weight) : "")));
  cols.push(t("control.colBallots"), t("control.colFinal"), t("control.colActions"));
  const headKey = cols.join("|");
  if (head.__key !== headKey) {
    head.__key = headKey;
    head.textContent = "";
    head.appendChild(h("tr", null, ...cols.map((c) => h("th", { scope: "col" }, c))));
  }
  const tbody = $("[data-standings-body]");
  tbody.textContent = "";
  const st = S.stage || {};
  const dec = ev.rules.decimals;
  const rows = (sd.rows || []).filter((r) => idx[r.contestant]);
  rows.forEach((r) => {
    const c = idx[r.contestant].c;
    const tr = h("tr", { "data-id": r.contestant, class: (r.contestant === st.current && st.phase !== "lobby" && st.phase !== "reveal" ? "current" : "") + (r.ballots ? "" : " none") });
    tr.appendChild(h("td", { class: "num rank" }, r.rank ? String(r.rank) : "–"));
    if (groups.length) tr.appendChild(h("td", { class: "num" }, r.groupRank ? String(r.groupRank) : "–"));
    tr.appendChild(h("td", { class: "name" }, h("span", { class: "cname" }, c.name), c.group ? h("span", { class: "cgroup" }, c.group) : null));
    ev.panels.forEach((p, i) => {
      const ps = (r.panels && r.panels[i]) || { count: 0, dropped: 0, average: 0 };
      tr.appendChild(h("td", { class: "panel-cell num", title: t("control.panelCell", { avg: fmtScore(ps.average, 4), count: ps.count, dropped: ps.dropped }) },
        h("span", { class: "avg" }, ps.count ? fmtScore(ps.average, Math.max(dec, 2)) : "—"),
        h("small", null, t("control.countDropped", { count: ps.count, dropped: ps.dropped }))));
    });
    tr.appendChild(h("td", { class: "num ballots" }, String(r.ballots)));
    tr.appendChild(h("td", { class: "num final" }, r.ballots ? fmtScore(r.final, dec) : "—"));
    const acts = h("td", { class: "acts" });
    acts.appendChild(h("button", { type: "button", class: "btn tiny", "data-row-jump": r.contestant, disabled: st.phase === "ended" }, t("control.toStage")));
    acts.appendChild(h("button", { type: "button", class: "btn tiny danger-text", "data-row-reset": r.contestant, disabled: !r.ballots || st.phase === "ended" }, t("control.reset")));
    acts.appendChild(commentButton(r.contestant));
    tr.appendChild(acts);
    tbody.appendChild(tr);
  });
}

// ---- commands ------------------------------------------------------------------

function command(cmd, guarded) {
  if (guarded && S.stage) cmd.ifVersion = S.stage.version;
  return api("POST", evPath() + "/stage", cmd).then((st) => {
    if (!S.stage || st.version >= S.stage.version) S.stage = st;
    renderRun();
  }).catch((e) => {
    if (e.code === "conflict" && cmd.ifVersion) return; // a double press: acted once
    showError(e);
  });
}

function toggleVoting() {
  const st = S.stage || {};
  command({ action: st.phase === "voting" ? "close" : "open" }, true);
}

function toggleRanking() {
  const st = S.stage || {};
  command({ action: "ranking", visible: !st.rankingVisible }, true);
}

// move puts another contestant on stage (next, previous, jump). That
// closes voting, so while voting is open it asks first, as the other
// destructive actions do; key, pressed again, confirms.
function move(cmd, key) {
  if (!open()) return command(cmd, true);
  const idx = contestantIndex(S.ev);
  const cur = idx[S.stage.current];
  const to = cmd.action === "jump" ? idx[cmd.contestant] : null;
  const text = t("control.moveConfirm", { name: cur ? cur.c.name : "" }) +
    (cmd.action === "jump" ? t("control.moveConfirmJump", { name: to ? to.c.name : "" }) : t("control.moveConfirm." + cmd.action)) +
    (key ? t("control.moveConfirmKey." + cmd.action) : "");
  return confirmBox(text, key).then((ok) => ok && command(cmd, true));
}

function runCmd(name, el, key) {
  switch (name) {
    case "toggle-voting": return toggleVoting();
    case "toggle-ranking": return toggleRanking();
    case "next": return move({ action: "next" }, key);
    case "previous": return move({ action: "previous" }, key);
    case "jump": return move({ action: "jump", contestant: $("[data-jump]").value });
    case "countdown": return command({ action: "countdown", seconds: Number(el.dataset.seconds) });
    case "reveal": return revealCommand();
    case "timer-toggle": return timerToggle();
    case "timer-reset": return command({ action: "timer", op: "reset" }, true);
    case "timer-set": return timerSet();
    case "unreveal": return command({ action: "unreveal" }, true);
    case "lobby":
      return confirmBox(t("control.lobbyConfirm")).then((ok) => ok && command({ action: "lobby" }, true));
    case "end":
      return confirmBox(t("control.endConfirm")).then((ok) => ok && command({ action: "end" }, true));
  }
  return null;
}

function resetContestant(id) {
  const idx = contestantIndex(S.ev);
  const c = idx[id];
  const row = S.standings && (S.standings.rows || []).filter((r) => r.contestant === id)[0];
  confirmBox(t("control.resetConfirm", { name: c ? c.c.name : id, n: row ? row.ballots : 0 })).then((ok) => {
    if (!ok) return;
    api("POST", evPath() + "/contestants/" + encodeURIComponent(id) + "/reset", { confirm: id })
      .then((res) => toast(t("control.resetDone", { n: res.removed }), "ok"))
      .catch(showError);
  });
}

// ---- the presentation: timer and leader's comments ---------------------------

// renderTimerControls labels and enables the timer's buttons; on says a
// contestant is on stage.
function renderTimerControls(on) {
  const st = S.stage || {};
  const tm = st.timer || { seconds: 0 };
  const v = timerView(tm, conn.now());
  const toggle = $("[data-cmd='timer-toggle']");
  setText(toggle, t(v.running ? "control.timerPause" : v.paused ? "control.timerResume" : "control.timerStart") + "（T）");
  toggle.disabled = !on || (!v.running && !(tm.seconds || S.ev.presentationSeconds));
  $("[data-cmd='timer-reset']").disabled = !on || v.state === "ready";
  $("[data-cmd='timer-set']").disabled = !on;
  $("[data-timer-input]").disabled = !on;
  renderTimerClock();
}

function renderTimerClock() {
  const el = $("[data-timer-clock]");
  const st = S.stage;
  const tm = st && st.timer;
  if (!tm || !tm.seconds) { setText(el, ""); el.className = "timer-clock num"; return; }
  const v = timerView(tm, conn.now());
  el.className = "timer-clock num state-" + v.state + (v.paused ? " paused" : "");
  setText(el, v.text + (v.paused ? " · " + t("screen.timerPaused") : ""));
}
setInterval(renderTimerClock, 250);

function timerToggle() {
  const tm = (S.stage && S.stage.timer) || {};
  return command({ action: "timer", op: tm.startedAt ? "pause" : "start" }, true);
}

// timerSet sets the time allowed from the field: a running timer keeps
// running with the new time; a stopped one starts over from it.
function timerSet() {
  const input = $("[data-timer-input]");
  const secs = parseMinSec(input.value);
  if (!secs || isNaN(secs)) { showError(localError(t("control.badDuration"))); input.focus(); return null; }
  const tm = (S.stage && S.stage.timer) || {};
  return command({ action: "timer", op: tm.startedAt ? "start" : "reset", seconds: secs }, true).then(() => { input.value = ""; });
}

function commentOf(id) {
  const ev = S.full || S.ev;
  const c = ev && contestantIndex(ev)[id];
  return c ? c.c.comment || "" : "";
}

function commentButton(id) {
  const text = commentOf(id);
  return h("button", { type: "button", class: "btn tiny" + (text ? " has-comment" : ""), "data-row-comment": id, title: text || null },
    t(text ? "control.commentEdit" : "control.commentAdd"));
}

// openComment edits the leader's comment on a contestant, read fresh from
// the server (another host may have written one).
function openComment(id) {
  const d = $("[data-comment-dialog]");
  api("GET", evPath()).then((ev) => {
    S.full = ev;
    const c = contestantIndex(ev)[id];
    if (!c) return;
    setText($("[data-comment-name]"), c.c.name);
    setText($("[data-comment-theme]"), c.c.theme || "");
    const ta = $("[data-comment-text]");
    ta.value = c.c.comment || "";
    countComment();
    d.dataset.contestant = id;
    d.returnValue = "";
    if (typeof d.showModal === "function") d.showModal();
    else d.setAttribute("open", "");
    ta.focus();
  }).catch(showError);
}

function countComment() {
  const ta = $("[data-comment-text]");
  // One paragraph: line breaks (typed or pasted) become spaces.
  if (/[\r\n]/.test(ta.value)) ta.value = ta.value.replace(/\s*[\r\n]+\s*/g, " ");
  setText($("[data-comment-count]"), ta.value.length + " / 500");
}

function saveComment() {
  const d = $("[data-comment-dialog]");
  const id = d.dataset.contestant;
  const text = $("[data-comment-text]").value.trim();
  return api("PUT", evPath() + "/contestants/" + encodeURIComponent(id) + "/comment", { comment: text }).then((ev) => {
    S.full = ev;
    S.ev = ev;
    toast(t("control.commentSaved"), "ok");
    renderStandings();
  });
}

$("[data-comment-text]").addEventListener("input", countComment);
$("[data-comment-text]").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.isComposing) { e.preventDefault(); $("[data-comment-save]").click(); }
});
$("[data-comment-form]").addEventListener("submit", (e) => {
  const save_ = e.submitter && e.submitter.value === "ok";
  if (!save_) return; // the dialog closes itself
  e.preventDefault();
  const btn = $("[data-comment-save]");
  btn.disabled = true;
  saveComment().then(() => { $("[data-comment-dialog]").close("ok"); }, showError).then(() => { btn.disabled = false; });
});

// ---- setup view -------------------------------------------------------------

// ---- results and exports ---------------------------------------------------

function zoneQuery() {
  try { const z = Intl.DateTimeFormat().resolvedOptions().timeZone; return z ? "tz=" + encodeURIComponent(z) : ""; } catch (e) { return ""; }
}

function fileNameOf(res, fallback) {
  const cd = res.headers.get("Content-Disposition") || "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  if (star) { try { return decodeURIComponent(star[1]); } catch (e) { /* plain name below */ } }
  const plain = /filename="([^"]+)"/i.exec(cd);
  return plain ? plain[1] : fallback;
}

// download fetches with the key in a header (never in the URL) and saves
// under the server's file name.
function download(path, fallback) {
  const q = zoneQuery();
  const url = "/api" + evPath() + path + (q ? (path.indexOf("?") < 0 ? "?" : "&") + q : "");
  return fetch(url, { headers: { Authorization: "Bearer " + hostKey }, cache: "no-store" })
    .then((res) => {
      if (!res.ok) {
        return res.json().catch(() => null).then((b) => {
          const eb = (b && b.error) || {};
          const err = new Error(eb.message || res.status + " " + res.statusText);
          err.code = eb.code || "";
          err.status = res.status;
          throw err;
        });
      }
      return res.blob().then((blob) => {
        const a = h("a", { href: URL.createObjectURL(blob), download: fileNameOf(res, fallback) });
        document.body.appendChild(a); a.click();
        setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      });
    }).catch(showError);
}

// copyVoteLink copies the vote link: the clipboard API where the page is a
// secure context, else a selection and the copy command; failing both, the
// link is left selected for the host to copy.
function copyVoteLink() {
  const link = $("[data-vote-link-text]");
  const url = link.href;
  const selectLink = () => {
    const r = document.createRange();
    r.selectNodeContents(link);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(r);
  };
  const viaSelection = () => {
    selectLink();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    toast(t(ok ? "control.copied" : "control.copyFailed"), ok ? "ok" : "info");
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(url).then(() => toast(t("control.copied"), "ok"), viaSelection);
  } else {
    viaSelection();
  }
}

function renderPublished() {
  const ev = S.full || S.ev; const on = !!(ev && ev.published);
  setText($("[data-published-state]"), t(on ? "control.publishedOn" : "control.publishedOff"));
  setText($("[data-published-btn]"), t(on ? "control.unpublish" : "control.publish"));
}

// togglePublished publishes or hides the results. While the reveal is
// under way publishing would show the order before the screen does: the
// page says so and asks (and the server refuses, code confirm, a publish
// that does not say the host confirmed).
function togglePublished(confirm) {
  const ev = S.full || S.ev;
  const body = { published: !(ev && ev.published) };
  const st = S.stage || {};
  if (body.published && !confirm && st.phase === "reveal" && st.revealed < revealPlaces().length) {
    return confirmBox(t("control.publishDuringReveal")).then((ok) => ok && togglePublished(true));
  }
  if (confirm) body.confirm = true;
  return api("POST", evPath() + "/publish", body)
    .then((updated) => { S.full = updated; renderPublished(); })
    .catch((e) => {
      if (e.code !== "confirm" || confirm) return showError(e);
      return confirmBox(t("control.publishDuringReveal")).then((ok) => ok && togglePublished(true));
    });
}

function cloneEvent() {
  const id = window.prompt(t("control.cloneId"), eventId + "-2");
  if (!id || !id.trim()) return;
  api("POST", evPath() + "/clone", { id: id.trim() })
    .then((ev) => { toast(t("control.cloned", { id: ev.id }), "ok"); window.open("/e/" + encodeURIComponent(ev.id) + "/control", "_blank", "noopener"); })
    .catch(showError);
}

function defaultEvent() {
  return {
    id: eventId, title: "", contestants: [], votingScope: "stage",
    panels: [{ id: "audience", name: "大众评审", weight: 1 }],
    rules: { min: 1, max: 10, step: 1, trim: 0, decimals: 2 },
  };
}

function fillSetup() {
  const ev = S.full || defaultEvent();
  const form = $("[data-setup-form]");
  lockSetup();
  const idIn = $("[data-f-id]");
  idIn.value = ev.id || eventId;
  idIn.readOnly = true; // the id is the page's URL
  $("[data-f-title]").value = ev.title || "";
  form.querySelectorAll("input[name=scope]").forEach((r) => { r.checked = r.value === (ev.votingScope || "stage"); });
  $("[data-f-hallcode]").checked = !ev.noHallCode;
  $("[data-f-presentation]").value = fmtMinSec(ev.presentationSeconds || 0);
  $("[data-f-contestants]").value = toLines(ev.contestants || []);
  $("[data-f-min]").value = ev.rules.min;
  $("[data-f-max]").value = ev.rules.max;
  $("[data-f-step]").value = ev.rules.step;
  $("[data-f-trim]").value = ev.rules.trim || 0;
  $("[data-f-decimals]").value = ev.rules.decimals == null ? 2 : ev.rules.decimals;
  const cbox = $("[data-criteria]");
  cbox.textContent = "";
  (ev.rules.criteria || []).forEach((c) => cbox.appendChild(criterionRow(c)));
  const pbox = $("[data-panels]");
  pbox.textContent = "";
  (ev.panels || []).forEach((p) => pbox.appendChild(panelRow(p)));
  setText($("[data-save]"), S.exists ? t("control.save") : t("control.create"));
  renderPreview();
}

// lockSetup says when the settings cannot be saved: the event does not
// exist yet (saving creates it), or it has ended (read-only).
function lockSetup() {
  const notice = $("[data-setup-notice]");
  const ended = !!(S.exists && S.stage && S.stage.phase === "ended");
  notice.hidden = !!S.exists && !ended;
  if (!S.exists) setText(notice, t("control.notFound", { id: eventId }));
  else if (ended) setText(notice, t("control.setupEnded"));
  $("[data-save]").disabled = ended;
}

function criterionRow(c) {
  const row = h("div", { class: "item-row", "data-criterion": c.id || "" });
  row.appendChild(h("label", { class: "field grow" }, h("span", null, t("control.criterionName")), h("input", { name: "cname", value: c.name || "", maxlength: "100" })));
  row.appendChild(h("label", { class: "field narrow" }, h("span", null, t("control.weight")), h("input", { name: "cweight", type: "number", step: "any", min: "0", value: c.weight == null ? 1 : c.weight })));
  row.appendChild(h("button", { type: "button", class: "btn small danger-text", "data-remove-row": "" }, t("control.remove")));
  return row;
}

function panelRow(p) {
  const key = p.key && p.key !== "required" ? p.key : "";
  const row = h("div", { class: "item-row panel-row", "data-panel": p.id || "" });
  row.appendChild(h("label", { class: "field grow" }, h("span", null, t("control.panelName")), h("input", { name: "pname", value: p.name || "", maxlength: "100" })));
  row.appendChild(h("label", { class: "field narrow" }, h("span", null, t("control.weight")), h("input", { name: "pweight", type: "number", step: "any", min: "0", value: p.weight == null ? 1 : p.weight })));
  row.appendChild(h("label", { class: "field grow" }, h("span", null, t("control.panelKey")), h("input", { name: "pkey", value: key, autocomplete: "off", spellcheck: "false" })));
  const tk = h("input", { type: "checkbox", name: "ptickets" });
  tk.checked = !!p.tickets;
  row.appendChild(h("label", { class: "field check" }, tk, h("span", null, " " + t("control.panelTickets"))));
  row.appendChild(h("button", { type: "button", class: "btn small danger-text", "data-remove-row": "" }, t("control.remove")));
  if (key && p.id) {
    const link = (body.dataset.voteUrl || "") + "?panel=" + encodeURIComponent(p.id) + "&panelKey=" + encodeURIComponent(key);
    row.appendChild(h("div", { class: "judge-link" }, h("span", null, t("control.judgeLink") + "："), h("code", null, link)));
  }
  return row;
}

function renderPreview() {
  const list = parseContestants($("[data-f-contestants]").value);
  const groups = {};
  list.forEach((c) => { if (c.group) groups[c.group] = true; });
  setText($("[data-parsed]"), t("control.parsed", { n: list.length, g: Object.keys(groups).length }));
  const ol = $("[data-preview]");
  ol.textContent = "";
  list.forEach((c) => ol.appendChild(h("li", null, c.name, c.group ? h("small", null, c.group) : null,
    c.theme || c.presenter ? h("span", { class: "pv-theme" }, [c.theme, c.presenter].filter(Boolean).join(" · ")) : null)));
}

function uniqueID(base, used) {
  let id = base;
  let n = 2;
  while (used[id]) id = base + n++;
  used[id] = true;
  return id;
}

function collectEvent() {
  const prev = S.full || defaultEvent();
  const num = (sel) => Number($(sel).value);
  const ev = {
    id: eventId,
    title: $("[data-f-title]").value.trim(),
    votingScope: ($("[data-setup-form] input[name=scope]:checked") || {}).value || "stage",
    rules: {
      min: num("[data-f-min]"), max: num("[data-f-max]"), step: num("[data-f-step]"),
      trim: num("[data-f-trim]") || 0, decimals: num("[data-f-decimals]"),
    },
  };
  // Contestants keep their ids by name, so that ballots stay with them.
  const free = (prev.contestants || []).slice();
  ev.contestants = parseContestants($("[data-f-contestants]").value).map((c) => {
    const out = { name: c.name };
    if (c.group) out.group = c.group;
    if (c.theme) out.theme = c.theme;
    if (c.presenter) out.presenter = c.presenter;
    for (let i = 0; i < free.length; i++) {
      if (free[i].name === c.name) {
        out.id = free[i].id;
        free.splice(i, 1);
        break;
      }
    }
    return out;
  });
  const usedC = {};
  const crit = [];
  $$("[data-criteria] .item-row").forEach((row, i) => {
    const name = row.querySelector("[name=cname]").value.trim();
    if (!name) return;
    const id = row.dataset.criterion || uniqueID("k" + (i + 1), usedC);
    usedC[id] = true;
    crit.push({ id: id, name: name, weight: Number(row.querySelector("[name=cweight]").value) || 1 });
  });
  if (crit.length) ev.rules.criteria = crit;
  const usedP = {};
  $$("[data-panels] .item-row").forEach((row) => { if (row.dataset.panel) usedP[row.dataset.panel] = true; });
  ev.panels = [];
  $$("[data-panels] .item-row").forEach((row, i) => {
    const name = row.querySelector("[name=pname]").value.trim();
    if (!name) return;
    const key = row.querySelector("[name=pkey]").value.trim();
    let id = row.dataset.panel;
    if (!id) id = uniqueID(i === 0 ? "audience" : key ? "judges" : "panel" + (i + 1), usedP);
    const p = { id: id, name: name, weight: Number(row.querySelector("[name=pweight]").value) || 1 };
    if (key) p.key = key;
    if (row.querySelector("[name=ptickets]").checked) p.tickets = true;
    ev.panels.push(p);
  });
  if (!$("[data-f-hallcode]").checked) ev.noHallCode = true;
  const secs = parseMinSec($("[data-f-presentation]").value);
  if (isNaN(secs)) throw localError(t("control.badDuration"));
  if (secs) ev.presentationSeconds = secs;
  if (S.exists && S.full) ev.revision = S.full.revision;
  return ev;
}

function saveSetup(e) {
  e.preventDefault();
  let ev;
  try { ev = collectEvent(); } catch (err) { showError(err); return; }
  const req = S.exists ? api("PUT", evPath(), ev) : api("POST", "/events", ev);
  const btn = $("[data-save]");
  btn.disabled = true;
  req.then((saved) => {
    const created = !S.exists;
    S.full = saved;
    S.ev = saved;
    S.exists = true;
    toast(created ? t("control.created") : t("control.saved"), "ok");
    fillSetup();
    renderAll();
    refreshHallLinks();
    if (created) {
      conn.restart();
      setView("setup");
    }
  }).catch((err) => {
    showError(err);
    if (err.code === "conflict" && S.exists) {
      // Someone else changed it: read the current revision for next time.
      api("GET", evPath()).then((ev2) => { S.full = ev2; }).catch(() => {});
    }
  }).then(() => { btn.disabled = false; lockSetup(); });
}

function readCSVFile(file) {
  const reader = new FileReader();
  reader.onload = () => {
    const buf = reader.result;
    let text;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(buf);
    } catch (err) {
      // Excel in China saves CSV as GB18030 (GBK).
      try { text = new TextDecoder("gb18030").decode(buf); } catch (err2) { text = new TextDecoder().decode(buf); }
    }
    $("[data-f-contestants]").value = toLines(parseContestants(text));
    renderPreview();
  };
  reader.readAsArrayBuffer(file);
}

// ---- wiring ------------------------------------------------------------------

document.addEventListener("click", (e) => {
  const target = e.target;
  if (!target.closest) return;
  const cmd = target.closest("[data-cmd]");
  if (cmd && !cmd.disabled) { runCmd(cmd.dataset.cmd, cmd); return; }
  const tab = target.closest("[data-tab]");
  if (tab) {
    S.tab = tab.dataset.tab;
    if (S.tab === "setup") {
      api("GET", evPath()).then((ev) => { S.full = ev; fillSetup(); }).catch(showError);
      fillSetup();
    }
    setView(S.tab);
    window.scrollTo(0, 0);
    return;
  }
  const jump = target.closest("[data-row-jump]");
  if (jump) { move({ action: "jump", contestant: jump.dataset.rowJump }); return; }
  const reset = target.closest("[data-row-reset]");
  if (reset) { resetContestant(reset.dataset.rowReset); return; }
  const cm = target.closest("[data-row-comment]");
  if (cm) { openComment(cm.dataset.rowComment); return; }
  const act = target.closest("[data-action]");
  if (act) {
    switch (act.dataset.action) {
      case "logout":
        hostKey = "";
        save(KEY_STORE, null);
        showKeyForm(false);
        break;
      // The server's ranking CSV: one CSV implementation (defused cells,
      // the rounding of docs/scoring.md), fetched with the key in a header.
      case "export": download("/export.csv?table=ranking", eventId + "-ranking.csv"); break;
      case "export-xlsx": download("/export.xlsx", eventId + ".xlsx"); break;
      case "export-csv": download("/export.csv?table=" + act.dataset.table, eventId + "-" + act.dataset.table + ".csv"); break;
      case "publish": togglePublished(false); break;
      case "clone": cloneEvent(); break;
      case "export-audit": download("/audit?limit=5000", eventId + "-audit.json"); break;
      case "rotate-key": rotateKey(); break;
      case "copy-link": copyVoteLink(); break;
      case "add-criterion": $("[data-criteria]").appendChild(criterionRow({ name: "", weight: 1 })); break;
      case "add-panel": $("[data-panels]").appendChild(panelRow({ name: "", weight: 1 })); break;
    }
    return;
  }
  const rm = target.closest("[data-remove-row]");
  if (rm) rm.closest(".item-row").remove();
});

$("[data-key-form]").addEventListener("submit", (e) => {
  e.preventDefault();
  const v = $("[data-key-input]").value.trim();
  if (!v) return;
  hostKey = v;
  save(KEY_STORE, hostKey);
  setView("loading");
  begin();
});

$("[data-setup-form]").addEventListener("submit", saveSetup);
$("[data-f-contestants]").addEventListener("input", renderPreview);
$("[data-f-csv]").addEventListener("change", (e) => {
  const f = e.target.files && e.target.files[0];
  if (f) readCSVFile(f);
  e.target.value = "";
});

// Keyboard shortcuts on the run view; never while typing or in a dialog.
document.addEventListener("keydown", (e) => {
  if (S.view !== "run" || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
  const tg = e.target;
  const tag = tg && tg.tagName;
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (tg && tg.isContentEditable)) return;
  if ($("[data-confirm]").open) return;
  let name = "";
  if (e.key === " " || e.code === "Space") name = "toggle-voting";
  else if (e.key === "ArrowRight") name = "next";
  else if (e.key === "ArrowLeft") name = "previous";
  else if (e.key === "r" || e.key === "R") name = "reveal";
  else if (e.key === "h" || e.key === "H") name = "toggle-ranking";
  else if (e.key === "t" || e.key === "T") name = "timer-toggle";
  if (!name) return;
  e.preventDefault();
  // A focused button would also take the Space as a click on key up.
  if (tag === "BUTTON" || tag === "A") tg.blur();
  const btn = $("[data-cmd='" + name + "']");
  if (btn && btn.disabled) return;
  runCmd(name, btn, e.key);
});

initI18n();
// The vote link opens as a phone would open it (the server's public URL),
// with the hall code once the page has read it.
drawVoteLinks("");
showReachWarning(false);
onLangChange(() => {
  renderAll();
  showReachWarning(false);
  drawVoteLinks(shownHallCode);
  if (S.view === "setup") fillSetup();
});
begin();
