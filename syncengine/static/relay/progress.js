// Refreshes the dashboard's sync progress while a session runs; without JavaScript a
// reload shows the same fragment. No library, nothing from a CDN.
(function () {
  "use strict";
  var box = document.getElementById("sync-progress");
  if (!box || !box.dataset.url) { return; }
  function tick() {
    if (box.dataset.running !== "true") { return; }
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#sync-progress");
        if (!fresh) { return; }
        box.innerHTML = fresh.innerHTML;
        box.dataset.running = fresh.dataset.running;
        if (fresh.dataset.running === "true") { window.setTimeout(tick, 3000); }
      })
      .catch(function () { window.setTimeout(tick, 10000); });
  }
  window.setTimeout(tick, 3000);
})();
