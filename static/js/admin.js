// Admin niceties that degrade gracefully: a browser notification when new orders arrive.
(function () {
  "use strict";
  document.addEventListener("chatout:new-orders", function (event) {
    var count = event.detail && event.detail.value;
    if (!("Notification" in window) || !count) return;
    if (Notification.permission === "granted") {
      new Notification("New order" + (count > 1 ? "s" : ""), { body: count + " waiting for confirmation" });
    }
  });
  document.addEventListener("click", function () {
    if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
  }, { once: true });
})();
