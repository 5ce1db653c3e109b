// A button marked data-print prints the page; the print stylesheet (pod.css, @media print)
// and Bootstrap's d-print-* classes choose what the paper copy shows.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
