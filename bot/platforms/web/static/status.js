// The status page: provider chain, queue, limits, scheduler and recent errors, refreshed every 5 s.
"use strict";

(() => {
  const { el, api, when } = Easel;
  const rows = (id, pairs) => document.getElementById(id).replaceChildren(
    ...pairs.map(([k, v]) => el("tr", {}, el("th", { scope: "row", text: k }), el("td", {}, v))));

  async function refresh() {
    try {
      const s = await api("/api/status");
      rows("providers", s.providers.map((p, i) => [`${i + 1}. ${p.name}`,
        el("span", { class: `badge ${p.state === "closed" ? "good" : "bad"}`, text: p.state === "closed" ? "ready" : `paused (${p.state})` })]));
      rows("queue", [["Waiting", String(s.queue.waiting)], ["Running", String(s.queue.running)],
        ["Max waiting", String(s.queue.max_waiting)], ["Workers", String(s.queue.workers)]]);
      rows("limits", [["Per user", s.limits.user_rate], ["Per chat", s.limits.chat_rate], ["Overall", s.limits.global_rate],
        ["Images per user per day", s.limits.daily_images_per_user ? String(s.limits.daily_images_per_user) : "unlimited"],
        ["Images per request", String(s.limits.max_images)], ["Time limit", `${s.limits.timeout_s} s`]]);
      document.getElementById("scheduler").textContent =
        { running: "Running.", stopped: "Not running: scheduled posts are not being made!", absent: "No scheduler in this process." }[s.scheduler];
      const errors = document.getElementById("errors");
      errors.replaceChildren(s.recent_errors.length
        ? el("tbody", {}, s.recent_errors.map((e) => el("tr", {},
            el("td", { text: `job ${e.job_id}` }), el("td", { text: when(e.when) }), el("td", { text: e.platform }), el("td", { text: e.error }))))
        : el("tbody", {}, el("tr", {}, el("td", { class: "muted", text: "None." }))));
      document.getElementById("updated").textContent = `Updated ${new Date().toLocaleTimeString()}.`;
    } catch (error) {
      document.getElementById("updated").textContent = error.message;
    }
  }
  refresh();
  setInterval(refresh, 5000);
})();
