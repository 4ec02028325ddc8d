// Formatting numbers, scores, clocks, durations and ticket codes as the
// pages show them (rounded as the server rounds), and reading durations
// as a host types them.

// decimalsOf returns how many decimals a step needs (0.5 → 1, 0.25 → 2).
export function decimalsOf(step) {
  const s = String(step);
  if (s.indexOf("e-") >= 0) return Math.min(4, Number(s.split("e-")[1]) || 0);
  const i = s.indexOf(".");
  return i < 0 ? 0 : Math.min(4, s.length - i - 1);
}

// fmtScore formats a score with a fixed number of decimals, rounded half
// up as the server rounds (voting.RoundScore: floor(x·10^d + 0.5 + 1e-9));
// toFixed alone would turn 91.14065 (stored as 91.140649…) into 91.1406.
export function fmtScore(x, decimals) {
  if (typeof x !== "number" || !isFinite(x)) return "—";
  const d = Math.max(0, Math.min(4, decimals || 0));
  const p = Math.pow(10, d);
  return (Math.floor(x * p + 0.5 + 1e-9) / p).toFixed(d);
}

// fmtPoints formats a score as short as it goes (88.5, 90, 87.25).
export function fmtPoints(x) {
  if (typeof x !== "number" || !isFinite(x)) return "—";
  return String(Math.round(x * 10000) / 10000);
}

// fmtTicket prints a ticket code in two groups, as on the paper
// (voting.FormatTicketCode).
export function fmtTicket(code) {
  return code && code.length === 10 ? code.slice(0, 5) + "-" + code.slice(5) : code || "";
}

// fmtClock formats milliseconds as m:ss (or h:mm:ss), rounding up so that
// the display reaches 0:00 exactly when the time is up.
export function fmtClock(ms) {
  let s = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const ss = (s < 10 ? "0" : "") + s;
  if (hours > 0) return hours + ":" + (m < 10 ? "0" : "") + m + ":" + ss;
  return m + ":" + ss;
}

// timerView says how the presentation timer (a stage's `timer`) reads at
// now (the server's clock): the clock text, counting down (m:ss) and then
// up in overtime (+m:ss), and its state: "ready" (not started), "normal",
// "warn" (the last minute) or "over" (overtime); paused when stopped after
// it ran.
export function timerView(tm, now) {
  const running = !!tm.startedAt;
  const used = (tm.elapsed || 0) + (running ? Math.max(0, now - tm.startedAt) : 0);
  const left = (tm.seconds || 0) * 1000 - used;
  let text;
  if (left > 0) text = fmtClock(left);
  else {
    const over = Math.floor(-left / 1000); // counts up whole seconds
    text = over > 0 ? "+" + fmtClock(over * 1000) : fmtClock(0);
  }
  let state = "normal";
  if (!running && used === 0) state = "ready";
  else if (left <= 0) state = "over";
  else if (left <= 60000) state = "warn";
  return { text: text, left: left, running: running, paused: !running && used > 0, state: state };
}

// parseMinSec reads a duration as a host types it: "5:00", "0:02", "90s"
// or minutes ("5", "1.5"). It returns whole seconds, 0 for "", or NaN.
export function parseMinSec(text) {
  const s = String(text || "").trim().replace(/：/g, ":");
  if (s === "") return 0;
  let m = /^(\d{1,4}):([0-5]?\d)$/.exec(s);
  if (m) return Number(m[1]) * 60 + Number(m[2]);
  m = /^(\d{1,5})\s*(s|秒)$/i.exec(s);
  if (m) return Number(m[1]);
  m = /^(\d{1,4}(?:\.\d+)?)\s*(m|min|分|分钟)?$/i.exec(s);
  if (m) return Math.round(Number(m[1]) * 60);
  return NaN;
}

// fmtMinSec writes whole seconds as m:ss ("" for 0).
export function fmtMinSec(seconds) {
  return seconds > 0 ? fmtClock(seconds * 1000) : "";
}
