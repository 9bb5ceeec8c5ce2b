// Webhooks: consumers, messages and every delivery attempt with its outcome and next retry.
"use strict";

(() => {
  const { api, h, poll, shortId } = UI;
  let shown = "";
  const OUTCOMES = { delivered: "ok", pending: "run", failed: "bad", cancelled: "off" };
  const badge = (text) => h("span", { class: `badge ${OUTCOMES[text] || "off"}` }, text);

  function fill(id, rows, empty) {
    const tbody = document.querySelector(`#${id} tbody`);
    const columns = document.querySelectorAll(`#${id} thead th`).length;
    tbody.replaceChildren(...(rows.length ? rows
      : [h("tr", {}, h("td", { class: "muted", colspan: columns }, empty))]));
  }

  async function refresh() {
    const [{ consumers }, { messages }, { deliveries }] = await Promise.all([
      api("/webhooks"), api("/webhooks/messages"), api("/webhooks/deliveries"),
    ]);
    const key = JSON.stringify([consumers, messages, deliveries]);
    if (key === shown) return;
    shown = key;
    fill("consumers", consumers.map((c) => h("tr", { dataset: { consumerId: c.id } },
      h("td", {}, h("code", {}, c.id)), h("td", {}, c.url),
      h("td", {}, c.events ? c.events.join(", ") : "all"),
      h("td", { title: c.clientId || "" }, c.clientId ? shortId(c.clientId) : "all tenants"),
      h("td", {}, c.created))), "No consumers: register one with POST /_mock/webhooks.");
    fill("messages", messages.map((m) => h("tr", { dataset: { messageId: m.id } },
      h("td", {}, h("code", {}, m.id)), h("td", {}, h("code", {}, m.consumerId)), h("td", {}, m.eventType),
      h("td", {}, badge(m.status)), h("td", { class: "num" }, m.attempts), h("td", {}, m.createdAt),
      h("td", {}, m.nextAttemptAt || "–"), h("td", {}, [m.fault, m.heldBack ? "held back" : ""].filter(Boolean).join(", ")))),
    "No messages yet.");
    fill("deliveries", deliveries.map((d) => h("tr", {},
      h("td", {}, h("code", {}, d.messageId)), h("td", {}, h("code", {}, d.consumerId)), h("td", {}, d.eventType),
      h("td", { class: "num" }, d.attempt), h("td", {}, d.scheduledAt), h("td", {}, d.sentAt || "–"),
      h("td", {}, d.responseStatus === null ? (d.error || "–") : String(d.responseStatus)),
      h("td", { class: "num" }, d.durationMs === null ? "" : Number(d.durationMs).toFixed(1)),
      h("td", {}, badge(d.outcome)), h("td", {}, d.fault || ""))), "No delivery attempts yet.");
  }

  poll(refresh, 1000);
})();
