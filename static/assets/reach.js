// The warning that phones cannot open the vote link, with the fix: the
// server puts why (its public URL is loopback, link-local, …) in the body's
// data-public-problem and the start option that fixes it in
// data-public-fix; the control page and the screen's QR code show it.
import { t } from "./i18n.js";

const LOCAL = /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

// reachWarning says, in the page's language, why phones cannot open the
// vote link and what to do; "" when they can. short is for the screen.
export function reachWarning(short) {
  const d = document.body.dataset;
  const problem = d.publicProblem || "";
  if (!problem) return "";
  let host = d.voteUrl || "";
  try { host = new URL(d.voteUrl).hostname; } catch (e) { /* keep the link */ }
  let fix = d.publicFix || "";
  // A page opened at another address than this machine's own shows one
  // that phones on the same network may reach.
  if (!fix && !LOCAL.test(window.location.hostname)) fix = "--public-url " + window.location.origin;
  const why = t((short ? "reach.short." : "reach.") + problem, { host: host });
  return why + (fix ? t(short ? "reach.short.fix" : "reach.fix", { fix: fix }) : t(short ? "reach.short.fixNone" : "reach.fixNone"));
}

// showReachWarning fills every [data-reach-warning] of the page, hidden
// when phones can open the link.
export function showReachWarning(short) {
  const text = reachWarning(short);
  document.querySelectorAll("[data-reach-warning]").forEach((el) => {
    el.textContent = text;
    el.hidden = !text;
  });
}
