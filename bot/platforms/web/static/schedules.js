// The schedules page: the /schedule chat commands behind a form; their answers are shown as sent.
"use strict";

(() => {
  const { api } = Easel;
  const list = document.getElementById("list");
  const answer = document.getElementById("answer");

  async function command(text, into) {
    into.textContent = "…";
    try {
      const result = await api("/api/command", { method: "POST", json: { text } });
      into.textContent = result.replies.map((r) => r.text).join("\n\n") || "Done.";
      into.classList.toggle("error", result.replies.some((r) => r.is_error));
    } catch (error) {
      into.textContent = error.message;
      into.classList.add("error");
    }
  }
  const refresh = () => command("/schedule list", list);

  document.getElementById("refresh").addEventListener("click", refresh);
  document.getElementById("create").addEventListener("submit", async (event) => {
    event.preventDefault();
    const when = document.getElementById("when").value.trim();
    const what = document.getElementById("what").value.trim();
    await command(`/schedule add ${when} ${what}`, answer);
    refresh();
  });
  document.getElementById("manage").addEventListener("submit", async (event) => {
    event.preventDefault();
    const verb = event.submitter?.dataset.verb || "pause";
    const id = document.getElementById("schedule-id").value.trim().replace(/^#/, "");
    await command(`/schedule ${verb} ${id}`, answer);
    refresh();
  });
  refresh();
})();
