// Requests: the journal, newest first, live. Filters live in the address (so other pages can
// link here); a row opens the request and the response in full.
"use strict";

(() => {
  const { api, h, poll, shortId, statusClass, pretty } = UI;
  const form = document.getElementById("filters");
  const tbody = document.querySelector("#requests tbody");
  const detail = document.getElementById("detail");
  const empty = document.getElementById("empty");
  const count = document.getElementById("count");
  const tenantSelect = form.elements.clientId;
  const MAX_ROWS = 500;
  // Entries are journaled when they end, so a slow one can land after later arrivals: each
  // poll looks this many sequence numbers back and fills in what it had not seen.
  const LOOK_BACK = 50;
  let lastSeq = 0;
  let generation = 0;
  let selected = null;

  function ensureOption(select, value, label) {
    if (value && ![...select.options].some((option) => option.value === value)) {
      select.append(h("option", { value }, label || value));
    }
  }

  function readAddress() {
    const query = new URLSearchParams(location.search);
    for (const el of form.elements) {
      if (!el.name) continue;
      const value = query.get(el.name);
      if (el.type === "checkbox") el.checked = value === "true";
      else if (value !== null) {
        if (el.tagName === "SELECT") ensureOption(el, value);
        el.value = value;
      }
    }
    return query.get("seq");
  }

  function filters() {
    const params = new URLSearchParams();
    for (const el of form.elements) {
      if (!el.name) continue;
      if (el.type === "checkbox") {
        if (el.checked) params.set(el.name, el.value);
      } else if (el.value) params.set(el.name, el.value);
    }
    return params;
  }

  function describeStatus(entry) {
    if (entry.dropped) return `dropped (${entry.dropped})`;
    return entry.status === null ? "none" : String(entry.status);
  }

  function row(entry) {
    const violations = (entry.violations || []).length;
    const path = entry.query ? `${entry.path}?${entry.query}` : entry.path;
    const fault = entry.faultId ? `${entry.faultId} ${entry.faultAction || ""}`.trim() : "";
    const tr = h("tr", {
      dataset: { seq: entry.seq },
      class: [violations ? "has-violations" : "", entry.faultId ? "faulted" : ""].join(" ").trim(),
      tabindex: 0,
      onclick: () => show(entry.seq),
      onkeydown: (event) => event.key === "Enter" && show(entry.seq),
    },
    h("td", { class: "time", title: `mock clock ${entry.mockTime}` }, (entry.wallTime || "").slice(11, 23)),
    h("td", { class: "method" }, entry.method),
    h("td", { class: "path", title: path }, path),
    h("td", { class: "op" }, entry.operationId || "–"),
    h("td", { class: "tenant", title: entry.clientId || "" }, shortId(entry.clientId) || "–"),
    h("td", { class: `status ${entry.dropped ? "s0" : statusClass(entry.status)}` },
      describeStatus(entry),
      violations ? h("span", { class: "warn", title: `${violations} contract violation(s)` }, ` ⚠ ${violations}`) : null),
    h("td", { class: "num" }, Number(entry.durationMs).toFixed(1)),
    h("td", { class: "fault" }, fault),
    h("td", { class: "shape", title: entry.shape ? "the response shape sent" : "not answered by the surface (a fault, a limit or a refusal)" }, entry.shape || "–"));
    return tr;
  }

  function insert(entry) {
    if (tbody.querySelector(`tr[data-seq="${entry.seq}"]`)) return;
    ensureOption(tenantSelect, entry.clientId, shortId(entry.clientId));
    const tr = row(entry);
    // Newest first: before the first row with a smaller sequence number.
    const after = [...tbody.rows].find((other) => Number(other.dataset.seq) < entry.seq);
    tbody.insertBefore(tr, after || null);
    if (entry.seq === selected) tr.classList.add("selected");
  }

  async function refresh() {
    const params = filters();
    const mine = generation;
    params.set("limit", String(MAX_ROWS));
    if (lastSeq) params.set("sinceSeq", String(Math.max(0, lastSeq - LOOK_BACK)));
    const data = await api(`/requests?${params}`);
    if (mine !== generation) return; // the filters changed while this was on its way
    const newest = tbody.rows.length ? Number(tbody.rows[0].dataset.seq) : 0;
    if (newest && !data.requests.some((entry) => entry.seq === newest)) {
      // The newest row shown is always in the window asked for: gone means the journal was
      // cleared (or the mock reset). Start again from what the journal holds now.
      tbody.replaceChildren();
      lastSeq = 0;
      return refresh();
    }
    for (const entry of data.requests) {
      insert(entry);
      lastSeq = Math.max(lastSeq, entry.seq);
    }
    while (tbody.rows.length > MAX_ROWS) tbody.deleteRow(-1);
    empty.hidden = tbody.rows.length > 0;
    count.textContent = `${tbody.rows.length} shown`;
  }

  function headerRows(headers) {
    if (!headers) return [];
    const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
    return pairs.map(([name, value]) => {
      let shown = String(value);
      // The journal masks credentials; never show one even if a journal did not.
      if (/^authorization$/i.test(name) && !shown.includes("*")) shown = `${shown.split(" ")[0]} ********`;
      return h("tr", {}, h("th", {}, name), h("td", {}, shown));
    });
  }

  function part(title, headers, body, truncated) {
    return h("section", { class: "part" },
      h("h3", {}, title),
      headers ? h("table", { class: "headers" }, h("tbody", {}, headerRows(headers)))
        : h("p", { class: "muted" }, "Headers are not journaled by this version."),
      body ? h("pre", { class: "body" }, pretty(body)) : h("p", { class: "muted" }, "No body."),
      truncated ? h("p", { class: "muted" }, "Body cut at the journal's bound.") : null);
  }

  async function open(seq) {
    selected = Number(seq);
    for (const tr of tbody.rows) tr.classList.toggle("selected", Number(tr.dataset.seq) === selected);
    const query = new URLSearchParams(location.search);
    query.set("seq", String(seq));
    history.replaceState(null, "", `?${query}`);
    const entry = await api(`/requests/${seq}`);
    const violations = entry.violations || [];
    const facts = [
      ["operationId", entry.operationId || "–"],
      ["tenant", entry.clientId || "–"],
      ["status", describeStatus(entry)],
      ["duration", `${Number(entry.durationMs).toFixed(1)} ms`],
      ["mock clock", entry.mockTime],
      ["wall clock", entry.wallTime],
      ["fault", entry.faultId ? `${entry.faultId} (${entry.faultAction})` : "none"],
      ["handler status", entry.handlerStatus],
      ["Retry-After", entry.retryAfter],
      ["shape", entry.shape],
    ].filter(([, value]) => value !== null && value !== undefined && value !== "");
    detail.replaceChildren(
      h("button", { type: "button", class: "close", title: "Close", onclick: close }, "×"),
      h("h2", {}, `#${entry.seq} ${entry.method} ${entry.path}${entry.query ? `?${entry.query}` : ""}`),
      h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))])),
      violations.length
        ? h("section", { class: "violations" },
          h("h3", {}, `Contract violations (${violations.length})`),
          h("ul", {}, violations.map((v) => h("li", { class: "violation" },
            v.itemId ? h("code", {}, v.itemId) : null, v.itemId ? " " : null, v.message))))
        : null,
      part("Request", entry.requestHeaders, entry.requestBody, entry.requestBodyTruncated),
      part(`Response ${describeStatus(entry)}`, entry.responseHeaders, entry.responseBody,
        entry.responseBodyTruncated));
    detail.hidden = false;
  }

  /** Open an exchange; one that is no longer in the journal says so. */
  function show(seq) {
    open(seq).catch(UI.showError);
  }

  function close() {
    selected = null;
    detail.hidden = true;
    for (const tr of tbody.querySelectorAll("tr.selected")) tr.classList.remove("selected");
    const query = new URLSearchParams(location.search);
    query.delete("seq");
    history.replaceState(null, "", query.toString() ? `?${query}` : location.pathname);
  }

  const seq = readAddress();
  const run = poll(refresh, 1000);
  form.addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("clear-journal").addEventListener("click", async () => {
    try {
      await api("/requests", { method: "DELETE" });
      run();
    } catch (error) {
      UI.showError(error);
    }
  });
  form.addEventListener("change", () => {
    generation += 1;
    lastSeq = 0;
    tbody.replaceChildren();
    const params = filters();
    if (selected !== null) params.set("seq", String(selected));
    history.replaceState(null, "", params.toString() ? `?${params}` : location.pathname);
    run();
  });
  if (seq) show(seq);
})();
