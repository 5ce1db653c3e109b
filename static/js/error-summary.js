// The error summary (templates/bootstrap5/errors.html): take the focus when the page shows one,
// so a screen reader reads it and a phone scrolls to it; a link in it focuses its field (the
// GOV.UK / NHS design-system pattern). No dependencies.
(function () {
  "use strict";
  function focusField(link, event) {
    var id = link.getAttribute("href").slice(1);
    var field = document.getElementById(id);
    if (!field) return;
    event.preventDefault();
    var label = document.querySelector('label[for="' + id + '"]');
    (label || field).scrollIntoView({ block: "center" });
    field.focus({ preventScroll: true });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) return;
    summary.focus();
    summary.querySelectorAll("a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function (event) { focusField(link, event); });
    });
  });
})();
