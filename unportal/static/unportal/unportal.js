// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Menus built on <details> close on Escape and on a click elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details[data-dismissable][open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details[data-dismissable][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // A link to a goal or target inside a closed <details> opens it.
  function openTarget() {
    if (!location.hash) return;
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    var details = target && target.closest("details");
    if (details && !details.open) {
      details.open = true;
      target.scrollIntoView();
    }
  }
  // Forms checked as they are filled in (data-live-check): send only the fields
  // the person has touched, so fields they have not reached yet stay quiet.
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("form[data-live-check]")) return;
    var trigger = event.detail.triggeringEvent;
    var name = trigger && trigger.target && trigger.target.name;
    form._touched = form._touched || [];
    if (name && form._touched.indexOf(name) === -1) form._touched.push(name);
    event.detail.parameters._touched = form._touched.slice();
  });

  // Filters leave empty fields out of the URL, so bookmarks stay readable.
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("form[data-drop-empty]")) return;
    var parameters = event.detail.parameters;
    Array.from(new FormData(form).keys()).forEach(function (name) {
      if (parameters[name] === "") delete parameters[name];
    });
  });

  // When an error list is swapped in, mark its field (and say which text
  // describes it), so that screen readers announce the error with the field.
  function syncFieldErrors(list) {
    var id = list.id.replace(/_error$/, "");
    var hasErrors = list.children.length > 0;
    var wrapper = list.closest(".field, .breakdown__cell");
    if (wrapper) wrapper.classList.toggle("field--invalid", hasErrors);
    var input = document.getElementById(id);
    if (!input || input.tagName === "DIV") return;
    if (hasErrors) {
      input.setAttribute("aria-invalid", "true");
      var described = (input.getAttribute("aria-describedby") || "").split(" ");
      if (described.indexOf(list.id) === -1) {
        described.push(list.id);
        input.setAttribute("aria-describedby", described.join(" ").trim());
      }
    } else {
      input.removeAttribute("aria-invalid");
    }
  }
  document.addEventListener("htmx:load", function (event) {
    var element = event.detail.elt;
    if (element.matches && element.matches(".field__errors")) syncFieldErrors(element);
  });

  // After paging or sorting the activity list, put focus at the top of the new
  // results instead of leaving it on a link that no longer exists.
  document.addEventListener("htmx:afterSwap", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (event.detail.target.id !== "activity-results" || !source) return;
    if (source.tagName !== "A") return;
    var heading = document.getElementById("activity-results-heading");
    if (heading) heading.focus();
  });

  // A page that reports a refused step (a conflict, blocking issues) moves focus
  // to that report, so keyboard and screen-reader users meet it first.
  document.addEventListener("DOMContentLoaded", function () {
    var report = document.querySelector("#conflict, #submit-issues");
    if (report) report.focus();
  });

  window.addEventListener("hashchange", openTarget);
  document.addEventListener("DOMContentLoaded", openTarget);
})();
