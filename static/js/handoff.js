// The handoff page remembers how this shopper opens WhatsApp on a computer: the installed app
// (wa.me) or WhatsApp Web. Without JavaScript both links simply stay as they are.
(function () {
  "use strict";
  var KEY = "chatout:whatsapp-on-desktop";
  var primary = document.getElementById("continue-on-whatsapp");
  var web = document.getElementById("open-whatsapp-web");
  var app = document.getElementById("open-whatsapp-app");
  if (!primary || !web) return;
  var desktop = window.matchMedia("(min-width: 900px) and (hover: hover) and (pointer: fine)").matches;
  var remember = function (choice) {
    try { localStorage.setItem(KEY, choice); } catch (e) { /* private mode: nothing to remember */ }
  };
  var preferred = null;
  try { preferred = localStorage.getItem(KEY); } catch (e) { preferred = null; }
  if (desktop && preferred === "web") {
    primary.href = web.href;
    primary.textContent = "Continue on WhatsApp Web";
    primary.dataset.target = "web";
  }
  web.addEventListener("click", function () { remember("web"); });
  if (app) app.addEventListener("click", function () { remember("app"); });
  primary.addEventListener("click", function () {
    if (desktop) remember(primary.dataset.target === "web" ? "web" : "app");
  });
})();
