// Builds the filled CSV from the page's selects (identifying columns and scores only; `review import`
// ignores the prompt and answer columns) and downloads it. Nothing is sent anywhere.
(function () {
  "use strict";
  var meta = JSON.parse(document.getElementById("sheet-meta").textContent);
  function cell(v) {
    v = String(v);
    return /[",\n\r]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
  }
  function csv() {
    var lines = [meta.columns.map(cell).join(",")];
    document.querySelectorAll("section.row").forEach(function (row) {
      var cells = [meta.sheet, row.dataset.row, row.dataset.item];
      if (!meta.pair) cells.push(row.dataset.label);
      meta.columns.slice(cells.length).forEach(function (col) {
        var sel = row.querySelector('select[data-col="' + col + '"]');
        cells.push(sel ? sel.value : "");
      });
      lines.push(cells.map(cell).join(","));
    });
    return "\ufeff" + lines.join("\r\n") + "\r\n";
  }
  document.getElementById("download").addEventListener("click", function () {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([csv()], { type: "text/csv" }));
    a.download = "review-" + meta.sheet + "-filled.csv";
    document.body.appendChild(a);
    a.click();
    a.remove();
  });
  var status = document.getElementById("status");
  status.textContent = document.querySelectorAll("section.row").length + " rows";
  status.dataset.ready = "true";
  window.evalrunSheetCsv = csv;
})();
