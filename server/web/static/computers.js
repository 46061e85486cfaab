// The computer page's enhancement (script-src 'self'): while a command is
// pending or delivered, ask the page's JSON route for the command states
// every two seconds and update the table in place. Without this script a
// reload shows the same states.
"use strict";
(function () {
  var table = document.getElementById("commands");
  if (!table || !window.fetch) {
    return;
  }
  var url = table.getAttribute("data-states") + window.location.search;
  function open() {
    return table.querySelector("tr.command[data-open]") !== null;
  }
  function update(states) {
    states.forEach(function (s) {
      var row = table.querySelector('tr.command[data-id="' + s.id + '"]');
      if (!row) {
        return;
      }
      var cell = row.querySelector("td.state");
      if (cell && cell.textContent !== s.text) {
        cell.textContent = s.text;
        cell.className = "state state-" + s.state;
      }
      if (s.open) {
        row.setAttribute("data-open", "1");
      } else {
        row.removeAttribute("data-open");
      }
    });
  }
  function poll() {
    if (!open()) {
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) {
          throw new Error("status " + r.status);
        }
        return r.json();
      })
      .then(function (body) {
        update(body.commands || []);
        window.setTimeout(poll, 2000);
      })
      .catch(function () {
        window.setTimeout(poll, 10000);
      });
  }
  window.setTimeout(poll, 2000);
})();
