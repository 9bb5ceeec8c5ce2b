// The merchant journey through Codat's official TypeScript SDK (@codat/sync-for-commerce),
// against whatever server CODAT_BASE_URL names (the mock's control API at CODAT_MOCK_URL
// moves its clock, so a sync can finish without waiting).
//
// Every one of the 22 operations is called at least once, plus tenant isolation (a second API
// key sees none of the first one's companies), 401s and 404s. A step that fails is reported
// and the journey goes on with the raw answer, so one run names every operation the SDK
// cannot take and every field it trips on. One line per failure:
//
//   FAIL <operationId>: <what went wrong> [field <path>: <zod's complaint>]
//
// then a summary, `typescript-sdk: N/22 operations passed`. Exit status 0 only when all pass.
//
// Run: NODE_PATH=<dir with node_modules> CODAT_BASE_URL=http://127.0.0.1:4010 node journey.cjs
"use strict";

const assert = require("node:assert/strict");
const { CodatSyncCommerce } = require("@codat/sync-for-commerce");
const { SDKValidationError } = require("@codat/sync-for-commerce/sdk/models/errors/sdkvalidationerror.js");
const { ErrorMessage } = require("@codat/sync-for-commerce/sdk/models/errors/errormessage.js");

const BASE_URL = process.env.CODAT_BASE_URL;
const MOCK_URL = process.env.CODAT_MOCK_URL || BASE_URL;
if (!BASE_URL) {
  console.error("journey.cjs: set CODAT_BASE_URL to the server to test");
  process.exit(2);
}

const OPERATIONS = [
  "list-integrations", "get-integration-branding", "get-sync-flow-url", "list-companies",
  "create-company", "get-configuration", "set-configuration", "list-connections",
  "create-connection", "update-connection", "update-connection-authorization", "request-sync",
  "request-sync-for-date-range", "get-sync-status", "get-last-successful-sync",
  "get-latest-sync", "get-sync-by-id", "list-syncs", "get-config-text-sync-flow",
  "update-config-text-sync-flow", "get-visible-accounts", "update-visible-accounts-sync-flow",
];
const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";
// Fresh API keys (so fresh tenants) on every run: the journey never depends on what an
// earlier run left behind on the same server.
const RUN = `${process.pid}-${Date.now()}`;
const KEY = `ts-journey-${RUN}`;
const OTHER_KEY = `ts-journey-other-${RUN}`;

const failures = new Map(); // operationId -> [messages]
const called = new Set();

function basic(apiKey) {
  return "Basic " + Buffer.from(apiKey, "utf8").toString("base64");
}

function sdkFor(authHeader) {
  const options = { serverURL: BASE_URL, retryConfig: { strategy: "none" } };
  if (authHeader !== undefined) options.authHeader = authHeader;
  return new CodatSyncCommerce(options);
}

function fail(operationId, message) {
  if (!failures.has(operationId)) failures.set(operationId, []);
  failures.get(operationId).push(message);
  console.log(`FAIL ${operationId}: ${message}`);
}

// zod's issues, as "field <path>: <message>" (the path is where in the body it tripped).
function fieldsOf(error) {
  const issues = (error.cause && error.cause.issues) || [];
  const out = [];
  const walk = (list, prefix) => {
    for (const issue of list) {
      const path = [...prefix, ...(issue.path || [])];
      if (issue.unionErrors) {
        for (const inner of issue.unionErrors) walk(inner.issues || [], path);
      } else {
        out.push(`field ${path.join(".") || "(body)"}: ${issue.message}`);
      }
    }
  };
  walk(issues, []);
  return [...new Set(out)];
}

// Call one operation; on an SDK validation error, record it and go on with the raw body.
async function call(operationId, run, check) {
  called.add(operationId);
  let result;
  try {
    result = await run();
  } catch (error) {
    if (error instanceof SDKValidationError) {
      const fields = fieldsOf(error);
      fail(operationId, `the SDK rejected the answer: ${fields.join("; ") || error.message}`);
      return error.rawValue;
    }
    fail(operationId, `${error.name}: ${error.message}`);
    return undefined;
  }
  if (check) {
    try {
      check(result);
    } catch (error) {
      fail(operationId, `unexpected answer: ${error.message}`);
    }
  }
  return result;
}

// Call one operation that must fail with Codat's ErrorMessage and this status.
async function refused(operationId, status, run) {
  called.add(operationId);
  try {
    await run();
    fail(operationId, `expected ${status}, got a 2xx answer`);
  } catch (error) {
    if (!(error instanceof ErrorMessage)) {
      const detail = error instanceof SDKValidationError ? fieldsOf(error).join("; ") : "";
      fail(operationId, `expected ErrorMessage ${status}, got ${error.name}: ${error.message} ${detail}`);
      return;
    }
    if (error.statusCode !== status || error.data$.statusCode !== status) {
      fail(operationId, `expected ${status}, got ${error.statusCode}`);
    }
  }
}

