/* Caseload — service forms (caseload/formbuilder/rendering.py). Without this file every question
   is shown (the server ignores answers to questions that do not apply) and "Add another" posts
   the form to get one more row. With it, questions whose show_if does not hold are hidden as the
   answers change, and "Add another" copies a blank row in place. */
(function () {
  "use strict";
  if (window.caseloadForms) return; // render_fields may appear twice on a page
  window.caseloadForms = true;

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // The answer to question `key` as the server would read it: a string, a list, true/false or null.
  function answer(root, rowPrefix, key) {
    var name = null;
    var inputs = [];
    if (rowPrefix) {
      name = rowPrefix + key;
      inputs = root.querySelectorAll('[name="' + name + '"], [name^="' + name + '-"]');
    }
    if (!inputs.length) {
      name = root.getAttribute("data-prefix") + "-" + key;
      inputs = root.querySelectorAll('[name="' + name + '"], [name^="' + name + '-"]');
    }
    var values = [];
    var many = false;
    var field = null;
    inputs.forEach(function (input) {
      if (input.type === "hidden" || input.type === "file") {
        if (input.type === "hidden" && input.value && /-keep$/.test(input.name)) values.push(input.value);
        if (input.type === "file" && input.files && input.files.length) values.push(input.files[0].name);
        return;
      }
      if (/-remove$/.test(input.name)) return;
      if (input.type === "checkbox") { many = true; if (input.checked) values.push(input.value); return; }
      if (input.type === "radio") { if (input.checked) values.push(input.value); return; }
      if (input.name !== name) many = true; // a CLB level per skill
      if (input.value.trim()) values.push(input.value.trim());
      field = input;
    });
    var wrapper = inputs.length ? inputs[0].closest("[data-field]") : null;
    if (wrapper && wrapper.classList.contains("field-yesno")) {
      return values.length ? values[0] === "yes" : null;
    }
    if (many) return values;
    return values.length ? values[0] : null;
  }

  function answered(value) {
    if (value === null || value === undefined) return false;
    if (Array.isArray(value)) return value.length > 0;
    return value !== "";
  }

  function same(given, wanted) {
    if (typeof wanted === "boolean" || typeof given === "boolean") return given === wanted;
    if (typeof wanted === "number") return given !== "" && Number(given) === wanted;
    return String(given) === String(wanted);
  }

  function holds(condition, root, rowPrefix) {
    if (condition.all) return condition.all.every(function (c) { return holds(c, root, rowPrefix); });
    if (condition.any) return condition.any.some(function (c) { return holds(c, root, rowPrefix); });
    if (condition.not) return !holds(condition.not, root, rowPrefix);
    var value = answer(root, rowPrefix, condition.field);
    if ("answered" in condition) return answered(value) === Boolean(condition.answered);
    if (!answered(value)) return false;
    var wanted = "equals" in condition ? [condition.equals] : (condition["in"] || []);
    var given = Array.isArray(value) ? value : [value];
    return given.some(function (g) { return wanted.some(function (w) { return same(g, w); }); });
  }

  function refresh(root) {
    // In document order, so a question hidden earlier counts as unanswered for those after it.
    root.querySelectorAll("[data-show-if]").forEach(function (field) {
      if (field.closest("template")) return;
      var condition;
      try { condition = JSON.parse(field.getAttribute("data-show-if")); } catch (e) { return; }
      var show = holds(condition, root, field.getAttribute("data-row-prefix") || "");
      field.hidden = !show;
    });
  }

  function addRow(group) {
    var template = group.querySelector("template[data-row-template]");
    var rows = group.querySelector("[data-group-rows]");
    if (!template || !rows) return false;
    var max = parseInt(group.getAttribute("data-max-items") || "", 10);
    if (!isNaN(max) && rows.querySelectorAll("[data-group-row]").length >= max) return true;
    var index = parseInt(group.getAttribute("data-next-index") || "0", 10);
    group.setAttribute("data-next-index", String(index + 1));
    var html = template.innerHTML.split("__i__").join(String(index)).split("__n__").join(String(index + 1));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.firstElementChild;
    rows.appendChild(row);
    var first = row.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
    return true;
  }

  ready(function () {
    document.querySelectorAll("[data-form-fields]").forEach(function (root) {
      refresh(root);
      root.addEventListener("input", function () { refresh(root); });
      root.addEventListener("change", function () { refresh(root); });
      root.addEventListener("click", function (event) {
        var button = event.target.closest("[data-add-row]");
        if (!button) return;
        var group = button.closest("[data-group]");
        if (group && addRow(group)) {
          event.preventDefault();
          refresh(root);
        }
      });
    });
  });
})();
