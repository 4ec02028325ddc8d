// The host's control page: set up the event (contestants, rules, panels),
// run it (voting, running order, countdown, ranking, reveal, end) with
// buttons and keys, and watch turnout and the standings live. This module
// starts the page, keeps its connection and views, and routes clicks to
// the sections, one module each: control-run.js (the run panel),
// control-reveal.js, control-standings.js, control-present.js (timer and
// comments), control-link.js (the vote link card), control-results.js
// (results and exports), control-tickets.js (tickets and security),
// control-setup.js (the setup form) and control-keys.js; control-page.js
// holds what they share.
import { t, initI18n, onLangChange } from "./i18n.js";
import { live, bannerFor, secretProtocols } from "./conn.js";
import { hostKey, keyFromLink, setHostKey } from "./api.js";
import { $, $$, setText } from "./dom.js";
import { showReachWarning } from "./reach.js";
import { S, page, api, evPath, eventId, toast, showError } from "./control-page.js";
import { renderJump, renderRun, renderTurnout, move, runCmd, resetContestant } from "./control-run.js";
import { renderRevealControls } from "./control-reveal.js";
import { renderStandings } from "./control-standings.js";
import { openComment } from "./control-present.js";
import { refreshHallLinks, drawVoteLinks, hallCodeShown, copyVoteLink } from "./control-link.js";
import { renderPublished, togglePublished, cloneEvent, exportFile } from "./control-results.js";
import { noteAuditHead, renderAuditHeads, renderTicketPanels, loadTickets, rotateKey } from "./control-tickets.js";
import { loadSeats, renderSeats, issueSeats, toggleSpotlight } from "./control-seats.js";
import { fillSetup, criterionRow, panelRow } from "./control-setup.js";
import { wireKeys } from "./control-keys.js";

// The host key comes once in the link's fragment (#key=...), which the
// server prints; it is kept on the device and removed from the address bar.
keyFromLink();

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
  if (!hostKey()) { showKeyForm(false); return; }
  api("GET", "/events").then((list) => {
    const ev = ((list && list.events) || []).filter((e) => e.id === eventId)[0];
    if (!ev) { notFound(); return null; }
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
    if (e.status === 404) { notFound(); return; }
    showError(e);
    setTimeout(begin, 3000);
  });
}

// notFound turns the page to the setup form, to create the event.
function notFound() {
  S.exists = false;
  S.full = null;
  setView("setup");
  fillSetup();
}

const conn = live(S, {
  event: eventId,
  query: () => ({ role: "host" }),
  // The key travels in the subprotocol: never in a URL, which proxies log.
  protocols: () => secretProtocols("key", hostKey()),
  adopt: mergeEvent,
  on: {
    snapshot: () => { renderAll(); noteAuditHead(S.stage); loadSeats(); },
    stage: () => { renderRun(); noteAuditHead(S.stage); loadSeats(); },
    event: renderAll,
    standings: () => { renderStandings(); renderTurnout(); renderRevealControls(); loadSeats(); },
    deleted: () => {
      toast(t("vote.deleted"), "error");
      S.exists = false;
      setView("setup");
      fillSetup();
    },
  },
  onState: (st) => {
    banner(st);
    if (st === "forbidden") showKeyForm(true);
    if (st === "notfound" && S.exists) {
      S.exists = false;
      setView("setup");
      fillSetup();
    }
  },
  probe: () => api("GET", evPath() + "/standings").then(() => "ok", (e) => {
    if (e.status === 403) return "forbidden";
    if (e.status === 404) return "notfound";
    if (e.status) return "ok";
    throw e;
  }),
});
page.conn = conn;
const banner = bannerFor($("[data-banner]"), () => t("common.offline"));

// The socket carries the public copy (panel keys hidden); keep the keys the
// host API gave us when the revision matches.
function mergeEvent(pub) {
  if (S.full && S.full.revision === pub.revision) return S.full;
  return pub;
}

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
  renderSeats();
}

// What sections ask each other for.
Object.assign(page, { renderAll, renderRun, renderStandings, setView, fillSetup, refreshHallLinks });

document.addEventListener("click", (e) => {
  const target = e.target;
  if (!target.closest) return;
  const cmd = target.closest("[data-cmd]");
  if (cmd && !cmd.disabled) {
    if (cmd.dataset.cmd === "spotlight") toggleSpotlight();
    else runCmd(cmd.dataset.cmd, cmd);
    return;
  }
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
        setHostKey("");
        showKeyForm(false);
        break;
      case "export": case "export-xlsx": case "export-csv": case "export-audit":
        exportFile(act.dataset.action, act.dataset.table);
        break;
      case "publish": togglePublished(false); break;
      case "clone": cloneEvent(); break;
      case "rotate-key": rotateKey(); break;
      case "issue-seats": issueSeats(); break;
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
  setHostKey(v);
  setView("loading");
  begin();
});


wireKeys();
initI18n();
// The vote link opens as a phone would open it (the server's public URL),
// with the hall code once the page has read it.
drawVoteLinks("");
showReachWarning(false);
onLangChange(() => {
  renderAll();
  showReachWarning(false);
  drawVoteLinks(hallCodeShown());
  if (S.view === "setup") fillSetup();
});
begin();
