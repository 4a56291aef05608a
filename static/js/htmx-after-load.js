// htmx for the pages that swap parts of themselves (product, cart), fetched once the page has loaded:
// its 18 KB and its evaluation then never hold back the first paint. A tap before it has arrived is a
// plain form post, which every such form handles (the server answers with the whole page).
(function () {
  "use strict";
  var source = document.currentScript && document.currentScript.dataset.htmx;
  if (!source) return;
  var inject = function () {
    var script = document.createElement("script");
    script.src = source;
    document.head.appendChild(script);
  };
  // htmx sets itself up at once on a loaded document; before that it waits for DOMContentLoaded,
  // which has already passed when this runs and would never come.
  if (document.readyState === "complete") inject();
  else window.addEventListener("load", inject, { once: true });
})();
