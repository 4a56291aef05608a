// The inbox's small helpers, all optional: a browser notification when more chats have unread messages (only
// after staff turn it on with the button), quick replies that fill the reply box without a page load, and the
// countdown of a paid session's time left (the server computes it; the page only counts it down).
// No inline handlers: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  var KEY = "chatout.inbox.notify";
  var canNotify = "Notification" in window;

  function notifying() {
    return canNotify && Notification.permission === "granted" && localStorage.getItem(KEY) === "on";
  }

  function labelButton(button) {
    button.textContent = notifying() ? "Stop notifying me" : "Notify me of new messages";
  }

  function setUpButton() {
    var button = document.getElementById("inbox-notify");
    if (!button || !canNotify || button.dataset.ready) return;
    button.dataset.ready = "1";
    button.hidden = false;
    labelButton(button);
    button.addEventListener("click", function () {
      if (notifying()) {
        localStorage.removeItem(KEY);
        labelButton(button);
        return;
      }
      Notification.requestPermission().then(function (permission) {
        if (permission === "granted") localStorage.setItem(KEY, "on");
        labelButton(button);
      });
    });
  }

  // The navigation's badge answers every poll with the number of chats that have unread messages.
  document.addEventListener("chatout:inbox-unread", function (event) {
    var count = Number(event.detail && event.detail.value) || 0;
    var before = Number(sessionStorage.getItem(KEY + ".count") || 0);
    sessionStorage.setItem(KEY + ".count", String(count));
    if (count > before && notifying()) {
      new Notification("New WhatsApp message", { body: count + (count === 1 ? " chat has" : " chats have") + " unread messages" });
    }
  });

  // A quick reply fills the reply box (without JavaScript its link opens the chat with the box filled).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-quick-reply]");
    if (!link) return;
    var box = document.querySelector("#inbox-reply textarea");
    if (!box) return;
    event.preventDefault();
    event.stopPropagation();
    box.value = link.getAttribute("data-quick-reply");
    box.focus();
  }, true);

  // A paid session's time left: counted down from what the server said when it drew the page, so a wrong
  // clock on this computer changes nothing.
  function timeLeftText(seconds) {
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = seconds % 60;
    var mm = hours ? String(minutes).padStart(2, "0") : String(minutes);
    return (hours ? hours + ":" : "") + mm + ":" + String(rest).padStart(2, "0");
  }

  function startCountdown() {
    var shown = document.getElementById("session-time-left");
    if (!shown || shown.dataset.counting) return;
    shown.dataset.counting = "1";
    var endsAt = Date.now() + Number(shown.dataset.secondsLeft || 0) * 1000;
    var timer = setInterval(function () {
      if (!document.body.contains(shown)) { clearInterval(timer); return; }
      var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
      shown.textContent = timeLeftText(left);
      if (left === 0) {
        clearInterval(timer);
        var over = document.querySelector("[data-session-over]");
        if (over) over.hidden = false;
      }
    }, 1000);
  }

  function setUp() {
    setUpButton();
    startCountdown();
  }

  document.addEventListener("DOMContentLoaded", setUp);
  document.addEventListener("htmx:afterSettle", setUp);
})();
