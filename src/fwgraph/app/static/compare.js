/* Optional enhancement: click a column header to sort the rows (the table works without it). */
document.querySelectorAll("table.fwgraph-chart th[aria-sort]").forEach(function (th) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var asc = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (o) { o.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.value || "", y = b.cells[index].dataset.value || "";
      return (asc ? 1 : -1) * x.localeCompare(y, undefined, {numeric: true, sensitivity: "base"});
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
