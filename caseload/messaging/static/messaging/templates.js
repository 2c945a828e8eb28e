// The message template editor: the placeholder buttons insert their placeholder where the cursor
// is (in the subject or the message, whichever had focus last; the message by default), then
// fire an "input" event so the htmx preview follows. Without this script the placeholders are
// a list to type from.
(function () {
  "use strict";
  function setUp(form) {
    var body = form.querySelector("[data-template-body]");
    var target = body;
    form.addEventListener("focusin", function (event) {
      if (event.target.matches("textarea, input[name=subject]")) target = event.target;
    });
    form.querySelectorAll("[data-insert]").forEach(function (button) {
      button.hidden = false;
      var token = button.parentElement.querySelector(".placeholder-token");
      if (token) token.hidden = true;
      button.addEventListener("click", function () {
        var field = target || body;
        if (!field) return;
        var text = button.getAttribute("data-insert");
        var start = field.selectionStart != null ? field.selectionStart : field.value.length;
        var end = field.selectionEnd != null ? field.selectionEnd : field.value.length;
        field.value = field.value.slice(0, start) + text + field.value.slice(end);
        field.focus();
        field.setSelectionRange(start + text.length, start + text.length);
        field.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("template-form");
    if (form) setUp(form);
  });
})();
