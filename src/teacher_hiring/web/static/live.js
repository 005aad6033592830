// The operators' live page: refresh its figures every 2 seconds from live.json.
// Without this script the page is right when loaded, with a Refresh link.
(function () {
  "use strict";
  var PERIOD_MS = 2000;

  function text(el, value) {
    if (el && el.textContent !== value) { el.textContent = value; }
  }
  function shown(value) { return value === null || value === undefined ? "\u2013" : String(value); }
  function sum(counts) {
    return Object.keys(counts || {}).reduce(function (total, key) { return total + counts[key]; }, 0);
  }

  function updateServices(root, services) {
    services.forEach(function (s) {
      var card = root.querySelector('[data-service="' + s.name + '"]');
      if (!card) { return; }
      var state = card.querySelector('[data-field="up"]');
      text(state, s.up ? "Up" : "Down");
      state.className = "state " + (s.up ? "up" : "down");
      text(card.querySelector('[data-field="outbox_backlog"]'), shown(s.outbox_backlog));
      text(card.querySelector('[data-field="consumer_lag"]'), shown(s.consumer_lag));
      text(card.querySelector('[data-field="dead_letters"]'), String(sum(s.dead_letters)));
      text(card.querySelector('[data-field="problem"]'), s.problem || "");
    });
  }

  function cell(label, value, number) {
    var td = document.createElement("td");
    td.setAttribute("data-label", label);
    if (number) { td.className = "number"; }
    td.textContent = value;
    return td;
  }

  function updateTopics(root, topics) {
    var body = root.querySelector("#topics tbody");
    if (!body) { return; }
    topics.forEach(function (t) {
      var row = body.querySelector('[data-topic="' + t.topic + '"]');
      if (!row) {
        row = document.createElement("tr");
        row.setAttribute("data-topic", t.topic);
        var name = cell("Topic", "", false);
        var code = document.createElement("code");
        code.textContent = t.topic;
        name.appendChild(code);
        row.appendChild(name);
        [["Events per second", "per_second"], ["Events in all", "records"],
         ["Dead letters pending", "dead_letters"]].forEach(function (pair) {
          var td = cell(pair[0], "", true);
          td.setAttribute("data-field", pair[1]);
          row.appendChild(td);
        });
        body.appendChild(row);
      }
      text(row.querySelector('[data-field="per_second"]'),
           t.per_second === null ? "\u2013" : t.per_second.toFixed(1));
      text(row.querySelector('[data-field="records"]'), shown(t.records));
      var dead = row.querySelector('[data-field="dead_letters"]');
      if (t.dead_letters > 0) {
        var link = dead.querySelector("a");
        if (!link) {
          dead.textContent = "";
          link = document.createElement("a");
          link.href = "/operator/dead-letters";
          dead.appendChild(link);
        }
        text(link, String(t.dead_letters));
      } else {
        text(dead, "0");
      }
    });
  }

  function start() {
    var root = document.getElementById("live");
    var status = document.getElementById("live-status");
    if (!root || !status) { return; }
    document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });
    document.querySelectorAll(".no-js").forEach(function (el) { el.hidden = true; });
    var when = status.querySelector("time");
    function poll() {
      fetch(root.getAttribute("data-source"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (live) {
          updateServices(root, live.services);
          updateTopics(root, live.topics);
          if (when) {
            var at = new Date(live.at * 1000);
            when.setAttribute("datetime", at.toISOString());
            when.textContent = at.toLocaleTimeString();
          }
          root.removeAttribute("data-stale");
        })
        .catch(function () { root.setAttribute("data-stale", "true"); })
        .then(function () { window.setTimeout(poll, PERIOD_MS); });
    }
    window.setTimeout(poll, PERIOD_MS);
  }
  document.addEventListener("DOMContentLoaded", start);
})();