async function control(method, path, body) {
  const response = await fetch(MOCK_URL + "/_mock" + path, {
    method,
    headers: { "content-type": "application/json", authorization: basic(KEY) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`control ${method} ${path}: ${response.status}`);
  return response.json();
}

async function journey() {
  const sdk = sdkFor(basic(KEY));
  const other = sdkFor(basic(OTHER_KEY));
  const { clientId } = await control("GET", "/whoami");

  // -- integrations ---------------------------------------------------------------------
  const integrations = await call("list-integrations", () => sdk.integrations.list(), (r) => {
    assert.equal(r.pageNumber, 1);
    assert.ok(r.results.length > 2);
  });
  const listed = (integrations && integrations.results) || [];
  const commerce = listed.find((i) => i.enabled && i.sourceType === "Commerce");
  const accounting = listed.find((i) => i.enabled && i.sourceType === "Accounting");
  assert.ok(commerce && accounting, "the catalogue has a commerce and an accounting platform");
  await call("get-integration-branding",
    () => sdk.integrations.getBranding({ platformKey: commerce.key }),
    (r) => assert.equal(r.sourceId, commerce.sourceId));

  // -- the Sync Flow URL ----------------------------------------------------------------
  await call("get-sync-flow-url",
    () => sdk.connections.getSyncFlowUrl({
      commerceKey: commerce.key, accountingKey: accounting.key, merchantIdentifier: "m-0042",
    }),
    (r) => assert.match(r.url, /^https:\/\/sync-flow\.codat\.io\/.*otp=\d{6}$/));

  // -- companies --------------------------------------------------------------------------
  const company = await call("create-company",
    () => sdk.advancedControls.createCompany({ name: "Bob's Burgers", tags: { region: "uk" } }),
    (r) => {
      assert.equal(r.name, "Bob's Burgers");
      assert.deepEqual(r.tags, { region: "uk" });
      assert.equal(r.lastSync, undefined);
    });
  const companyId = company.id;
  await call("list-companies", () => sdk.advancedControls.listCompanies(), (r) => {
    assert.ok(r.results.some((c) => c.id === companyId));
  });

  // -- connections ------------------------------------------------------------------------
  const commerceConn = await call("create-connection",
    () => sdk.connections.create({ companyId, requestBody: { platformKey: commerce.key } }),
    (r) => assert.equal(r.status, "PendingAuth"));
  const accountingConn = await call("create-connection",
    () => sdk.connections.create({ companyId, requestBody: { platformKey: accounting.key } }));
  await call("list-connections", () => sdk.connections.list({ companyId }), (r) => {
    assert.deepEqual(r.results.map((c) => c.id), [commerceConn.id, accountingConn.id]);
  });
  for (const conn of [commerceConn, accountingConn]) {
    await call("update-connection-authorization",
      () => sdk.connections.updateAuthorization({
        companyId, connectionId: conn.id, requestBody: { apiKey: "sk_test_bobs" },
      }),
      (r) => {
        assert.equal(r.status, "Linked");
        assert.deepEqual(r.connectionInfo, { apiKey: "********" });
      });
  }
  await call("update-connection",
    () => sdk.connections.updateConnection({
      companyId, connectionId: commerceConn.id, updateConnection: { status: "Unlinked" },
    }),
    (r) => assert.equal(r.status, "Unlinked"));
  await call("update-connection-authorization",
    () => sdk.connections.updateAuthorization({
      companyId, connectionId: commerceConn.id, requestBody: { apiKey: "sk_test_bobs_2" },
    }),
    (r) => assert.equal(r.status, "Linked"));

  // -- configuration ------------------------------------------------------------------------
  await call("get-configuration", () => sdk.advancedControls.getConfiguration({ companyId }),
    (r) => {
      assert.equal(r.companyId, companyId);
      assert.equal(r.configured, false);
    });
  await call("set-configuration", () => sdk.advancedControls.setConfiguration({ companyId }),
    (r) => assert.equal(r.configured, true));

  // -- a sync, in progress and then done --------------------------------------------------
  const summary = await call("request-sync", () => sdk.sync.request({ companyId }), (r) => {
    assert.equal(r.syncStatusCode, 1000);
    assert.equal(r.dataPushed, false);
  });
  const syncId = summary.commerceSyncId;
  await call("get-sync-status", () => sdk.sync.getStatus({ companyId }),
    (r) => assert.equal(r.syncStatusCode, 1000));
  await call("get-latest-sync", () => sdk.sync.getLatestSync({ companyId }), (r) => {
    assert.equal(r.syncId, syncId);
    assert.equal(r.syncUtc, undefined);
  });
  await call("list-syncs", () => sdk.sync.list({ companyId }),
    (r) => assert.deepEqual(r.map((s) => s.syncStatusCode), [1000]));

  await control("POST", "/clock", { advance: 31 });
  await call("get-sync-status", () => sdk.sync.getStatus({ companyId }), (r) => {
    assert.equal(r.syncStatusCode, 2000);
    assert.equal(typeof r.syncUtc, "string");
  });
  await call("get-last-successful-sync", () => sdk.sync.getLastSuccessfulSync({ companyId }),
    (r) => assert.equal(r.syncId, syncId));
  await call("get-sync-by-id", () => sdk.sync.get({ companyId, syncId }),
    (r) => assert.equal(r.syncStatusCode, 2000));
  await call("list-connections", () => sdk.connections.list({ companyId }), (r) => {
    assert.ok(r.results.every((c) => typeof c.lastSync === "string"));
  });
  const finish = new Date(Date.parse(summary.syncDateRangeUtc.finish) + 3600 * 1000);
  await call("request-sync-for-date-range",
    () => sdk.sync.requestForDateRange({
      companyId,
      syncRange: { dateRange: { start: summary.syncDateRangeUtc.finish, finish: finish.toISOString() } },
    }),
    (r) => assert.notEqual(r.commerceSyncId, syncId));

  // -- Sync Flow texts and visible accounts -------------------------------------------------
  const title = "configure-content-sales-title";
  await call("get-config-text-sync-flow", () => sdk.syncFlowSettings.getConfigTextSyncFlow({ locale: "en-us" }),
    (r) => assert.equal(r[title].text, "Sales"));
  await call("update-config-text-sync-flow",
    () => sdk.syncFlowSettings.updateConfigTextSyncFlow({
      locale: "en-us", requestBody: { [title]: { text: "Takings" } },
    }),
    (r) => assert.equal(r[title].text, "Takings"));
  await call("get-visible-accounts",
    () => sdk.syncFlowSettings.getVisibleAccounts({ clientId, platformKey: commerce.key }),
    (r) => assert.ok(r.visibleAccounts.length > 0));
  await call("update-visible-accounts-sync-flow",
    () => sdk.syncFlowSettings.updateVisibleAccountsSyncFlow({
      platformKey: commerce.key, visibleAccounts: { visibleAccounts: ["sales-accounts-sales"] },
    }),
    (r) => assert.deepEqual(r.visibleAccounts, ["sales-accounts-sales"]));

  // -- tenant isolation: another API key sees none of it ------------------------------------
  await call("list-companies", () => other.advancedControls.listCompanies(),
    (r) => assert.ok(!r.results.some((c) => c.id === companyId), "another tenant sees the company"));
  await refused("get-configuration", 404, () => other.advancedControls.getConfiguration({ companyId }));
  await refused("list-connections", 404, () => other.connections.list({ companyId }));
  await refused("get-sync-by-id", 404, () => other.sync.get({ companyId, syncId }));

  // -- 401: no key, or a header that is no Basic key -----------------------------------------
  await refused("list-companies", 401, () => sdkFor(undefined).advancedControls.listCompanies());
  await refused("list-integrations", 401, () => sdkFor("Bearer nothing").integrations.list());

  // -- 404: ids nobody has ------------------------------------------------------------------
  await refused("get-configuration", 404, () => sdk.advancedControls.getConfiguration({ companyId: UNKNOWN_ID }));
  await refused("update-connection", 404, () => sdk.connections.updateConnection({
    companyId, connectionId: UNKNOWN_ID, updateConnection: { status: "Unlinked" },
  }));
  await refused("get-sync-by-id", 404, () => sdk.sync.get({ companyId, syncId: UNKNOWN_ID }));
}

journey()
  .catch((error) => {
    console.log(`FAIL journey: stopped early: ${error.stack || error}`);
    failures.set("journey", [String(error)]);
  })
  .finally(() => {
    const missed = OPERATIONS.filter((op) => !called.has(op));
    for (const op of missed) fail(op, "never called");
    const passed = OPERATIONS.filter((op) => !failures.has(op));
    console.log(`typescript-sdk: ${passed.length}/${OPERATIONS.length} operations passed`);
    process.exitCode = failures.size === 0 ? 0 : 1;
  });
