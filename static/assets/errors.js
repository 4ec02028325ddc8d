// What a refusal of the server says, in the page's language. The server's
// messages are English (for scripts and logs); a page shows, for the
// refusals a host or a phone meets, a sentence of its own with the parts
// the message names, and otherwise what the error code means. A Chinese
// page never shows the English message.
import { t } from "./i18n.js";

// SPECIFIC maps server messages (by their start) to strings of i18n.js;
// named groups fill the string's {placeholders}. They follow the messages
// in voting/ and hub/ (both stores'): TestBrowserErrorsInPageLanguage
// causes them for real and fails if one reaches a Chinese page unmapped.
const SPECIFIC = [
  [/^the event has ended/, "err.ended"],
  [/^the (?:stage|event) (?:was )?changed (?:by someone else|meanwhile)/, "err.changed"],
  [/^this is the last contestant/, "err.lastContestant"],
  [/^there is no previous contestant/, "err.noPrevious"],
  [/^there is no contestant there/, "err.noContestant"],
  [/^put a contestant on stage before opening voting/, "err.nobodyOnStage"],
  [/^the reveal has begun/, "err.revealBegun"],
  [/^voting is not open$/, "err.notOpen"],
  [/^every place has been revealed/, "err.allRevealed"],
  [/^nothing has been revealed/, "err.nothingRevealed"],
  [/^the event has no contestants/, "err.noContestants"],
  [/^a countdown lasts 0 to (?<n>\d+) seconds/, "err.countdown"],
  [/^the host key is missing or wrong/, "err.hostKey"],
  [/^the host key was changed meanwhile/, "err.keyChanged"],
  [/^a host key has (?<n>\d+) to 200 characters/, "err.keyLength"],
  [/^the results have not been published/, "err.notPublished"],
  [/^(?:the event has ballots|ballots have been cast)/, "err.hasBallots"],
  [/^an event with id "(?<id>.*)" already exists/, "err.eventExists"],
  [/^event id "(?<id>.*)": use/, "err.badId"],
  [/^(?:contestant \d+: id|panel id|criterion id) "(?<id>.*)": use/, "err.badId"],
  [/^(?:contestant|panel|criterion) id "(?<id>.*)" appears twice/, "err.duplicateId"],
  [/^(?:panel|criterion) "(?<id>.*)": weight must be/, "err.weight"],
  [/^panel "(?<id>.*)": key is too long/, "err.keyTooLong"],
  [/^an event has at most (?<n>\d+) contestants/, "err.tooManyContestants"],
  [/^an event has 1 to (?<n>\d+) panels/, "err.panels"],
  [/^at most (?<n>\d+) criteria/, "err.tooManyCriteria"],
  [/^score range and step must be numbers/, "err.numbers"],
  [/^score range (?<min>[^–\s]+)–(?<max>[^:\s]+):/, "err.range"],
  [/^score step must be above 0/, "err.stepZero"],
  [/^score step (?<step>\S+) does not divide the range (?<min>[^–\s]+)–(?<max>\S+)/, "err.stepDivides"],
  [/^scores have at most 4 decimal places/, "err.scoreDecimals"],
  [/^trim must be between/, "err.trim"],
  [/^decimals must be between/, "err.decimals"],
  [/^(?<what>event title|contestant name|group name|panel name|criterion name) is empty/, "err.nameEmpty"],
  [/^(?<what>event title|contestant name|group name|panel name|criterion name) "(?<name>.*)": at most (?<n>\d+) characters/, "err.nameTooLong"],
  [/^(?<what>event title|contestant name|group name|panel name|criterion name) "(?<name>.*)" contains control characters/, "err.nameControl"],
  [/^issue between 1 and (?<n>\d+) tickets/, "err.ticketCount"],
  [/^no panel/, "err.noPanel"],
  [/^no (?:such )?contestant/, "err.noContestant"],
  [/^no (?:such )?event/, "err.noEvent"],
  [/^this ticket was revoked/, "err.ticketRevoked"],
  [/^this ticket is already in use/, "err.ticketTaken"],
  [/^this phone already holds a ticket/, "err.ticketHeld"],
  [/^this phone has too many pages open/, "err.tooManyPages"],
  [/^the server is (?:shutting down|restarting)/, "err.restarting"],
];

const CODES = ["invalid", "not_found", "conflict", "confirm", "hall_code", "closed", "forbidden", "unavailable", "internal"];

// errorText returns what to show for err ({code, message} as the server
// sends it, or an Error with those fields; a failed fetch has neither):
// the specific sentence, else the code's meaning for who ("host" for the
// control page and the host's sheets, "voter" for phones).
export function errorText(err, who) {
  const e = err || {};
  const msg = typeof e.message === "string" ? e.message : "";
  if (e.local) return msg; // the page's own words (localError)
  const code = e.code || "";
  if (!code && !e.status) return t("err.network"); // no answer: the request never got through
  for (let i = 0; i < SPECIFIC.length; i++) {
    const m = SPECIFIC[i][0].exec(msg);
    if (!m) continue;
    const vars = Object.assign({}, m.groups || {});
    if (vars.what) vars.what = t("err.what." + vars.what.replace(/ /g, "_"));
    return t(SPECIFIC[i][1], vars);
  }
  const known = CODES.indexOf(code) >= 0 ? code : "internal";
  return t((who === "host" ? "err.host." : "err.") + known);
}

// localError is a refusal the page itself makes (a field it cannot read),
// already in the page's language.
export function localError(msg) {
  const e = new Error(msg);
  e.local = true;
  return e;
}
