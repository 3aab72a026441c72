// The schedules page: this conversation's scheduled posts and birthdays as a table with their buttons,
// and a form whose "when" shows its next runs as it is typed. Every change is a /schedule command the
// server runs for this conversation (the core decides who may do what); its answer is shown.
"use strict";

(() => {
  const { el, api, when: localTime, t } = Easel;
  const rows = document.getElementById("rows");
  const table = document.getElementById("schedules");
  const none = document.getElementById("none");
  const answer = document.getElementById("answer");
  const form = document.getElementById("create");
  const fields = {
    what: document.getElementById("what"), when: document.getElementById("when"),
    tz: document.getElementById("tz"), target: document.getElementById("target"),
  };
  const preview = document.getElementById("preview");

  function say(result) {
    answer.textContent = result.replies.map((r) => r.text).join("\n\n") || t("Done.");
    answer.classList.toggle("error", !result.ok);
  }
  function sayError(error) { answer.textContent = error.message; answer.classList.add("error"); }

  const STATUSES = {
    requested: t("requested"), claimed: t("starting"), submitted: t("submitted"), done: t("done"),
    retrying: t("retrying"), failed: t("failed"), cancelled: t("cancelled"), missed: t("missed"),
  };
  function lastResult(last) {
    if (!last) return el("span", { class: "muted", text: t("not run yet") });
    const label = `${STATUSES[last.status] || last.status} · ${localTime(last.when)}`;
    if (last.thumb) {
      return el("a", { class: "last", href: `/gallery#${last.generation_id}`, title: label },
        el("img", { src: last.thumb, alt: t("Picture #{id}", { id: last.generation_id }), width: "56", height: "56" }),
        el("span", { text: label }));
    }
    return el("span", { class: last.status === "done" ? "" : "muted", text: last.error ? `${label}: ${last.error}` : label });
  }

  function button(schedule, verb, text) {
    return el("button", {
      class: "btn", type: "button", text, "aria-label": t("{action} #{id}", { action: text, id: schedule.id }),
      onclick: async (event) => {
        if (verb === "remove" && !confirm(t("Delete #{id}?", { id: schedule.id }))) return;
        event.currentTarget.disabled = true;
        const before = schedule.last_run?.when;
        try { say(await api(`/api/schedules/${schedule.id}/${verb}`, { method: "POST", json: {} })); }
        catch (error) { sayError(error); }
        await refresh();
        if (verb === "run") follow(schedule.id, before);
      },
    });
  }

  function row(s) {
    const what = s.kind === "birthday"
      ? [el("span", { class: "badge", text: t("birthday") }), ` ${s.birthday_of || t("someone")}`]
      : [s.prompt];
    return el("tr", { dataset: { schedule: String(s.id) } },
      el("td", { text: `#${s.id}` }),
      el("td", {}, ...what, s.enabled ? null : el("span", { class: "badge bad", text: t("paused") })),
      el("td", { text: s.description }),
      el("td", { class: "next", text: s.enabled ? s.next_run_local : t("paused") }),
      el("td", {}, lastResult(s.last_run)),
      el("td", { class: "row-actions" },
        s.enabled ? button(s, "pause", t("Pause")) : button(s, "resume", t("Resume")),
        button(s, "run", t("Run now")), button(s, "remove", t("Delete"))));
  }

  async function refresh() {
    try {
      const data = await api("/api/schedules");
      document.getElementById("chat-label").textContent = data.label;
      rows.replaceChildren(...data.schedules.map(row));
      table.hidden = data.schedules.length === 0;
      none.hidden = data.schedules.length > 0;
    } catch (error) { sayError(error); }
  }

  // After "Run now": look again every 1.5 s (for a minute at most) until the run has a result.
  async function follow(id, before, tries = 40) {
    for (let i = 0; i < tries; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const data = await api("/api/schedules").catch(() => null);
      const found = data?.schedules.find((s) => s.id === id);
      if (!found) return;
      const last = found.last_run;
      if (last && last.when !== before && !["claimed", "submitted", "retrying", "requested"].includes(last.status)) {
        await refresh();
        return;
      }
    }
  }

  let pending = null;
  function schedulePreview() {
    clearTimeout(pending);
    pending = setTimeout(async () => {
      const when = fields.when.value.trim();
      if (!when) { preview.replaceChildren(); return; }
      const params = new URLSearchParams({ when, tz: fields.tz.value.trim() });
      try {
        const found = await api(`/api/schedules/preview?${params}`);
        preview.classList.remove("error");
        preview.replaceChildren(el("strong", { text: found.description }),
          el("span", { text: ` · ${t("next runs:")}` }), el("ul", {}, found.runs.map((t) => el("li", { text: t }))));
      } catch (error) {
        preview.classList.add("error");
        preview.replaceChildren(el("span", { text: error.message }));
      }
    }, 250);
  }
  fields.when.addEventListener("input", schedulePreview);
  fields.tz.addEventListener("change", schedulePreview);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      prompt: fields.what.value.trim(), when: fields.when.value.trim(),
      tz: fields.tz.value.trim(), target: fields.target.value,
    };
    try {
      const result = await api("/api/schedules", { method: "POST", json: body });
      say(result);
      if (result.ok) { fields.what.value = ""; fields.when.value = ""; preview.replaceChildren(); }
    } catch (error) { sayError(error); }
    await refresh();
  });

  async function init() {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    fields.tz.value = zone;
    const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [zone];
    document.getElementById("zones").append(...zones.map((z) => el("option", { value: z })));
    const list = await api("/api/conversations");
    fields.target.replaceChildren(...list.conversations.map((c) => el("option", {
      value: c.id, text: c.id === list.current ? t("{label} (this one)", { label: c.label }) : c.label, selected: c.id === list.current,
    })));
    await refresh();
  }
  init().catch(sayError);
})();
