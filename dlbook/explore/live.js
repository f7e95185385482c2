// The live explorer's second output runs this in JupyterLab (a trusted output).
// 1. Keys typed on the explorer's controls stay there: JupyterLab's notebook
//    shortcuts listen on the document, where an arrow key would move the cell
//    selection and "r" would turn the cell raw. Shift+Enter, Escape and keys
//    with Ctrl, Alt or Cmd still reach JupyterLab.
// 2. A notebook reopened without the kernel that made the explorer has lost its
//    widget: its "Error displaying widget" line becomes a note, and the figure
//    at the first point (hidden in this output) is shown.
(function () {
  var script = document.currentScript;
  var area = script && script.closest(".jp-OutputArea");
  if (!area || area.getAttribute("data-dlbook-live")) return;
  area.setAttribute("data-dlbook-live", "1");
  area.addEventListener("keydown", function (e) {
    var t = e.target;
    if (!t.closest || !t.closest(".jupyter-widgets")) return;
    if (e.ctrlKey || e.metaKey || e.altKey || e.key === "Escape") return;
    if (e.key === "Enter" && e.shiftKey) return;
    e.stopPropagation();
  });
  var NOTE = "The explorer's controls ended with the kernel that made them " +
    "(below: its first figure). Run this cell to move them again.";
  function fix() {
    area.querySelectorAll(".jupyter-widgets").forEach(function (el) {
      if (el.textContent.indexOf("Error displaying widget") === 0) {
        el.textContent = NOTE;
        el.classList.replace("jupyter-widgets", "dlbook-explorer-note");
        var first = area.querySelector("img.dlbook-explorer-first");
        if (first) first.style.display = "block";
      }
    });
  }
  new MutationObserver(fix).observe(area, {childList: true, subtree: true});
  fix();
})();
