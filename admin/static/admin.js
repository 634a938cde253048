// The admin pages work without this script; it adds a confirmation before
// each action, a filter box over tables and the reload of the dashboard
// while runs are in progress. No framework, no build.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
    });
  });
  // The dashboard reloads while runs are in progress.
  var live = document.querySelector("[data-refresh]");
  if (live) {
    window.setTimeout(function () { window.location.reload(); }, 1000 * Number(live.dataset.refresh));
  }
  document.querySelectorAll("input.filter").forEach(function (input) {
    input.addEventListener("input", function () {
      var text = input.value.toLowerCase();
      document.querySelectorAll("table.filterable tbody tr").forEach(function (row) {
        row.hidden = text !== "" && row.textContent.toLowerCase().indexOf(text) < 0;
      });
    });
  });
});
