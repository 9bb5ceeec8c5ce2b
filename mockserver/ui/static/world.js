// World: every tenant's companies, connections, configuration and syncs as of the mock clock,
// with buttons that move the clock. Every id links to the requests that touched it.
"use strict";

(() => {
  const { api, h, poll, idLink, requestsUrl, refreshClock } = UI;
  const root = document.getElementById("tenants");
  const none = document.getElementById("no-tenants");
  let shown = "";

  const badge = (text, kind) => h("span", { class: `badge ${kind}` }, text);
  const CONNECTION_KINDS = { Linked: "ok", PendingAuth: "run", Deauthorized: "bad", Unlinked: "off" };

  function syncKind(code) {
    if (code === 2000) return "ok";
    return code < 2000 ? "run" : "bad";
  }

  /** Nested configuration as dotted keys and plain values. */
  function flatten(value, prefix, out) {
    if (value && typeof value === "object") {
      const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
      if (!entries.length) out.push([prefix, Array.isArray(value) ? "[]" : "{}"]);
      for (const [key, inner] of entries) flatten(inner, prefix ? `${prefix}.${key}` : String(key), out);
    } else {
      out.push([prefix, value === null ? "null" : String(value)]);
    }
    return out;
  }

  function connections(company) {
    const list = company.dataConnections || [];
    if (!list.length) return h("p", { class: "muted" }, "No connections.");
    return h("table", { class: "grid connections" },
      h("thead", {}, h("tr", {}, ["connection", "platform", "status", "created", "last sync"].map((t) => h("th", {}, t)))),
      h("tbody", {}, list.map((c) => h("tr", { dataset: { connectionId: c.id } },
        h("td", {}, idLink(c.id)),
        h("td", {}, `${c.platformName} (${c.integrationKey})`),
        h("td", { class: "connection-status" }, badge(c.status, CONNECTION_KINDS[c.status] || "off")),
        h("td", {}, c.created || "–"),
        h("td", {}, c.lastSync || "–")))));
  }

  let now = null; // the mock clock as of the last answer
  /** How long from the mock clock's now until `iso`, for a sync still running. */
  function until(iso) {
    const seconds = Math.max(0, (Date.parse(iso) - Date.parse(now)) / 1000);
    if (seconds < 120) return `${Math.round(seconds)} s`;
    if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
    return `${Math.round(seconds / 3600)} h`;
  }

  function syncs(company) {
    if (!company.syncs.length) return h("p", { class: "muted" }, "No syncs.");
    return h("table", { class: "grid syncs" },
      h("thead", {}, h("tr", {}, ["sync", "status", "requested", "completes", "finished", "range", "message"].map((t) => h("th", {}, t)))),
      h("tbody", {}, company.syncs.map((s) => h("tr", { dataset: { syncId: s.syncId } },
        h("td", {}, idLink(s.syncId)),
        h("td", { class: "sync-status", dataset: { code: s.syncStatusCode } },
          badge(`${s.syncStatusCode} ${s.syncStatus}`, syncKind(s.syncStatusCode)),
          s.forced ? h("span", { class: "muted" }, " forced") : null),
        h("td", {}, s.requestedAt),
        h("td", { class: "completes" }, s.completesAt,
          s.syncStatusCode < 2000 && !s.forced ? h("span", { class: "muted" }, ` (in ${until(s.completesAt)})`) : null),
        h("td", {}, s.syncUtc || "–"),
        h("td", {}, `${s.syncDateRangeUtc.start} → ${s.syncDateRangeUtc.finish}`),
        h("td", {}, s.errorMessage || "")))));
  }

  function configuration(company) {
    const config = company.configuration || {};
    const pairs = flatten(config, "", []);
    return h("details", { class: "configuration" },
      h("summary", {}, `configuration: configured ${config.configured ? "yes" : "no"}, enabled ${config.enable ? "yes" : "no"}`),
      h("dl", { class: "kv" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])));
  }

  function companyCard(company) {
    return h("article", { class: "company", dataset: { companyId: company.id } },
      h("h3", {}, company.name, " ", idLink(company.id)),
      h("p", { class: "muted" }, `created ${company.created}; last sync ${company.lastSync || "never"}`),
      h("h4", {}, "Connections"), connections(company),
      configuration(company),
      h("h4", {}, "Syncs"), syncs(company));
  }

  function tenant(t) {
    return h("section", { class: "tenant", dataset: { clientId: t.clientId } },
      h("h2", {}, "Tenant ", h("code", {}, t.clientId), " ",
        h("a", { href: requestsUrl({ clientId: t.clientId }) }, "its requests")),
      t.companyCount > t.companies.length
        ? h("p", { class: "muted" }, `The newest ${t.companies.length} of ${t.companyCount} companies.`)
        : null,
      t.companies.length ? t.companies.map(companyCard) : h("p", { class: "muted" }, "No companies."));
  }

  async function refresh() {
    const world = await api("/world");
    document.getElementById("world-now").textContent = world.now;
    now = world.now;
    // The clock matters to the page only while a sync runs ("completes in ...").
    const running = world.tenants.some((t) => t.companies.some((c) => c.syncs.some((s) => s.syncStatusCode < 2000)));
    const key = JSON.stringify([world.tenants, running ? now : null]);
    if (key === shown) return; // unchanged: leave the page as the reader left it
    shown = key;
    const open = new Set([...root.querySelectorAll("details[open]")]
      .map((details) => details.closest(".company").dataset.companyId));
    root.replaceChildren(...world.tenants.map(tenant));
    for (const card of root.querySelectorAll(".company")) {
      if (open.has(card.dataset.companyId)) card.querySelector("details").open = true;
    }
    none.hidden = world.tenants.length > 0;
  }

  const run = poll(refresh, 1000);
  for (const button of document.querySelectorAll("button.advance")) {
    button.addEventListener("click", async () => {
      try {
        await api("/clock", { method: "POST", body: { advance: Number(button.dataset.seconds) } });
        await refreshClock();
        run();
      } catch (error) {
        UI.showError(error);
      }
    });
  }
})();
