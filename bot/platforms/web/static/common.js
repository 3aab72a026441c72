// Shared helpers for every Easel page: DOM building (text only, never HTML strings), the API and the
// page's language: the t and tn helpers (an English text with {name} placeholders and their values; tn
// also a plural and its count n) read the translations the server put in the page (#easel-strings,
// bot/platforms/web/localize.py). Give them string literals only: that is how the texts are extracted.
"use strict";

const Easel = (() => {
  let sessionPromise = null;
  const strings = (() => {
    try { return JSON.parse(document.getElementById("easel-strings")?.textContent || "{}"); }
    catch (_) { return {}; }
  })();
  const language = document.documentElement.lang || "en";

  function format(text, values) {
    return text.replace(/\{([a-z_]+)\}/g, (all, name) => (values && name in values ? String(values[name]) : all));
  }
  function t(message, values) { return format((strings.messages || {})[message] || message, values); }
  function tn(singular, plural, n, values) {
    const forms = (strings.plurals || {})[singular] || [singular, plural];
    return format(forms[n === 1 ? 0 : 1], { n, ...values });
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function session(refresh = false) {
    if (!sessionPromise || refresh) {
      const headers = { "Accept-Language": language }; // the page's language, for the server's texts
      sessionPromise = fetch("/api/session", { headers, credentials: "same-origin" }).then((r) => {
        if (r.status === 401) { location.href = "/login"; throw new Error(t("Log in first.")); }
        return r.json();
      });
    }
    return sessionPromise;
  }

  async function errorText(response) {
    try {
      const body = await response.clone().json();
      if (body && body.error) return body.error;
    } catch (_) { /* not JSON */ }
    const text = (await response.text()).trim();
    return text || t("The server answered {status}.", { status: response.status });
  }

  // fetch() with the session's CSRF token; returns parsed JSON or throws Error(user-facing message).
  async function api(path, { method = "GET", json, form } = {}) {
    for (let attempt = 0; attempt < 2; attempt++) {
      const s = await session(attempt > 0);
      const headers = { "X-CSRF-Token": s.csrf, "Accept-Language": language };
      let body;
      if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
      if (form !== undefined) body = form;
      const response = await fetch(path, { method, headers, body, credentials: "same-origin" });
      if (response.ok) return response.json();
      if (response.status === 403 && attempt === 0) continue; // stale token after a restart: refresh once
      if (response.status === 401) { location.href = "/login"; }
      throw new Error(await errorText(response));
    }
    throw new Error(t("The page is out of date: reload it."));
  }

  function markCurrentNav() {
    for (const link of document.querySelectorAll(".top nav a")) {
      if (link.getAttribute("href") === location.pathname) link.setAttribute("aria-current", "page");
    }
  }

  function when(iso) {
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString(language);
  }
  function time(date) { return date.toLocaleTimeString(language); }

  document.addEventListener("DOMContentLoaded", markCurrentNav);
  // A spoiler (a link with class "spoiler": blurred by the stylesheet) shows on its first click; the
  // next click opens it.
  function reveal(event) {
    const link = event.currentTarget;
    if (!link.classList.contains("spoiler")) return;
    event.preventDefault();
    link.classList.remove("spoiler");
    link.removeAttribute("title");
  }

  return { el, api, session, when, time, t, tn, language, reveal };
})();
