// Admin niceties that degrade gracefully: a browser notification when new orders arrive, and
// behaviour the pages would otherwise put in inline handlers (the Content-Security-Policy forbids those).
(function () {
  "use strict";
  document.addEventListener("chatout:new-orders", function (event) {
    var count = event.detail && event.detail.value;
    if (!("Notification" in window) || !count) return;
    if (Notification.permission === "granted") {
      new Notification("New order" + (count > 1 ? "s" : ""), { body: count + " waiting for confirmation" });
    }
  });
  // A form marked data-reset-after-send empties itself once htmx has sent it successfully (the sandbox composer).
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    var sent = event.detail.xhr && event.detail.xhr.status < 300;
    if (sent && form.matches && form.matches("form[data-reset-after-send]")) form.reset();
  });
  document.addEventListener("click", function () {
    if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
  }, { once: true });
})();
