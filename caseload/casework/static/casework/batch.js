// Batch selection: shows how many clients are ticked, and ticking one chooses "the selected clients".
// Everything works without it; it only keeps the count in view.
(function () {
  "use strict";
  function setUp(form) {
    var id = form.id;
    var counter = form.querySelector("[data-batch-count]");
    var selectedScope = form.querySelector('input[name="scope"][value="selected"]');
    function boxes() {
      return document.querySelectorAll('input.batch-check[form="' + id + '"]');
    }
    function update() {
      var n = 0;
      boxes().forEach(function (box) { if (box.checked) { n += 1; } });
      if (counter) {
        var text = n === 1 ? counter.dataset.one : counter.dataset.many;
        if (text) { counter.textContent = text.replace("__N__", String(n)); }
        counter.hidden = n === 0 && counter.hasAttribute("data-hide-empty");
      }
      return n;
    }
    document.addEventListener("change", function (event) {
      var box = event.target;
      if (box.classList && box.classList.contains("batch-check") && box.getAttribute("form") === id) {
        if (box.checked && selectedScope) { selectedScope.checked = true; }
        update();
      }
    });
    // htmx swaps the table when it sorts or pages: the ticks of the old page are gone.
    document.body.addEventListener("htmx:afterSwap", update);
    update();
  }
  function init() {
    document.querySelectorAll("form[data-batch-form]").forEach(setUp);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
