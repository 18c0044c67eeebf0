// The claims ledger on a phone shows each row as a card (see autobuild.css); each cell is labelled
// with its column's heading, read from the table itself; a cell with no text (a method with no row
// for that claim) is marked so that the card leaves it out.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".claims-ledger table").forEach(function (table) {
    var heads = Array.from(table.querySelectorAll("thead th")).map(function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.from(row.children).forEach(function (cell, i) {
        if (heads[i]) {
          cell.dataset.label = heads[i];
        }
        if (!cell.textContent.trim()) {
          cell.classList.add("ledger-empty");
        }
      });
    });
  });
});
