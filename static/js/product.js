// The product page. Without JavaScript the form is a plain list of combinations (one radio each);
// with it, one row of choice pills per option (Size, Colour) picks among those same radios, and the
// price, stock and button follow the choice.
(function () {
  "use strict";
  var form = document.getElementById("add-to-cart");
  if (!form) return;

  // --- Choice pills -------------------------------------------------------------------------
  var list = form.querySelector("[data-variant-list]");
  var pickers = form.querySelector("[data-option-pickers]");
  var price = form.querySelector("[data-variant-price]");
  var stock = form.querySelector("[data-variant-stock]");
  var button = form.querySelector("[data-add-button]");
  if (list && pickers && button) {
    var variants = Array.prototype.map.call(list.querySelectorAll("input[name=variant_id]"), function (input) {
      return { input: input, options: JSON.parse(input.dataset.options), soldOut: input.disabled };
    });
    var pills = Array.prototype.slice.call(pickers.querySelectorAll("input[data-option]"));

    var chosen = function () {
      var choice = {};
      pills.forEach(function (pill) { if (pill.checked) choice[pill.dataset.option] = pill.value; });
      return choice;
    };
    var matching = function (choice) {
      return variants.filter(function (variant) {
        return Object.keys(variant.options).every(function (name) {
          return String(variant.options[name]) === choice[name];
        }) && Object.keys(choice).length === Object.keys(variant.options).length;
      })[0] || null;
    };

    var show = function () {
      var choice = chosen();
      var variant = matching(choice);
      variants.forEach(function (other) { other.input.checked = other === variant && !variant.soldOut; });
      var buyable = variant && !variant.soldOut;
      price.textContent = variant ? variant.input.dataset.price : price.textContent;
      stock.textContent = !variant ? "Not available in this combination" : variant.input.dataset.stock;
      stock.classList.toggle("sold-out", !buyable);
      button.disabled = !buyable;
      button.textContent = buyable ? "Add to cart" : "Sold out";
      // A value that, with the other choices as they are, makes a sold-out or missing combination.
      pills.forEach(function (pill) {
        var other = Object.assign({}, choice);
        other[pill.dataset.option] = pill.value;
        var candidate = matching(other);
        var unavailable = !candidate || candidate.soldOut;
        pill.parentElement.classList.toggle("pill-unavailable", unavailable);
        pill.parentElement.querySelector(".pill-note").textContent = pill.disabled
          ? " (sold out)"
          : unavailable ? " (not available with this choice)" : "";
      });
    };

    pills.forEach(function (pill) { pill.addEventListener("change", show); });
    list.hidden = true;
    pickers.hidden = false;
    show();
  }
})();
