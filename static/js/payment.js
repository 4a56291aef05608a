// The payment request's "Copy code" button: the Pix copia e cola text goes to the clipboard. Without
// JavaScript (or clipboard access) the code stays selectable in its box.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-from]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copyFrom);
      if (!source) return;
      var done = function () { button.textContent = button.dataset.copiedText || "Copied"; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(source.value).then(done, function () { source.select(); });
      } else {
        source.select();
      }
    });
  });
})();
