// The gallery: history newest first, filters (and hidden pictures, on request), and a detail view with
// parent and children, Hide/Unhide and Delete.
"use strict";

(() => {
  const { el, api, when, t, tn, reveal } = Easel;
  const grid = document.getElementById("grid");
  const more = document.getElementById("more");
  const empty = document.getElementById("gallery-empty");
  const dialog = document.getElementById("detail");
  const body = document.getElementById("detail-body");
  const filters = {
    chat: document.getElementById("f-chat"),
    user: document.getElementById("f-user"),
    provider: document.getElementById("f-provider"),
  };
  const showHidden = document.getElementById("f-hidden");
  let oldest = null;
  const KINDS = { generate: t("generate"), edit: t("edit"), reroll: t("reroll"), vary: t("vary"), upscale: t("upscale") };
  const kind = (item) => KINDS[item.kind] || item.kind;

  function query(extra = {}) {
    const params = new URLSearchParams();
    for (const [key, select] of Object.entries(filters)) if (select.value) params.set(key, select.value);
    if (showHidden.checked) params.set("include_hidden", "1");
    for (const [key, value] of Object.entries(extra)) params.set(key, value);
    return params.toString();
  }

  function thumb(item) {
    const image = item.images[0];
    return el("img", { src: image ? image.thumb : "", alt: item.prompt, loading: "lazy" });
  }

  function card(item) {
    return el("button", {
      class: ["card", item.hidden ? "is-hidden" : "", item.spoiler ? "is-spoiler" : ""].filter(Boolean).join(" "), type: "button", dataset: { generation: String(item.id) },
      "aria-label": t("Picture #{id}: {prompt}", { id: item.id, prompt: item.prompt }), onclick: () => openDetail(item.id),
    },
    thumb(item),
    el("span", { class: "meta" },
      el("span", { class: "prompt", text: item.prompt }),
      el("span", { class: "sub" }, `#${item.id} · `, el("span", { class: "badge", text: kind(item) }),
        item.hidden ? [" ", el("span", { class: "badge bad", text: t("hidden") })] : "",
        item.parent_id ? ` ${t("from #{id}", { id: item.parent_id })}` : "", ` · ${item.provider || ""}`,
        item.images.length > 1 ? ` · ${tn("{n} image", "{n} images", item.images.length)}` : "")));
  }

  async function load(reset) {
    if (reset) { grid.replaceChildren(); oldest = null; }
    const page = await api(`/api/gallery?${query(oldest ? { before: oldest } : {})}`);
    grid.append(...page.items.map(card));
    if (page.items.length) oldest = page.items[page.items.length - 1].id;
    more.hidden = page.items.length < 30;
    empty.hidden = grid.children.length > 0;
  }

  // label: "Parent" or "Child", already translated
  function lineageButton(item, label) {
    return el("button", {
      type: "button", title: t("{label} #{id}: {prompt}", { label, id: item.id, prompt: item.prompt }),
      "aria-label": t("{label} #{id}", { label, id: item.id }),
      dataset: { generation: String(item.id) }, onclick: () => openDetail(item.id),
    }, thumb(item));
  }

  // "Made from" when the parent was deleted: the link is cleared, the recorded source still names it.
  function madeFrom(item) {
    if (item.parent) return lineageButton(item.parent, t("Parent"));
    const source = item.params && item.params.source;
    if (source && Number.isInteger(source.generation)) {
      return el("span", { class: "muted", text: t("#{id} (deleted)", { id: source.generation }) });
    }
    return el("span", { class: "muted", text: t("Nothing: an original prompt.") });
  }

  // Delete (the operator's): the core removes it from the history and the gallery, and its files.
  async function remove(item, button) {
    if (!confirm(t("Delete #{id} for good? Its files go too.", { id: item.id }))) return;
    button.disabled = true;
    try {
      await api(`/api/generations/${item.id}/delete`, { method: "POST", json: {} });
    } catch (error) {
      button.disabled = false;
      body.append(el("p", { class: "bubble error", role: "alert", text: error.message }));
      return;
    }
    for (const node of grid.querySelectorAll(`[data-generation="${item.id}"]`)) node.remove();
    empty.hidden = grid.children.length > 0;
    dialog.close();
  }

  // Hide / Unhide (the operator's /hide, /unhide): the picture stays, out of the history and the
  // gallery (unless "Show hidden" is ticked) until it is shown again.
  async function setHidden(item, hidden, button) {
    button.disabled = true;
    try {
      await api(`/api/generations/${item.id}/${hidden ? "hide" : "unhide"}`, { method: "POST", json: {} });
    } catch (error) {
      button.disabled = false;
      body.append(el("p", { class: "bubble error", role: "alert", text: error.message }));
      return;
    }
    const changed = { ...item, hidden };
    for (const node of grid.querySelectorAll(`[data-generation="${item.id}"]`)) {
      if (hidden && !showHidden.checked) node.remove();
      else node.replaceWith(card(changed));
    }
    empty.hidden = grid.children.length > 0;
    await openDetail(item.id);
  }

  async function openDetail(id) {
    let item;
    try { item = await api(`/api/generations/${id}`); }
    catch (error) { body.replaceChildren(el("p", { class: "bubble error", text: error.message })); dialog.showModal(); return; }
    const params = Object.entries(item.params || {}).filter(([key, value]) => key !== "notes" && value !== null && value !== "");
    body.replaceChildren(
      el("div", {},
        el("div", { class: `images${item.images.length === 1 ? " single" : ""}` },
          item.images.map((image, i) => el("a", {
            href: image.url, target: "_blank", rel: "noopener", class: item.spoiler ? "spoiler" : null,
            title: item.spoiler ? t("Hidden: click to show") : null, onclick: item.spoiler ? reveal : null },
            el("img", { src: image.url, width: image.width, height: image.height, alt: t("{prompt} ({number})", { prompt: item.prompt, number: i + 1 }) }))))),
      el("div", {},
        el("h2", { id: "detail-title", text: `#${item.id} · ${kind(item)}` },
          item.hidden ? [" ", el("span", { class: "badge bad", text: t("hidden") })] : []),
        el("p", { class: "prompt-text", text: item.prompt }),
        el("dl", {},
          el("dt", { text: t("Provider") }), el("dd", { text: [item.provider, item.model].filter(Boolean).join(" / ") || "—" }),
          el("dt", { text: t("Chat") }), el("dd", { text: item.chat_label || item.chat }),
          el("dt", { text: t("By") }), el("dd", { text: item.user }),
          el("dt", { text: t("Made") }), el("dd", { text: when(item.created_at) }),
          item.negative ? [el("dt", { text: t("Negative") }), el("dd", { text: item.negative })] : [],
          params.map(([key, value]) => [el("dt", { text: key }), el("dd", { text: typeof value === "object" ? JSON.stringify(value) : String(value) })])),
        el("h3", { text: t("Made from") }),
        el("div", { class: "lineage", id: "parent" },
          madeFrom(item)),
        el("h3", { text: t("Made from this") }),
        el("div", { class: "lineage", id: "children" },
          item.children.length ? item.children.map((c) => lineageButton(c, t("Child"))) : el("span", { class: "muted", text: t("No edits or variations yet.") })),
        el("p", { class: "actions" },
          item.images.map((image, i) => el("a", { class: "btn", href: `${image.url}?download=1`, download: "", text: item.images.length > 1 ? t("Download {number}", { number: i + 1 }) : t("Download") })),
          el("button", { class: "btn", type: "button", id: "hide", text: item.hidden ? t("Unhide") : t("Hide"),
            onclick: (event) => setHidden(item, !item.hidden, event.currentTarget) }),
          el("button", { class: "btn", type: "button", id: "delete", text: t("Delete"),
            onclick: (event) => remove(item, event.currentTarget) }))));
    if (!dialog.open) dialog.showModal();
    history.replaceState(null, "", `#${item.id}`);
  }

  dialog.addEventListener("close", () => history.replaceState(null, "", location.pathname));
  // A picture's address is /gallery#<id>: typing another id there opens that picture.
  function openLinked() {
    const linked = location.hash.slice(1);
    if (/^\d{1,12}$/.test(linked)) openDetail(Number(linked));
  }
  window.addEventListener("hashchange", openLinked);
  dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
  more.addEventListener("click", () => load(false));

  async function init() {
    const facets = await api("/api/gallery/facets");
    filters.chat.append(...facets.chats.map((c) => el("option", { value: c.id, text: c.label })));
    filters.user.append(...facets.users.map((u) => el("option", { value: u.id, text: u.label })));
    filters.provider.append(...facets.providers.map((p) => el("option", { value: p, text: p })));
    for (const select of Object.values(filters)) select.addEventListener("change", () => load(true));
    showHidden.addEventListener("change", () => load(true));
    await load(true);
    openLinked();
  }
  init().catch((error) => grid.replaceChildren(el("p", { class: "bubble error", text: error.message })));
})();
