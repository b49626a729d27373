// Ticking a group ticks its components and locks them (they come with the group); unticking gives them back
// their own choice. Ticking anything selects "Only the ones I tick". Without JavaScript the server does both.
(function () {
  var form = document.querySelector(".manage-scope");
  if (!form) return;
  var chosen = form.querySelector('input[name="scope"][value="chosen"]');
  form.querySelectorAll('input[name="groups"]').forEach(function (group) {
    var children = group.closest("li").querySelectorAll('ul input[name="components"]');
    function sync() {
      children.forEach(function (child) {
        child.disabled = group.checked;
        child.checked = group.checked || child.dataset.own === "1";
      });
    }
    group.addEventListener("change", sync);
    children.forEach(function (child) {
      child.addEventListener("change", function () { child.dataset.own = child.checked ? "1" : ""; });
    });
  });
  form.querySelectorAll('input[type="checkbox"]').forEach(function (box) {
    box.addEventListener("change", function () { if (box.checked) chosen.checked = true; });
  });
})();
