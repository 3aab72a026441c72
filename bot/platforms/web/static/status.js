// The status page: provider chain, queue, limits, scheduler and recent errors, refreshed every 5 s.
"use strict";

(() => {
  const { el, api, when, time, t } = Easel;
  const rows = (id, pairs) => document.getElementById(id).replaceChildren(
    ...pairs.map(([k, v]) => el("tr", {}, el("th", { scope: "row", text: k }), el("td", {}, v))));

  async function refresh() {
    try {
      const s = await api("/api/status");
      rows("providers", s.providers.map((p, i) => [`${i + 1}. ${p.name}`,
        el("span", { class: `badge ${p.state === "closed" ? "good" : "bad"}`, text: p.state === "closed" ? t("ready") : t("paused ({state})", { state: p.state }) })]));
      rows("queue", [[t("Waiting"), String(s.queue.waiting)], [t("Running"), String(s.queue.running)],
        [t("Max waiting"), String(s.queue.max_waiting)], [t("Workers"), String(s.queue.workers)]]);
      rows("limits", [[t("Per user"), s.limits.user_rate], [t("Per chat"), s.limits.chat_rate], [t("Overall"), s.limits.global_rate],
        [t("Images per user per day"), s.limits.daily_images_per_user ? String(s.limits.daily_images_per_user) : t("unlimited")],
        [t("Images per request"), String(s.limits.max_images)], [t("Time limit"), t("{seconds} s", { seconds: s.limits.timeout_s })]]);
      document.getElementById("scheduler").textContent =
        { running: t("Running."), stopped: t("Not running: scheduled posts are not being made!"), absent: t("No scheduler in this process.") }[s.scheduler];
      const errors = document.getElementById("errors");
      errors.replaceChildren(s.recent_errors.length
        ? el("tbody", {}, s.recent_errors.map((e) => el("tr", {},
            el("td", { text: t("job {id}", { id: e.job_id }) }), el("td", { text: when(e.when) }), el("td", { text: e.platform }), el("td", { text: e.error }))))
        : el("tbody", {}, el("tr", {}, el("td", { class: "muted", text: t("None.") }))));
      document.getElementById("updated").textContent = t("Updated {time}.", { time: time(new Date()) });
    } catch (error) {
      document.getElementById("updated").textContent = error.message;
    }
  }
  refresh();
  setInterval(refresh, 5000);
})();
