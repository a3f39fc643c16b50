// ridp's only script besides htmx: no inline handlers anywhere (the CSP forbids them).
// Buttons that ask before acting carry data-confirm; htmx sends the CSRF token from the meta-less cookie-free form field.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
document.addEventListener("htmx:configRequest", function (event) {
  var token = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (token) {
    event.detail.headers["X-CSRFToken"] = token.value;
  }
});
// Charts: the server renders each as SVG (it works without script); where Vega and its CSP-safe interpreter
// are loaded, the chart becomes live (tooltips) from the Vega spec in a JSON data block beside it. The
// interpreter evaluates Vega's expressions without eval, which the CSP forbids.
function ridpCharts(root) {
  if (!window.vega || !window.vega.expressionInterpreter) {
    return;
  }
  root.querySelectorAll("[data-vega-spec]").forEach(function (figure) {
    var data = document.getElementById(figure.getAttribute("data-vega-spec"));
    if (!data || figure.getAttribute("data-live")) {
      return;
    }
    figure.setAttribute("data-live", "pending");
    var holder = document.createElement("div");
    var view = new window.vega.View(window.vega.parse(JSON.parse(data.textContent), null, { ast: true }), {
      expr: window.vega.expressionInterpreter,
      renderer: "svg",
      container: holder,
      hover: true,
    });
    view.runAsync().then(function () {
      var still = figure.querySelector(".chart-static");
      if (still) {
        still.replaceWith(holder);
      }
      figure.setAttribute("data-live", "yes");
    }).catch(function () {
      figure.setAttribute("data-live", "failed"); // the server's SVG stays
    });
  });
}
document.addEventListener("DOMContentLoaded", function () { ridpCharts(document); });
document.addEventListener("htmx:afterSwap", function (event) { ridpCharts(event.target); });
