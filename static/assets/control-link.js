// The vote link card (投票链接) and the links in the header: the vote link
// and its QR code with the current hall code (现场码), the screen link with
// the screen key, and copying the link.
import { t } from "./i18n.js";
import { $, $$, setText } from "./dom.js";
import { hostKey } from "./api.js";
import { S, api, evPath, eventId, toast } from "./control-page.js";

// The link to the big screen carries the screen key in its fragment: with
// it, the screen reads the rotating hall code for its QR code. The vote
// links and the vote link card's QR code carry the current code, so that
// the host can open them or let a phone scan them; with the code on they
// admit new phones for about a minute only, and the card says so.
let hallTimer = 0;
export function refreshHallLinks() {
  clearTimeout(hallTimer);
  if (!hostKey() || !S.exists) return;
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

// hallCodeShown is the hall code the links show now ("" for none).
export function hallCodeShown() { return shownHallCode; }

export function drawVoteLinks(code) {
  shownHallCode = code;
  const q = code ? "?j=" + encodeURIComponent(code) : "";
  const url = document.body.dataset.voteUrl + q;
  $$("[data-vote-link]").forEach((a) => { a.href = url; });
  setText($("[data-vote-link-text]"), url);
  $("[data-vote-link-qr]").src = "/e/" + encodeURIComponent(eventId) + "/qr.svg" + q;
  setText($("[data-vote-link-hint]"), t(code ? "control.voteLinkHall" : "control.voteLinkHint"));
}

export function copyVoteLink() {
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
