// Click (or Enter/Space on) a header of a .sortable table to sort by that column; again to
// reverse. Cells sort by data-sort when present (numbers from Python), else by their text;
// empty values always go last.
(function () {
  "use strict";

  function cellKey(tr, col) {
    var td = tr.cells[col];
    if (!td) return "";
    var v = td.getAttribute("data-sort");
    return v === null ? td.textContent.trim() : v;
  }

  function sortBy(table, th, col) {
    var asc = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
      h.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var numeric = th.getAttribute("data-type") === "num";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellKey(a, col), y = cellKey(b, col);
      if (numeric) {
        var fx = parseFloat(x), fy = parseFloat(y);
        var mx = isNaN(fx), my = isNaN(fy);
        if (mx || my) return mx === my ? 0 : (mx ? 1 : -1);
        if (fx === fy) return 0;
        return asc ? (fx < fy ? -1 : 1) : (fx < fy ? 1 : -1);
      }
      if (x === "" || y === "") return x === y ? 0 : (x === "" ? 1 : -1);
      var c = x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    if (!table.tHead || !table.tBodies.length) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.tabIndex = 0;
      th.title = "Sort by " + th.textContent.trim();
      th.addEventListener("click", function () { sortBy(table, th, col); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          sortBy(table, th, col);
        }
      });
    });
  });

  // Tables with detail columns start with them hidden (the page at a glance); a button before
  // the table shows or hides them. Without the script every column shows.
  var collapsible = document.querySelectorAll("table[data-detail-columns]");
  Array.prototype.forEach.call(collapsible, function (table) {
    var n = table.getAttribute("data-detail-columns");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "toggle-columns";
    button.setAttribute("aria-controls", table.id);
    function show(all) {
      table.classList.toggle("collapsed", !all);
      button.setAttribute("aria-expanded", String(all));
      button.textContent = all ? "Fewer columns" : "All columns (+" + n + ")";
    }
    button.addEventListener("click", function () {
      show(table.classList.contains("collapsed"));
    });
    show(false);
    var wrapper = table.parentNode.classList.contains("scroll") ? table.parentNode : table;
    wrapper.parentNode.insertBefore(button, wrapper);
  });

  // Tests read this to know the script ran to the end without throwing.
  document.documentElement.setAttribute("data-report-ready", String(tables.length));
})();
