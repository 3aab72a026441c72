// The chat page: send prompts (with an optional image), follow the shared conversation live (SSE).
"use strict";

(() => {
  const { el, api, session } = Easel;
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const prompt = document.getElementById("prompt");
  const fileInput = document.getElementById("file");
  const chips = document.getElementById("chips");
  const sendButton = document.getElementById("send");
  const seen = new Set();
  const state = { me: null, editing: null, file: null, fileUrl: null };
  const DEFAULT_PLACEHOLDER = prompt.placeholder;

  function atBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 80; }
  function append(node) {
    const stick = atBottom();
    document.getElementById("empty")?.remove();
    log.append(node);
    if (!stick) return;
    const scroll = () => { log.scrollTop = log.scrollHeight; };
    scroll();
    for (const img of node.querySelectorAll("img")) img.addEventListener("load", scroll, { once: true });
  }

  // ------------------------------------------------------------------ composer state

  function renderChips() {
    chips.replaceChildren();
    if (state.editing !== null) {
      chips.append(el("span", { class: "chip", id: "editing" },
        `Editing #${state.editing}`,
        el("button", { type: "button", "aria-label": "Stop editing", text: "×", onclick: () => setEditing(null) })));
    }
    if (state.file) {
      chips.append(el("span", { class: "chip", id: "attachment" },
        el("img", { src: state.fileUrl, alt: "" }), state.file.name || "pasted image",
        el("button", { type: "button", "aria-label": "Remove the image", text: "×", onclick: () => setFile(null) })));
    }
    prompt.placeholder = state.editing !== null || state.file
      ? "How should I change it? e.g. make it warmer" : DEFAULT_PLACEHOLDER;
    prompt.required = !state.file;
  }
  function setEditing(id) { state.editing = id; renderChips(); if (id !== null) prompt.focus(); }
  function setFile(file) {
    if (state.fileUrl) URL.revokeObjectURL(state.fileUrl);
    state.file = file; state.fileUrl = file ? URL.createObjectURL(file) : null;
    if (file) state.editing = null;
    fileInput.value = "";
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
    const file = [...(event.clipboardData?.files || [])].find((f) => f.type.startsWith("image/"));
    if (file) { event.preventDefault(); setFile(file); }
  });
  // Drops anywhere on the page: a file dropped outside the chat must not make the browser open it.
  const chat = document.getElementById("chat");
  document.addEventListener("dragover", (event) => { event.preventDefault(); chat.classList.add("dropping"); });
  document.addEventListener("dragleave", (event) => { if (!event.relatedTarget) chat.classList.remove("dropping"); });
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    chat.classList.remove("dropping");
    const file = [...event.dataTransfer.files].find((f) => f.type.startsWith("image/"));
    if (file) setFile(file);
    else if (event.dataTransfer.files.length) showError("Only images can be dropped here (PNG, JPEG, WebP or GIF).");
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
    try {
      await api("/api/messages", { method: "POST", form: data });
      prompt.value = ""; autosize();
      state.editing = null; setFile(null);
    } catch (error) {
      showError(error.message);
    } finally {
      sendButton.disabled = false;
      prompt.focus();
    }
  });

  function showError(text) {
    append(el("li", { class: "msg" }, el("div", { class: "bubble error", role: "alert", text })));
  }

  // ------------------------------------------------------------------ rendering events

  function renderMessage(data) {
    const mine = data.user_id === state.me;
    const label = data.reply_to ? `#${data.reply_to} · ` : "";
    append(el("li", { class: `msg${mine ? " mine" : ""}` },
      el("span", { class: "who", text: mine ? "You" : data.user }),
      el("div", { class: "bubble", text: `${label}${data.text || ""}${data.has_image ? "  [image attached]" : ""}` })));
  }

  function jobNode(jobId) {
    let node = document.getElementById(`job-${jobId}`);
    if (!node) {
      node = el("li", { class: "msg", id: `job-${jobId}` }, el("div", { class: "status", role: "status" }));
      append(node);
    }
    return node;
  }

  function renderJob(data) {
    if (data.state === "done" || data.state === "failed") {
      // the result (or the reason it failed) follows as a reply of its own
      document.getElementById(`job-${data.job_id}`)?.remove();
      return;
    }
    const status = jobNode(data.job_id).firstChild;
    status.className = "status";
    if (data.state === "queued") {
      status.replaceChildren(el("span", { class: "spinner", "aria-hidden": "true" }), `Queued (#${data.position})`);
    } else if (data.state === "started") {
      status.replaceChildren(el("span", { class: "spinner", "aria-hidden": "true" }), `Generating with ${data.provider}…`);
    } else if (data.state === "progress") {
      const pct = Math.round((data.fraction || 0) * 100);
      status.replaceChildren(
        data.preview ? el("img", { src: data.preview, alt: "Preview" }) : el("span", { class: "spinner", "aria-hidden": "true" }),
        "Generating…", el("progress", { max: "100", value: String(pct), "aria-label": "Progress" }), `${pct}%`);
    }
  }

  function actionButton(kind, data) {
    const id = data.generation_id;
    if (kind === "download") {
      if (data.images.length === 1) {
        return el("a", { class: "btn", href: `${data.images[0].url}?download=1`, download: "", text: "Download" });
      }
      return el("span", { class: "downloads" }, "Download",
        data.images.map((image, i) => el("a", {
          class: "btn", href: `${image.url}?download=1`, download: "", text: String(i + 1),
          "aria-label": `Download image ${i + 1}`,
        })));
    }
    const labels = { reroll: "Reroll", vary: "Vary", edit: "Edit" };
    if ((kind === "vary" || kind === "edit") && data.images.length > 1) {
      // one button per image of the set (as Midjourney's V1-V4): the typed command names image k
      return el("span", { class: "downloads" }, labels[kind],
        data.images.map((image, i) => el("button", {
          class: "btn", type: "button", text: String(i + 1), "aria-label": `${labels[kind]} image ${i + 1} of #${id}`,
          dataset: { action: kind, image: String(i + 1) },
          onclick: async (event) => {
            const target = `#${id}/${i + 1}`;
            if (kind === "edit") { prompt.value = `/edit ${target} `; prompt.focus(); return; }
            const button = event.currentTarget;
            button.disabled = true;
            try { await api("/api/messages", { method: "POST", json: { text: `/vary ${target}` } }); }
            catch (error) { showError(error.message); }
            finally { button.disabled = false; }
          },
        })));
    }
    return el("button", {
      class: "btn", type: "button", text: labels[kind], "aria-label": `${labels[kind]} #${id}`,
      dataset: { action: kind },
      onclick: async (event) => {
        if (kind === "edit") { setEditing(id); return; }
        event.currentTarget.disabled = true;
        const button = event.currentTarget;
        try { await api("/api/actions", { method: "POST", json: { action: kind, generation_id: id } }); }
        catch (error) { showError(error.message); }
        finally { button.disabled = false; }
      },
    });
  }

  function renderReply(data) {
    const bubble = el("div", { class: `bubble reply${data.is_error ? " error" : ""}`, role: data.is_error ? "alert" : null });
    if (data.generation_id !== null) bubble.dataset.generation = String(data.generation_id);
    if (data.images.length) {
      const layout = { 1: " single", 2: " two", 4: " two" }[data.images.length] || "";
      bubble.append(el("div", { class: `images${layout}` },
        data.images.map((image, i) => el("a", { href: image.url, target: "_blank", rel: "noopener" },
          el("img", {
            src: image.url, width: image.width, height: image.height, loading: "lazy",
            alt: `Picture #${data.generation_id ?? ""} ${i + 1}: ${data.text.split("\n")[0]}`,
          })))));
    }
    bubble.append(el("div", { class: "text", text: data.text }));
    if (data.notes.length) bubble.append(el("ul", { class: "notes" }, data.notes.map((n) => el("li", { text: n }))));
    if (data.actions.length && data.generation_id !== null) {
      bubble.append(el("div", { class: "actions" }, data.actions.map((kind) => actionButton(kind, data))));
    }
    append(el("li", { class: "msg" }, el("span", { class: "who", text: "Easel" }), bubble));
  }

  function onEvent(message) {
    if (seen.has(message.lastEventId)) return;
    seen.add(message.lastEventId);
    const data = JSON.parse(message.data);
    if (data.type === "message") renderMessage(data);
    else if (data.type === "job") renderJob(data);
    else if (data.type === "reply") renderReply(data);
  }

  session().then((s) => {
    state.me = s.user_id;
    const events = new EventSource("/api/events");
    events.onmessage = onEvent;
    renderChips();
    prompt.focus();
  }).catch((error) => showError(error.message));
})();
