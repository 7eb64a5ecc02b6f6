(function () {
  "use strict";
  function setPos(stage, value) {
    value = Math.max(0, Math.min(100, value));
    stage.dataset.pos = String(value);
    stage.style.setProperty("--pos", value + "%");
    var divider = stage.querySelector(".divider");
    divider.setAttribute("aria-valuenow", String(Math.round(value)));
    divider.setAttribute("aria-valuetext", Math.round(value) + "% input (before), " +
      Math.round(100 - value) + "% output (after)");
  }
  var keys = {ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -10, PageUp: 10};
  document.querySelectorAll(".stage").forEach(function (stage) {
    var divider = stage.querySelector(".divider");
    var dragging = false;
    setPos(stage, 50);
    function follow(event) {
      var box = stage.getBoundingClientRect();
      if (box.width > 0) setPos(stage, (event.clientX - box.left) / box.width * 100);
    }
    stage.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      dragging = true;
      stage.setPointerCapture(event.pointerId);
      follow(event);
      divider.focus({preventScroll: true});
      event.preventDefault();
    });
    stage.addEventListener("pointermove", function (event) { if (dragging) follow(event); });
    ["pointerup", "pointercancel", "lostpointercapture"].forEach(function (name) {
      stage.addEventListener(name, function () { dragging = false; });
    });
    divider.addEventListener("keydown", function (event) {
      var pos = parseFloat(stage.dataset.pos || "50");
      var next;
      if (event.key === "Home") next = 0;
      else if (event.key === "End") next = 100;
      else if (event.key in keys) next = pos + keys[event.key] * (event.shiftKey ? 10 : 1);
      else return;
      event.preventDefault();
      setPos(stage, next);
    });
  });
  function show(figure, zoom) {
    var stage = figure.querySelector(".stage");
    var width = parseInt(figure.dataset.width, 10);
    var ratio = window.devicePixelRatio || 1;
    figure.dataset.zoom = zoom;
    figure.classList.toggle("fit", zoom === "fit");
    figure.classList.toggle("zoomed", zoom !== "fit");
    stage.style.width = zoom === "fit" ? "" : (width * Number(zoom) / ratio) + "px";
    figure.querySelectorAll("button.zoom").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.zoom === zoom));
    });
    var device = stage.getBoundingClientRect().width * ratio;
    figure.querySelectorAll(".stage img").forEach(function (img) {
      var src = img.fullSource;
      if (zoom === "fit" && device < width) {
        for (var i = 0; i < img.levels.length; i++) {
          src = img.levels[i][1];
          if (img.levels[i][0] <= device) break;
        }
      }
      if (img.getAttribute("src") !== src) img.setAttribute("src", src);
    });
  }
  var figures = document.querySelectorAll("figure.compare");
  figures.forEach(function (figure) {
    figure.querySelectorAll(".stage img").forEach(function (img) {
      img.fullSource = img.getAttribute("src");
      img.levels = JSON.parse(img.dataset.levels || "[]");
    });
    figure.querySelectorAll("button.zoom").forEach(function (button) {
      button.addEventListener("click", function () { show(figure, button.dataset.zoom); });
    });
    show(figure, "fit");
  });
  window.addEventListener("resize", function () {
    figures.forEach(function (figure) { if (figure.dataset.zoom === "fit") show(figure, "fit"); });
  });
})();
