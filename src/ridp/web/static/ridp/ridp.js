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
