// The dashboard's shared helpers: control API calls (with the control token, when one is
// set), a tiny element builder, polling, and the formats every page uses.
"use strict";

const UI = (() => {
  const base = document.body.dataset.base;
  const TOKEN_KEY = "codat-mock-token";

  // A token may come once in the address fragment (#token=...), which never reaches the
  // server or its logs; it is kept for this tab only and removed from the address bar.
  function takeToken() {
    const fragment = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (fragment) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(fragment[1]));
      history.replaceState(null, "", location.pathname + location.search);
    }
  }
  takeToken();
  window.addEventListener("hashchange", takeToken);

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function messageOf(data, text, status) {
    if (data && typeof data === "object" && data.error) {
      const errors = (data.validation && data.validation.errors) || [];
      const details = errors.map((e) => (e.itemId ? `${e.itemId}: ${e.message}` : e.message));
      return [data.error, ...details].join(" ");
    }
    return text ? text.slice(0, 200) : `HTTP ${status}`;
  }

  const gate = document.getElementById("token-gate");
  gate.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById("token-input").value);
    gate.hidden = true;
    location.reload();
  });

  /** Call a control route (path below /_mock); JSON in and out, errors as ApiError. */
  async function api(path, { method = "GET", body } = {}) {
    const headers = { Accept: "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers["X-Codat-Mock-Token"] = token;
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(base + path, init);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = null;
    }
    if (response.status === 401) {
      gate.hidden = false;
      throw new ApiError(401, "The control API wants its token.");
    }
    if (!response.ok) throw new ApiError(response.status, messageOf(data, text, response.status));
    return data;
  }

  /** A builder of elements in namespace `ns`: build("td", {class: "x", onclick: fn}, child, ...).
   * Strings become text nodes, never markup, so data can never turn into HTML. */
  function builder(ns) {
    return (tag, attrs, ...children) => {
      const el = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
      for (const [key, value] of Object.entries(attrs || {})) {
        if (value === undefined || value === null || value === false) continue;
        if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
        else if (key === "dataset") Object.assign(el.dataset, value);
        else el.setAttribute(key, value === true ? "" : String(value));
      }
      for (const child of children.flat(Infinity)) {
        if (child === undefined || child === null || child === false) continue;
        el.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
      return el;
    };
  }
  const h = builder(null);
  const svg = builder("http://www.w3.org/2000/svg");

  const errorBox = document.getElementById("error");
  /** Show `error` (or hide the box, given null). A poller clears only what a poller showed,
   * so the answer to something the reader did stays until the next thing they do. */
  function showError(error, source = "action") {
    if (error) {
      errorBox.textContent = error.message || String(error);
      errorBox.dataset.source = source;
      errorBox.hidden = false;
    } else if (source === "action" || errorBox.dataset.source === source) {
      errorBox.hidden = true;
    }
  }

  const live = document.getElementById("live");
  function setLive(ok) {
    live.textContent = ok ? "live" : "offline";
    live.className = ok ? "live on" : "live off";
  }

  /** Run `task` now and then every `ms` (never two at once); a failure shows and retries. */
  function poll(task, ms) {
    let timer = null;
    let running = false;
    async function run() {
      clearTimeout(timer);
      if (running) return;
      running = true;
      try {
        // A tab in the background asks nothing; it catches up when shown again.
        if (!document.hidden) await task();
        setLive(true);
        showError(null, "poll");
      } catch (error) {
        setLive(false);
        showError(error, "poll");
      } finally {
        running = false;
        // Without the token every poll would be refused: wait for it (the page reloads).
        if (gate.hidden) timer = setTimeout(run, ms);
      }
    }
    run();
    document.addEventListener("visibilitychange", () => document.hidden || run());
    return run; // call it to refresh at once
  }

  const clockNow = document.getElementById("clock-now");
  async function refreshClock() {
    const clock = await api("/clock");
    clockNow.textContent = clock.now + (clock.frozen ? " (manual)" : "");
    return clock;
  }
  poll(refreshClock, 2000);

  // -- formats ---------------------------------------------------------------------------

  const shortId = (id) => (id ? String(id).slice(0, 8) : "");
  const statusClass = (status) => (status ? `s${String(status)[0]}` : "s0");
  const pretty = (text) => {
    if (!text) return "";
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (_) {
      return text;
    }
  };
  const requestsUrl = (params) => `${base}/ui?${new URLSearchParams(params)}`;
  /** An id that links to the Requests page, filtered to the requests that touched it. */
  const idLink = (id, text) =>
    h("a", { class: "id", href: requestsUrl({ touches: id }), title: `requests that touched ${id}` },
      text || id);
  const seconds = (value) => (value === null || value === undefined ? "–" : `${Number(value).toFixed(3)} s`);

  return {
    base, api, h, svg, poll, showError, refreshClock, shortId, statusClass, pretty, requestsUrl,
    idLink, seconds, ApiError,
  };
})();
