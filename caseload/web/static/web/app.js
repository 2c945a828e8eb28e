/* Caseload — small progressive enhancements. Every page works without this file:
   the navigation drawer, menus closing on Escape / outside click, dialogs in browsers without
   the Invoker Commands API, focus on a form's error summary, dismissible messages. */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  /* ---- Navigation drawer (narrow screens) ---------------------------------------------- */
  function setNav(open) {
    var toggle = document.querySelector("[data-nav-toggle]");
    var backdrop = document.querySelector(".sidebar-backdrop");
    document.body.classList.toggle("nav-open", open);
    if (toggle) toggle.setAttribute("aria-expanded", String(open));
    if (backdrop) backdrop.hidden = !open;
    // While the drawer is open the page behind it is out of reach (keyboard and screen readers).
    var page = document.querySelector(".main-column");
    if (page) page.inert = open;
    if (open) {
      var first = document.querySelector("#sidebar .nav-link[aria-current='page']") || document.querySelector("#sidebar .nav-link");
      if (first) first.focus();
    } else if (toggle && document.getElementById("sidebar").contains(document.activeElement)) {
      toggle.focus();
    }
  }

  /* ---- Menus built on <details> ---------------------------------------------------------- */
  function closeMenus(except) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (menu !== except) menu.open = false;
    });
  }

  /* ---- Dialogs ------------------------------------------------------------------------- */
  var supportsCommands = typeof HTMLButtonElement !== "undefined" && "command" in HTMLButtonElement.prototype;

  function openDialog(id) {
    var dialog = document.getElementById(id);
    if (dialog && typeof dialog.showModal === "function" && !dialog.open) {
      dialog.showModal();
      return true;
    }
    return false;
  }

  /* ---- Error summaries ----------------------------------------------------------------- */
  function focusErrorSummary(scope) {
    var summary = (scope || document).querySelector("[data-error-summary]");
    if (!summary) return;
    var dialog = summary.closest("dialog");
    if (dialog && !dialog.open) return;
    summary.focus();
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;

    if (target.closest("[data-nav-toggle]")) {
      setNav(!document.body.classList.contains("nav-open"));
      return;
    }
    if (target.closest("[data-nav-close]")) {
      setNav(false);
      return;
    }

    var opener = target.closest("[data-dialog-open]");
    if (opener && (opener.tagName === "A" || !supportsCommands)) {
      if (openDialog(opener.getAttribute("data-dialog-open"))) event.preventDefault();
      return;
    }

    // A click on a dialog's backdrop (the dialog element itself, outside its form) closes it.
    if (target.tagName === "DIALOG" && target.open) {
      var box = target.getBoundingClientRect();
      var inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) target.close();
    }

    if (target.closest("[data-dismiss]")) {
      var alert = target.closest(".alert");
      if (alert) alert.remove();
      var main = document.getElementById("main");
      if (main) main.focus();
      return;
    }

    var menu = target.closest("details[data-menu]");
    closeMenus(menu);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var openMenu = document.querySelector("details[data-menu][open]");
    if (openMenu) {
      openMenu.open = false;
      var summary = openMenu.querySelector("summary");
      if (summary) summary.focus();
      return;
    }
    if (document.body.classList.contains("nav-open")) setNav(false);
  });

  // Focus leaving a menu closes it, so keyboard users never leave one hanging open.
  document.addEventListener("focusin", function (event) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });

  ready(function () {
    document.querySelectorAll("[data-dismiss]").forEach(function (button) { button.hidden = false; });
    document.querySelectorAll("dialog[data-open-on-load]").forEach(function (dialog) { openDialog(dialog.id); });
    focusErrorSummary(document);
    // On a narrow screen the current tab may sit past the edge of its scrolling bar.
    document.querySelectorAll(".tabs").forEach(function (bar) {
      var current = bar.querySelector("[aria-current='page']");
      if (current && bar.scrollWidth > bar.clientWidth) {
        bar.scrollLeft = current.offsetLeft - (bar.clientWidth - current.offsetWidth) / 2;
      }
    });
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) return;
    target.querySelectorAll("[data-dismiss]").forEach(function (button) { button.hidden = false; });
    focusErrorSummary(target);
  });
})();
