/* The attendance grid (delivery/courses/attendance.html): marking the whole class from the keyboard.
   On a student's radio buttons: P, A, L, E mark them present, absent, late or excused and move to
   the next student (after the last one, to the class record); arrow up and down move between
   students (left and right still move within one student's choices). "Mark everyone present"
   checks Present for every student here instead of reloading the page. Without this script the
   radios and the button (a link that pre-fills the grid) still work. */
(function () {
  "use strict";

  var KEYS = { p: "present", a: "absent", l: "late", e: "excused" };

  function studentRows(grid) {
    return Array.prototype.slice.call(grid.querySelectorAll("[data-student]"));
  }

  function focusRow(row) {
    var radio = row.querySelector("input[type=radio]:checked") || row.querySelector("input[type=radio]");
    if (radio) radio.focus();
  }

  function focusAfterGrid() {
    var after = document.querySelector("[data-after-grid]");
    var target = after && after.querySelector("input:not([type=hidden]), select, textarea");
    target = target || document.getElementById("attendance-save");
    if (target) target.focus();
  }

  function updateCounts(grid) {
    var out = document.querySelector("[data-attendance-counts]");
    if (!out) return;
    var counts = {}, unmarked = 0, rows = studentRows(grid);
    rows.forEach(function (row) {
      var checked = row.querySelector("input[type=radio]:checked");
      if (checked) {
        var label = checked.parentNode.querySelector("span").textContent;
        counts[label] = (counts[label] || 0) + 1;
      } else {
        unmarked += 1;
      }
    });
    var parts = Object.keys(counts).map(function (label) { return counts[label] + " " + label.toLowerCase(); });
    if (unmarked) parts.push(unmarked + " " + (out.dataset.unmarked || "not marked"));
    out.textContent = parts.join(" · ");
  }

  function init(grid) {
    grid.addEventListener("keydown", function (event) {
      var target = event.target;
      if (!target || target.type !== "radio" || target.disabled) return;
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      var row = target.closest("[data-student]");
      if (!row) return;
      var rows = studentRows(grid);
      var index = rows.indexOf(row);
      var status = KEYS[(event.key || "").toLowerCase()];
      if (status) {
        event.preventDefault();
        var radio = row.querySelector('input[type=radio][value="' + status + '"]');
        if (radio) {
          radio.checked = true;
          radio.dispatchEvent(new Event("change", { bubbles: true }));
        }
        if (rows[index + 1]) focusRow(rows[index + 1]);
        else focusAfterGrid();
      } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var next = rows[index + (event.key === "ArrowDown" ? 1 : -1)];
        if (next) focusRow(next);
      }
    });
    grid.addEventListener("change", function () { updateCounts(grid); });

    var button = document.querySelector("[data-all-present]");
    if (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        studentRows(grid).forEach(function (row) {
          var radio = row.querySelector('input[type=radio][value="present"]');
          if (radio && !radio.disabled) radio.checked = true;
        });
        updateCounts(grid);
        var rows = studentRows(grid);
        if (rows.length) focusRow(rows[0]);
      });
    }
    updateCounts(grid);
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-attendance-grid]"), init);
  });
})();
