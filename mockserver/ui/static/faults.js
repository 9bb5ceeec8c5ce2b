// Faults: the active rules with their counters; add one from the form, remove one, clear all.
// Below them, the rate-limit emulation: its settings and, when on, its counters.
"use strict";

(() => {
  const { api, h, poll, shortId, showError } = UI;
  const form = document.getElementById("add-fault");
  const tbody = document.querySelector("#rules tbody");
  const noRules = document.getElementById("no-rules");
  const limits = document.getElementById("rate-limits");
  let shownRules = "";
  let shownLimits = "";

  function toggleAction() {
    const action = form.elements.action.value;
    for (const kind of ["status", "drop", "shape"]) {
      for (const el of form.querySelectorAll(`.for-${kind}`)) el.hidden = action !== kind;
    }
  }
  form.elements.action.addEventListener("change", toggleAction);
  toggleAction();

  function ruleFromForm() {
    const f = form.elements;
    const rule = { operationId: f.operationId.value, when: f.when.value };
    if (f.action.value === "drop") rule.drop = f.drop.value;
    else if (f.action.value === "shape") rule.shape = f.shape.value;
    else {
      rule.status = Number(f.status.value);
      if (f.retryAfter.value) rule.retryAfter = Number(f.retryAfter.value);
    }
    for (const name of ["times", "every", "after", "probability"]) {
      if (f[name].value) rule[name] = Number(f[name].value);
    }
    return rule;
  }

  function answer(rule) {
    const parts = [];
    if (rule.status) parts.push(`status ${rule.status}`);
    if (rule.retryAfter !== undefined) parts.push(`Retry-After ${rule.retryAfter}s`);
    if (rule.drop) parts.push(`drop (${rule.drop})`);
    if (rule.shape) parts.push(`shape ${rule.shape}`);
    if (rule.latencyMs !== undefined) parts.push(`+${rule.latencyMs} ms`);
    if (rule.latency) parts.push(`+latency ${JSON.stringify(rule.latency)}`);
    return parts.join(", ");
  }

  function schedule(rule) {
    const parts = ["times", "every", "after", "probability", "seed"]
      .filter((name) => rule[name] !== undefined)
      .map((name) => `${name} ${rule[name]}`);
    return parts.length ? parts.join(", ") : "every match";
  }

  function match(rule) {
    const extra = ["method", "path", "clientId", "apiKey"].filter((k) => rule[k]).map((k) => `${k} ${rule[k]}`);
    return [rule.operationId, ...extra].join(" · ");
  }

  function ruleRow(rule) {
    return h("tr", { dataset: { ruleId: rule.id } },
      h("td", {}, h("code", {}, rule.id)),
      h("td", {}, match(rule)),
      h("td", {}, answer(rule)),
      h("td", {}, schedule(rule)),
      h("td", {}, rule.when),
      h("td", { class: "num matched" }, rule.matched),
      h("td", { class: "num fired" }, rule.fired),
      h("td", {}, rule.retired ? h("span", { class: "badge off" }, "retired") : h("span", { class: "badge ok" }, "active")),
      h("td", {}, h("button", { type: "button", class: "danger remove", onclick: () => remove(rule.id) }, "Remove")));
  }

  async function remove(ruleId) {
    try {
      await api(`/faults/${encodeURIComponent(ruleId)}`, { method: "DELETE" });
      run();
    } catch (error) {
      showError(error);
    }
  }

  function limitsForm(config) {
    const field = (name, label) => h("label", {}, label,
      h("input", { name, type: "number", min: 1, value: config[name], size: 6 }));
    const box = h("input", { name: "enabled", type: "checkbox", checked: config.enabled });
    const settings = h("form", { id: "rate-limit-form", class: "form toolbar panel" },
      h("label", { class: "check" }, box, " emulate Codat's rate limits"),
      field("dailyBase", "daily base"),
      field("perCompanyConcurrency", "concurrency per company"),
      field("perIpPerMinute", "per IP a minute"),
      h("button", { type: "submit" }, "Save"));
    settings.addEventListener("submit", async (event) => {
      event.preventDefault();
      const f = settings.elements;
      const body = { enabled: f.enabled.checked };
      for (const name of ["dailyBase", "perCompanyConcurrency", "perIpPerMinute"]) body[name] = Number(f[name].value);
      try {
        await api("/rate-limit", { method: "PUT", body });
        run();
      } catch (error) {
        showError(error);
      }
    });
    return settings;
  }

  function counters(status) {
    if (!status.enabled) return h("p", { class: "muted", id: "rate-limit-counters" }, "Rate-limit emulation is off.");
    const clients = Object.entries(status.clients);
    const ips = Object.entries(status.ips);
    return h("div", { id: "rate-limit-counters" },
      h("table", { class: "grid" },
        h("thead", {}, h("tr", {}, ["tenant", "active companies", "used", "daily quota", "remaining", "resets", "in flight", "rejected"].map((t) => h("th", {}, t)))),
        h("tbody", {}, clients.map(([id, c]) => h("tr", {},
          h("td", { title: id }, shortId(id)), h("td", {}, c.activeCompanies), h("td", {}, c.used),
          h("td", {}, c.dailyQuota), h("td", {}, c.remaining), h("td", {}, c.resetsAt),
          h("td", {}, `${c.inFlight} / ${c.concurrencyLimit}`),
          h("td", {}, Object.entries(c.rejected).map(([k, v]) => `${k}: ${v}`).join(", ") || "0"))))),
      ips.length ? h("table", { class: "grid" },
        h("thead", {}, h("tr", {}, ["IP address", "in the last minute", "limit", "rejected"].map((t) => h("th", {}, t)))),
        h("tbody", {}, ips.map(([ip, w]) => h("tr", {},
          h("td", {}, ip), h("td", {}, w.inWindow), h("td", {}, w.limit), h("td", {}, w.rejected))))) : null);
  }

  async function refresh() {
    const [{ rules }, status] = await Promise.all([api("/faults"), api("/rate-limit/status")]);
    const ruleKey = JSON.stringify(rules);
    if (ruleKey !== shownRules) {
      shownRules = ruleKey;
      tbody.replaceChildren(...rules.map(ruleRow));
      noRules.hidden = rules.length > 0;
    }
    if (!document.getElementById("rate-limit-form")) limits.append(limitsForm(status.config));
    const limitKey = JSON.stringify([status.enabled, status.clients, status.ips]);
    if (limitKey !== shownLimits) {
      shownLimits = limitKey;
      const old = document.getElementById("rate-limit-counters");
      if (old) old.replaceWith(counters(status));
      else limits.append(counters(status));
    }
  }

  const run = poll(refresh, 1000);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("/faults", { method: "POST", body: ruleFromForm() });
      showError(null);
      run();
    } catch (error) {
      showError(error);
    }
  });
  document.getElementById("clear-faults").addEventListener("click", async () => {
    try {
      await api("/faults", { method: "DELETE" });
      run();
    } catch (error) {
      showError(error);
    }
  });
})();
