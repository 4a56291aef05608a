// The catalog's filters search as the shopper types, with htmx. The first paint needs no script, so
// htmx (18 KB compressed, and a long task on a slow phone) loads only when the shopper reaches for
// the filters: a finger or mouse over them, or focus. Without it the form still works as a plain
// GET; a choice or a word given while htmx is on its way is searched for once it has arrived.
(function () {
  "use strict";
  var source = document.currentScript && document.currentScript.dataset.htmx;
  var form = document.querySelector("form.catalog-filters");
  if (!source || !form) return;

  var state = "waiting"; // then "loading", then "ready"
  var searchWhenReady = false;

  var inject = function () {
    var script = document.createElement("script");
    script.src = source;
    script.onload = function () {
      state = "ready";
      // Whatever the order the events came in, a form that no longer shows what the page was rendered
      // for is searched for now: a word typed while htmx arrived is never left unsearched.
      if ((searchWhenReady || changedSinceRendered()) && window.htmx) window.htmx.trigger(form, "submit");
    };
    document.head.appendChild(script);
  };
  var changedSinceRendered = function () {
    return Array.prototype.some.call(form.elements, function (field) {
      if (field.tagName === "SELECT") {
        var rendered = Array.prototype.findIndex.call(field.options, function (option) {
          return option.defaultSelected;
        });
        return field.selectedIndex !== Math.max(rendered, 0);
      }
      return field.type === "search" && field.value !== field.defaultValue;
    });
  };
  var load = function () {
    if (state !== "waiting") return;
    state = "loading";
    // htmx sets itself up at once on a loaded document; before that it waits for DOMContentLoaded,
    // which has already passed by now and would never come.
    if (document.readyState === "complete") inject();
    else window.addEventListener("load", inject, { once: true });
  };
  var searchSoon = function (event) {
    if (state === "ready") return; // htmx has its own listeners now
    if (event.type === "change" && event.target.tagName !== "SELECT") return;
    searchWhenReady = true;
    load();
  };

  form.addEventListener("pointerover", load);
  form.addEventListener("focusin", load);
  form.addEventListener("input", searchSoon);
  form.addEventListener("change", searchSoon);
})();
