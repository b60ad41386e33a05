/* The finder's optional enhancement: a ticked facet applies at once (the form works without it: "Apply"). */
(function () {
  var form = document.getElementById("finder-form");
  if (!form) return;
  form.addEventListener("change", function (event) {
    var t = event.target;
    if (t && (t.type === "checkbox" || t.type === "radio")) form.requestSubmit();
  });
})();
