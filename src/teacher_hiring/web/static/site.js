// Progressive enhancement only: every page works without it.
// Times: each <time datetime="..."> shows UTC as text; rewrite it in the viewer's time zone.
(function () {
  "use strict";
  function localTimes(root) {
    var format = new Intl.DateTimeFormat(undefined, {
      year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (!isNaN(moment)) {
        el.title = el.textContent;
        el.textContent = format.format(moment);
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localTimes(document); });
  window.thLocalTimes = localTimes;
})();
