// The book's one page script: figures that stay readable on a phone.
// A notebook's PNG figure is drawn at 100 dpi, so its 10-point labels are about 14 px
// tall at full size. The theme scales every image down to the column; on a phone a
// wide multi-panel figure would shrink to a third, with labels 3-4 px tall. Give each
// figure a minimum width of MIN_SCALE of its drawn width and let its output scroll
// sideways instead (dlbook.css marks the scroll with shadows at the edges).
(function () {
  var MIN_SCALE = 0.55;
  function fit(img) {
    if (!img.naturalWidth) return;
    var min = Math.round(img.naturalWidth * MIN_SCALE);
    img.style.minWidth = min + "px";
    var box = img.parentNode;  // the cell's output box (div.cell_output)
    box.classList.toggle("dlbook-scrolls", min > box.clientWidth);
  }
  function fitAll() {
    document.querySelectorAll("div.cell_output img").forEach(function (img) {
      if (img.complete) fit(img);
      else img.addEventListener("load", function () { fit(img); }, {once: true});
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fitAll);
  } else {
    fitAll();
  }
  window.addEventListener("resize", fitAll);
})();
