// The console's one script (script-src 'self'). Every page works without it;
// it only enhances: a form marked data-confirm asks before it is sent (the
// server still shows its own confirmation page for every destructive
// action), and the language switch needs one click less.
"use strict";
document.addEventListener("submit", function (e) {
  var form = e.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    e.preventDefault();
  }
});
document.addEventListener("DOMContentLoaded", function () {
  document.documentElement.classList.add("js");
});
