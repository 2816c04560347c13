// Hoist console: keeps a page's live part (#live[data-live]) up to date by fetching the
// same page's fragment every few seconds, while the tab is visible. One request at a time.
"use strict";
(function () {
  const live = document.getElementById("live");
  if (!live || !live.dataset.live) {
    return;
  }
  const every = Math.max(1000, parseInt(live.dataset.live, 10) || 2000);
  let busy = false;
  async function refresh() {
    if (busy || document.hidden) {
      return;
    }
    busy = true;
    try {
      const res = await fetch(location.href, {
        headers: { "X-Hoist-Fragment": "1" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (res.status === 401) { // signed out, or the key was deleted
        location.reload();
        return;
      }
      if (res.ok || res.status === 400 || res.status === 404) {
        const html = await res.text();
        // The server renders it with html/template, which escapes every value.
        live.innerHTML = html;
        live.dataset.updated = String(Date.now());
      }
    } catch (e) {
      // the server is restarting or unreachable: try again next time
    } finally {
      busy = false;
    }
  }
  setInterval(refresh, every);
  document.addEventListener("visibilitychange", refresh);
})();
