// The peer contact form's "How long": a quick length and the minutes box always agree, so the
// server never has to choose between them (issue 13). Tapping 5 / 15 / 30 / 60 min writes that
// length into the box; typing in the box picks the quick length it equals, or "Other". Without
// this script the server still refuses a quick length that differs from the minutes typed.
document.querySelectorAll("[data-quick-duration]").forEach(function (fieldset) {
  var box = fieldset.querySelector("input[type=number]");
  var radios = fieldset.querySelectorAll("input[type=radio]");
  if (!box) { return; }
  radios.forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (!radio.checked) { return; }
      if (radio.value === "other") { box.focus(); } else { box.value = radio.value; }
    });
  });
  box.addEventListener("input", function () {
    var typed = box.value.trim();
    var match = null;
    radios.forEach(function (radio) { if (radio.value === typed) { match = radio; } });
    radios.forEach(function (radio) {
      if (radio.value === "other") { radio.checked = typed !== "" && match === null; }
    });
    if (match) { match.checked = true; }
  });
});
