// The chat page: the browser's conversation from the database (older pages on scroll up), then live
// (SSE); send prompts (with an optional image), press buttons, stop a request in progress.
"use strict";

(() => {
  const { el, api, session, t, reveal } = Easel;
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const prompt = document.getElementById("prompt");
  const fileInput = document.getElementById("file");
  const chips = document.getElementById("chips");
  const sendButton = document.getElementById("send");
  const older = document.getElementById("older");
  const pill = document.getElementById("new-result");
  const composerError = document.getElementById("composer-error");
  const seen = new Set();
  const state = {
    me: null, editing: null, file: null, fileUrl: null, maxUpload: 10_000_000,
    before: null, loadingOlder: false,
  };
  const DEFAULT_PLACEHOLDER = prompt.placeholder;
  const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];

  function atBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 80; }
  function toBottom() { log.scrollTop = log.scrollHeight; pill.hidden = true; }
  // A node at the end of the log. It is scrolled to when the reader was at the bottom, or when it is
  // the answer to their own click (follow); else a new result shows the "New result" pill.
  function append(node, { follow = false } = {}) {
    const stick = atBottom() || follow;
    document.getElementById("empty")?.remove();
    log.append(node);
    if (!stick) {
      if (node.querySelector(".reply[data-generation]")) pill.hidden = false;
      return;
    }
    toBottom();
    for (const img of node.querySelectorAll("img")) {
      img.addEventListener("load", () => { if (stick) log.scrollTop = log.scrollHeight; }, { once: true });
    }
  }
  pill.addEventListener("click", () => {
    const last = [...log.querySelectorAll(".reply[data-generation]")].pop();
    toBottom();
    last?.closest("li")?.querySelector("button, a")?.focus({ preventScroll: true });
  });

  // ------------------------------------------------------------------ composer state

  function renderChips() {
    chips.replaceChildren();
    if (state.editing !== null) {
      chips.append(el("span", { class: "chip", id: "editing" },
        t("Editing #{id}", { id: state.editing }),
        el("button", { type: "button", "aria-label": t("Stop editing"), text: "×", onclick: () => setEditing(null) })));
    }
    if (state.file) {
      chips.append(el("span", { class: "chip", id: "attachment" },
        el("img", { src: state.fileUrl, alt: "" }), state.file.name || t("pasted image"),
        el("button", { type: "button", "aria-label": t("Remove the image"), text: "×", onclick: () => setFile(null) })));
    }
    prompt.placeholder = state.editing !== null || state.file
      ? t("How should I change it? e.g. make it warmer") : DEFAULT_PLACEHOLDER;
    prompt.required = !state.file;
  }
  function setEditing(id) { state.editing = id; renderChips(); if (id !== null) prompt.focus(); }
  function composerSays(text) { composerError.textContent = text || ""; composerError.hidden = !text; }
  // Only an image Easel can edit is attached: anything else is refused here, before any upload.
  function fileProblem(file) {
    if (!IMAGE_TYPES.includes(file.type)) {
      return file.name
        ? t("{name} is not an image I can edit: attach a PNG, JPEG, WebP or GIF.", { name: file.name })
        : t("That file is not an image I can edit: attach a PNG, JPEG, WebP or GIF.");
    }
    if (file.size > state.maxUpload) {
      const mb = Math.round(state.maxUpload / 1_000_000);
      return file.name
        ? t("{name} is too large: {mb} MB at most.", { name: file.name, mb })
        : t("That image is too large: {mb} MB at most.", { mb });
    }
    return null;
  }
  function setFile(file) {
    const problem = file ? fileProblem(file) : null;
    composerSays(problem);
    fileInput.value = "";
    if (problem) return;
    if (state.fileUrl) URL.revokeObjectURL(state.fileUrl);
    state.file = file; state.fileUrl = file ? URL.createObjectURL(file) : null;
    if (file) state.editing = null;
    renderChips();
    prompt.focus();
  }

  function autosize() { prompt.style.height = "auto"; prompt.style.height = `${Math.min(prompt.scrollHeight, 192)}px`; }
  prompt.addEventListener("input", autosize);
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape") {
      setEditing(null);
    }
  });
  fileInput.addEventListener("change", () => { if (fileInput.files[0]) setFile(fileInput.files[0]); });
  document.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData?.files || [])];
    if (files.length) { event.preventDefault(); setFile(files.find((f) => IMAGE_TYPES.includes(f.type)) || files[0]); }
  });
  // Drops anywhere on the page: a file dropped outside the chat must not make the browser open it.
  const chat = document.getElementById("chat");
  document.addEventListener("dragover", (event) => { event.preventDefault(); chat.classList.add("dropping"); });
  document.addEventListener("dragleave", (event) => { if (!event.relatedTarget) chat.classList.remove("dropping"); });
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    chat.classList.remove("dropping");
    const files = [...event.dataTransfer.files];
    if (files.length) setFile(files.find((f) => IMAGE_TYPES.includes(f.type)) || files[0]);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = prompt.value.trim();
    if (!text && !state.file) return;
    const data = new FormData();
    data.append("text", text);
    if (state.editing !== null) data.append("reply_to", String(state.editing));
    if (state.file) data.append("image", state.file, state.file.name || "pasted.png");
    sendButton.disabled = true;
    composerSays(null);
    try {
      await api("/api/messages", { method: "POST", form: data });
      prompt.value = ""; autosize();
      state.editing = null; setFile(null);
    } catch (error) {
      composerSays(error.message);
    } finally {
      sendButton.disabled = false;
      prompt.focus();
    }
  });

  function showError(text) {
    append(el("li", { class: "msg" }, el("div", { class: "bubble error", role: "alert", text })));
  }

  // ------------------------------------------------------------------ rendering events

  function messageNode(data) {
    const mine = data.mine || (data.user_id !== null && data.user_id === state.me);
    const label = data.reply_to ? `#${data.reply_to} · ` : "";
    const bubble = el("div", { class: "bubble" });
    if (data.image) {
      bubble.append(el("img", { class: "upload-thumb", src: data.image.url, alt: mine ? t("Your image") : t("Their image") }));
    } else if (data.has_image) {
      bubble.append(el("span", { class: "attached", text: t("with a photo") }), "\n");
    }
    bubble.append(`${label}${data.text || ""}`);
    return el("li", { class: `msg${mine ? " mine" : ""}` },
      el("span", { class: "who", text: mine ? t("You") : data.user }), bubble);
  }
  function renderMessage(data) {
    const mine = data.user_id !== null && data.user_id === state.me;
    append(messageNode(data), { follow: mine }); // the answer to their own click: scrolled to
  }

  function jobNode(data) {
    let node = document.getElementById(`job-${data.job_id}`);
    if (!node) {
      const mine = data.user_id === state.me;
      node = el("li", { class: "msg", id: `job-${data.job_id}` },
        el("div", { class: "job" }, el("div", { class: "status", role: "status" }),
          mine ? el("button", {
            class: "btn stop", type: "button", text: t("Stop"), "aria-label": t("Stop this request"),
            onclick: async (event) => {
              const button = event.currentTarget;
              button.disabled = true;
              try { await api("/api/cancel", { method: "POST", json: { job_id: data.job_id } }); }
              catch (error) { showError(error.message); button.disabled = false; }
            },
          }) : null));
      append(node, { follow: mine });
    }
    return node;
  }

  function renderJob(data) {
    if (data.state === "done" || data.state === "failed") {
      // the result (or the reason it failed) follows as a reply of its own
      document.getElementById(`job-${data.job_id}`)?.remove();
      return;
    }
    const status = jobNode(data).querySelector(".status");
    status.className = "status";
    if (data.state === "queued") {
      status.replaceChildren(el("span", { class: "spinner", "aria-hidden": "true" }), t("Queued (#{position})", { position: data.position }));
    } else if (data.state === "started") {
      status.replaceChildren(el("span", { class: "spinner", "aria-hidden": "true" }), t("Generating with {provider}…", { provider: data.provider }));
    } else if (data.state === "progress") {
      const pct = Math.round((data.fraction || 0) * 100);
      status.replaceChildren(
        data.preview ? el("img", { src: data.preview, alt: t("Preview") }) : el("span", { class: "spinner", "aria-hidden": "true" }),
        t("Generating…"), el("progress", { max: "100", value: String(pct), "aria-label": t("Progress") }), `${pct}%`);
    }
  }

  function actionButton(kind, data) {
    const id = data.generation_id;
    if (kind === "download") {
      if (data.images.length === 1) {
        return el("a", { class: "btn", href: `${data.images[0].url}?download=1`, download: "", text: t("Download") });
      }
      return el("span", { class: "downloads" }, t("Download"),
        data.images.map((image, i) => el("a", {
          class: "btn", href: `${image.url}?download=1`, download: "", text: String(i + 1),
          "aria-label": t("Download image {number}", { number: i + 1 }),
        })));
    }
    const labels = { reroll: t("Reroll"), vary: t("Vary"), upscale: `⬆️ ${t("Upscale")}`, edit: t("Edit") };
    const names = { reroll: t("Reroll"), vary: t("Vary"), upscale: t("Upscale"), edit: t("Edit") };
    if ((kind === "vary" || kind === "upscale" || kind === "edit") && data.images.length > 1) {
      // one button per image of the set (as Midjourney's V1-V4): the typed command names image k
      return el("span", { class: "downloads" }, labels[kind],
        data.images.map((image, i) => el("button", {
          class: "btn", type: "button", text: String(i + 1), "aria-label": t("{action} image {number} of #{id}", { action: names[kind], number: i + 1, id }),
          dataset: { action: kind, image: String(i + 1) },
          onclick: async (event) => {
            const target = `#${id}/${i + 1}`;
            if (kind === "edit") { prompt.value = `/edit ${target} `; prompt.focus(); return; }
            const button = event.currentTarget;
            button.disabled = true;
            try { await api("/api/messages", { method: "POST", json: { text: `/${kind} ${target}` } }); }
            catch (error) { showError(error.message); }
            finally { button.disabled = false; }
          },
        })));
    }
    return el("button", {
      class: "btn", type: "button", text: labels[kind], "aria-label": t("{action} #{id}", { action: names[kind], id }),
      dataset: { action: kind },
      onclick: async (event) => {
        if (kind === "edit") { setEditing(id); return; }
        event.currentTarget.disabled = true;
        const button = event.currentTarget;
        // Upscale is the typed command (/upscale #12), held to the same rules as any message
        const call = kind === "upscale"
          ? api("/api/messages", { method: "POST", json: { text: `/upscale #${id}` } })
          : api("/api/actions", { method: "POST", json: { action: kind, generation_id: id } });
        try { await call; }
        catch (error) { showError(error.message); }
        finally { button.disabled = false; }
      },
    });
  }

  function replyNode(data) {
    const bubble = el("div", { class: `bubble reply${data.is_error ? " error" : ""}`, role: data.is_error ? "alert" : null });
    if (data.generation_id !== null) bubble.dataset.generation = String(data.generation_id);
    if (data.images.length) {
      const layout = { 1: " single", 2: " two", 4: " two" }[data.images.length] || "";
      bubble.append(el("div", { class: `images${layout}` },
        data.images.map((image, i) => el("a", {
          href: image.url, target: "_blank", rel: "noopener",
          class: data.spoiler ? "spoiler" : null, title: data.spoiler ? t("Hidden: click to show") : null,
          onclick: data.spoiler ? reveal : null,
        },
          el("img", {
            src: image.url, width: image.width, height: image.height, loading: "lazy",
            alt: t("Picture #{id} {number}: {text}", { id: data.generation_id ?? "", number: i + 1, text: data.text.split("\n")[0] }),
          })))));
    }
    bubble.append(el("div", { class: "text", text: data.text }));
    if (data.notes.length) bubble.append(el("ul", { class: "notes" }, data.notes.map((n) => el("li", { text: n }))));
    if (data.actions.length && data.generation_id !== null) {
      bubble.append(el("div", { class: "actions" }, data.actions.map((kind) => actionButton(kind, data))));
    }
    return el("li", { class: "msg" }, el("span", { class: "who", text: "Easel" }), bubble);
  }
  function shown(generationId) {
    return generationId !== null && log.querySelector(`.reply[data-generation="${generationId}"]`) !== null;
  }
  function renderReply(data) {
    if (shown(data.generation_id)) return; // already on the page (from the history)
    append(replyNode(data));
  }

  function onEvent(message) {
    if (seen.has(message.lastEventId)) return;
    seen.add(message.lastEventId);
    const data = JSON.parse(message.data);
    if (data.type === "message") renderMessage(data);
    else if (data.type === "job") renderJob(data);
    else if (data.type === "reply") renderReply(data);
  }

  // ------------------------------------------------------------------ history and conversations

  function historyNodes(page) {
    return page.items.filter((entry) => !shown(entry.reply.generation_id))
      .flatMap((entry) => [messageNode(entry.request), replyNode(entry.reply)]);
  }
  function setBefore(before) { state.before = before; older.hidden = before === null; }

  async function loadOlder() {
    if (state.before === null || state.loadingOlder) return;
    state.loadingOlder = true;
    try {
      const page = await api(`/api/history?before=${state.before}`);
      const height = log.scrollHeight;
      older.after(...historyNodes(page));
      log.scrollTop += log.scrollHeight - height; // the reader stays where they were
      document.getElementById("empty")?.remove();
      setBefore(page.before);
    } catch (error) {
      showError(error.message);
    } finally {
      state.loadingOlder = false;
    }
  }
  document.getElementById("older-button").addEventListener("click", loadOlder);
  log.addEventListener("scroll", () => {
    if (atBottom()) pill.hidden = true;
    if (log.scrollTop < 120) loadOlder();
  });

  async function loadHistory() {
    const page = await api("/api/history");
    const nodes = historyNodes(page);
    if (nodes.length) { document.getElementById("empty")?.remove(); log.append(...nodes); }
    setBefore(page.before);
    toBottom(); // the images' sizes are known (width, height): the bottom stays the bottom
  }

  async function conversations() {
    const select = document.getElementById("conversation");
    const list = await api("/api/conversations");
    select.replaceChildren(...list.conversations.map((c) => el("option", {
      value: c.id, text: c.label, selected: c.id === list.current,
    })));
    const go = async (chat) => {
      try { await api("/api/conversations", { method: "POST", json: { chat } }); location.reload(); }
      catch (error) { showError(error.message); }
    };
    select.addEventListener("change", () => go(select.value));
    document.getElementById("new-conversation").addEventListener("click", () => go("new"));
  }

  session().then(async (s) => {
    state.me = s.user_id;
    state.maxUpload = s.max_upload_bytes || state.maxUpload;
    renderChips();
    conversations().catch((error) => showError(error.message));
    try { await loadHistory(); } catch (error) { showError(error.message); }
    const events = new EventSource("/api/events");
    events.onmessage = onEvent;
    prompt.focus();
  }).catch((error) => showError(error.message));
})();
