// The inbox's small helpers, all optional: a browser notification when more chats have unread messages (only
// after staff turn it on with the button), and quick replies that fill the reply box without a page load.
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

  document.addEventListener("DOMContentLoaded", setUpButton);
  document.addEventListener("htmx:afterSettle", setUpButton);
})();
