// Retries: the chaos report as pictures. Per logical call, a timeline of its attempts: each
// attempt's status, the wait before it against the Retry-After asked, duplicates flagged.
"use strict";

(() => {
  const { api, h, svg, poll, shortId, statusClass, requestsUrl } = UI;
  const options = document.getElementById("options");
  const calls = document.getElementById("calls");
  const summary = document.getElementById("summary");
  const noCalls = document.getElementById("no-calls");
  let shown = "";

  const MAX_CALLS = 200; // timelines drawn at most, the newest first
  const WIDTH = 1000;
  const LEFT = 12;
  const RIGHT = 60;
  const AXIS = 58;
  const ROW = 26; // one row below the axis per Retry-After asked: its label, then its span
  const secondsText = (value) => (value < 1 ? `${Math.round(value * 1000)} ms` : `${value.toFixed(2)} s`);

  function timeline(call, duplicates) {
    const n = call.attempts;
    const starts = call.startsSeconds;
    const ends = starts.map((start, i) => start + call.durationsMs[i] / 1000);
    let span = Math.max(...ends);
    call.retryAfterSeconds.forEach((asked, i) => {
      if (asked !== null) span = Math.max(span, ends[i] + asked);
    });
    span = Math.max(span, 0.01);
    const x = (t) => LEFT + (t / span) * (WIDTH - LEFT - RIGHT);
    const parts = [
      svg("line", { class: "axis", x1: LEFT, y1: AXIS, x2: WIDTH - RIGHT, y2: AXIS }),
      svg("text", { x: WIDTH - RIGHT + 6, y: AXIS + 4 }, secondsText(span)),
    ];
    let row = 0;
    for (let i = 1; i < n; i += 1) {
      const from = ends[i - 1];
      const gap = call.gapsSeconds[i - 1];
      const asked = call.retryAfterSeconds[i - 1];
      const short = call.retryAfterHonouredPerGap[i - 1] === false;
      parts.push(svg("line", { class: "gap", x1: x(from), y1: 41, x2: x(starts[i]), y2: 41 },
        svg("title", {}, `waited ${secondsText(gap)} before attempt ${i + 1}`)));
      if (asked !== null) {
        row += 1;
        const y = AXIS + row * ROW;
        const kind = `asked${short ? " short" : ""}`;
        const label = `Retry-After ${asked} s before attempt ${i + 1}; waited ${secondsText(gap)}`;
        const fromLeft = x(from) < WIDTH / 2;
        parts.push(svg("g", { class: "retry-after" },
          svg("line", { class: kind, x1: x(from), y1: y - 4, x2: x(from), y2: y + 4 }),
          svg("line", { class: kind, x1: x(from), y1: y, x2: x(from + asked), y2: y }),
          svg("line", { class: kind, x1: x(from + asked), y1: y - 4, x2: x(from + asked), y2: y + 4 }),
          svg("text", fromLeft ? { x: x(from) + 4, y: y - 6 } : { x: x(from + asked), y: y - 6, "text-anchor": "end" },
            label)));
      }
    }
    call.seqs.forEach((seq, i) => {
      const status = call.statuses[i];
      const duplicate = duplicates.has(seq);
      const left = x(starts[i]);
      const width = Math.max(x(ends[i]) - left, 6);
      parts.push(svg("a", { href: requestsUrl({ seq }) },
        svg("g", { class: `attempt${duplicate ? " dup" : ""}`, dataset: { seq, status: status === null ? "none" : status } },
          svg("rect", { class: statusClass(status), x: left, y: 30, width, height: 22, rx: 3 }),
          svg("text", { x: left, y: 24 }, status === null ? "no response" : String(status)),
          duplicate ? svg("text", { class: "dup", x: left, y: 11 }, "DUPLICATE") : null,
          svg("title", {}, `attempt ${i + 1} (request #${seq}): ${status === null ? "no response" : status}, ` +
            `took ${call.durationsMs[i]} ms${call.faultIds[i] ? `, fault ${call.faultIds[i]}` : ""}`))));
    });
    const height = AXIS + row * ROW + 8;
    return svg("svg", {
      class: "timeline", viewBox: `0 0 ${WIDTH} ${height}`, preserveAspectRatio: "xMinYMin meet",
      role: "img", dataset: { attempts: n }, "aria-label": `${n} attempt(s)`,
    }, parts);
  }

  function card(op, call, duplicates) {
    const target = `${call.method} ${call.path}${call.query ? `?${call.query}` : ""}`;
    const honoured = call.retryAfterHonoured;
    return h("article", { class: "call", dataset: { operationId: op.operationId || "", firstSeq: call.seqs[0] } },
      h("header", {},
        h("b", {}, op.operationId || "(no operation)"),
        h("code", {}, target),
        h("span", { class: "muted", title: op.clientId || "" }, `tenant ${shortId(op.clientId) || "–"}`),
        h("span", { class: "attempts" }, `${call.attempts} attempt${call.attempts === 1 ? "" : "s"}`),
        h("span", { class: `badge ${call.succeeded ? "ok" : "bad"}` }, `outcome ${call.outcome === null ? "no response" : call.outcome}`),
        call.gaveUp ? h("span", { class: "badge bad" }, "gave up") : null,
        honoured === null ? null : h("span", { class: `badge ${honoured ? "ok" : "bad"}` },
          honoured ? "Retry-After honoured" : "Retry-After not honoured"),
        call.seqs.some((seq) => duplicates.has(seq)) ? h("span", { class: "badge bad" }, "duplicate") : null),
      timeline(call, duplicates));
  }

  function stat(value, label) {
    return h("div", { class: "stat", dataset: { stat: label } }, h("b", {}, value), h("span", {}, label));
  }

  async function refresh() {
    const window = options.elements.window.value || "60";
    const report = await api(`/report?window=${encodeURIComponent(window)}`);
    const key = JSON.stringify([report, options.elements.retried.checked]);
    if (key === shown) return;
    shown = key;
    // The repeats of a duplicated create (every commit after the first).
    const duplicates = new Set(report.duplicates.flatMap((d) => d.seqs.slice(1)));
    const all = report.operations.flatMap((op) => op.logicalCalls.map((call) => [op, call]));
    const judged = all.filter(([, call]) => call.retryAfterHonoured !== null);
    summary.replaceChildren(
      stat(report.totals.logicalCalls, "calls"),
      stat(report.totals.requests, "attempts"),
      stat(report.totals.retried, "retried"),
      stat(all.filter(([, call]) => call.gaveUp).length, "gave up"),
      stat(`${judged.filter(([, call]) => call.retryAfterHonoured).length} / ${judged.length}`, "Retry-After honoured"),
      stat(report.totals.duplicates, "duplicates"));
    const chosen = options.elements.retried.checked ? all.filter(([, call]) => call.attempts > 1) : all;
    chosen.sort(([, a], [, b]) => b.seqs[0] - a.seqs[0]); // newest first
    const drawn = chosen.slice(0, MAX_CALLS);
    calls.replaceChildren(
      ...drawn.map(([op, call]) => card(op, call, duplicates)),
      chosen.length > drawn.length
        ? h("p", { class: "muted" }, `The newest ${drawn.length} of ${chosen.length} calls are drawn.`)
        : "");
    noCalls.hidden = chosen.length > 0;
  }

  const run = poll(refresh, 1000);
  options.addEventListener("submit", (event) => event.preventDefault());
  options.addEventListener("change", () => run());
})();
