// The index page: what this server is, and the links of an event's pages.
import { t, initI18n, onLangChange } from "./i18n.js";
import { $ } from "./dom.js";

const ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

function showLinks(id) {
  const base = "/e/" + encodeURIComponent(id);
  const paths = { vote: base, screen: base + "/screen", control: base + "/control" };
  Object.keys(paths).forEach((k) => {
    $("[data-link='" + k + "']").setAttribute("href", paths[k]);
    $("[data-path='" + k + "']").textContent = paths[k];
  });
  $("[data-links]").hidden = false;
}

$("[data-open-form]").addEventListener("submit", (e) => {
  e.preventDefault();
  const id = $("[data-event-input]").value.trim().toLowerCase();
  const ok = ID.test(id);
  $("[data-bad-id]").hidden = ok || id === "";
  if (ok) showLinks(id);
});

initI18n();
const title = () => { document.title = t("common.brand") + " · " + t("index.docTitle"); };
onLangChange(title);
title();
