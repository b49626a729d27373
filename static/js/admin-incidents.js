// The incident's page: the component statuses open when the chosen stage changes them (e.g. "Resolved").
// Without JavaScript they stay a <details> the responder opens by hand; the server opens it for those stages.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("sp-components");
  var form = box && box.closest("form");
  var stage = form && form.querySelector("select[name=status]");
  if (!stage) return;
  var stages = (box.dataset.openOn || "").split(" ");
  stage.addEventListener("change", function () {
    if (stages.indexOf(stage.value) !== -1) box.open = true;
  });
});
