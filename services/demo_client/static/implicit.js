// Implicit grant, steps 5–6 of the tutorial: the access token arrived in the URL fragment,
// which the browser never sends to a server. Read it, remove it from the address bar and
// history, and pass it to Dropletbook's server in a same-origin form post.
(function () {
  "use strict";
  var fragment = window.location.hash.replace(/^#/, "");
  history.replaceState(null, "", window.location.pathname);
  var form = document.getElementById("fragment-form");
  var params = new URLSearchParams(fragment);
  var shown = document.getElementById("fragment-fields");
  params.forEach(function (value, name) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
    var item = document.createElement("li");
    var masked = name === "access_token" ? value.slice(0, 6) + "…" : value;
    item.textContent = name + " = " + masked;
    shown.appendChild(item);
  });
  form.submit();
})();
