// The SDK against a live hub (tests/products/test_typescript_sdk.py starts it and sets the world up):
// verify good / expired / foreign audience / tampered / foreign key; the Express middleware and the
// NestJS guard; can true, false, and refused within the goal after a revoke, a logout and a tenant's
// suspension (events flowing); usage in GET /v1/usage, flushed on close; webhook good / tampered.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  createHub, InvalidToken, InvalidWebhook, TokenExpired, TokenRevoked, WrongAudience, type Hub, type Principal,
} from "@aza8/hub";
import { ForbiddenException, UnauthorizedException, type ExecutionContext } from "@nestjs/common";
import { HubGuard, RequireToolAction } from "@aza8/hub/nestjs";
import { generateKeyPair, SignJWT, decodeJwt } from "jose";

import {
  call, GOAL_WITH_WEBHOOKS_MS, READ, reportTimes, serve, times, until, usage, world, type Delivery,
} from "./world.js";

let hub: Hub;
let reader: Principal;
const deliveries: Delivery[] = [];
const servers: { close(): void }[] = [];
let receiverUrl = "";

async function refusal(token: string): Promise<unknown> {
  try {
    await hub.verify(token);
  } catch (error) {
    return error;
  }
  return null;
}

before(async () => {
  const receiver = await serve((request, response) => void hub.webhooks.handler()(request, response), deliveries);
  servers.push(receiver.server);
  receiverUrl = `${receiver.url}/hub/events`;
  const subscribed = await call("POST", "/v1/product/webhooks", world.credential,
                                { url: receiverUrl, eventTypes: ["access.changed"] });
  assert.equal(subscribed.status, 201, JSON.stringify(subscribed.body));
  hub = createHub({ baseUrl: world.hub, tool: "erp", credential: world.credential,
                    webhookSecret: subscribed.data.secret, cacheTtl: 60, handleSignals: false });
  reader = await hub.verify(world.reader);
});

after(async () => {
  await hub.close();
  servers.forEach((server) => server.close());
  reportTimes();
});

test("verify: good, and each refusal typed", async () => {
  assert.deepEqual([reader.tenantId, reader.userId, reader.type], [world.tenantId, world.readerId, "user"]);
  assert.ok(reader.sessionId);
  assert.ok((reader.claims.aud as string[]).includes("erp"));
  assert.equal((await refusal(world.expired))?.constructor, TokenExpired);
  assert.equal((await refusal(world.gestorOnly))?.constructor, WrongAudience);
  const [header, , signature] = world.reader.split(".");
  const forged = Buffer.from(JSON.stringify({ ...decodeJwt(world.reader), sub: world.groupId })).toString("base64url");
  assert.equal((await refusal(`${header}.${forged}.${signature}`))?.constructor, InvalidToken);
  assert.equal((await refusal("not.a.token"))?.constructor, InvalidToken);
  const stranger = await generateKeyPair("RS256");
  const foreignKey = await new SignJWT(decodeJwt(world.reader)).setProtectedHeader({ alg: "RS256", kid: "not-the-hubs" })
    .sign(stranger.privateKey);
  const error = await refusal(foreignKey);
  assert.equal(error?.constructor, InvalidToken);
  assert.equal((error as InvalidToken).code, "INVALID_TOKEN");
  assert.equal((error as InvalidToken).status, 401);
});

test("can: true and false in-process", async () => {
  const outsider = await hub.verify(world.outsider);
  const admin = await hub.verify(world.admin);
  assert.equal(await hub.can(reader, READ), true);
  assert.equal(await hub.can(reader, "erp.vehicles.create"), false);
  assert.equal(await hub.can(reader, "gestor.apps.read"), false);
  assert.equal(await hub.can(outsider, READ), false);
  assert.equal(await hub.can(admin, "erp.vehicles.create"), true);
});

test("express.require: 200, 403, 401", async () => {
  const middleware = hub.express.require(READ);
  const { url, server } = await serve((request, response) => void middleware(request, response, (error?: unknown) => {
    response.statusCode = error ? 500 : 200;
    response.end(JSON.stringify({ tenantId: (request as unknown as { principal: Principal }).principal.tenantId }));
  }));
  servers.push(server);
  const get = async (token?: string) => {
    const response = await fetch(`${url}/vehicles`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    return { status: response.status, body: await response.json(), www: response.headers.get("www-authenticate") };
  };
  assert.deepEqual((await get(world.reader)).body, { tenantId: world.tenantId });
  const forbidden = await get(world.outsider);
  assert.deepEqual([forbidden.status, forbidden.body.error.code], [403, "FORBIDDEN_ACTION"]);
  const missing = await get();
  assert.deepEqual([missing.status, missing.body.error.code, missing.www], [401, "UNAUTHORIZED", "Bearer"]);
  const expired = await get(world.expired);
  assert.deepEqual([expired.status, expired.body.error.code], [401, "TOKEN_EXPIRED"]);
});

test("NestJS: HubGuard with @RequireToolAction", async () => {
  class Vehicles {
    list() {}
    mine() {}
  }
  const list = Object.getOwnPropertyDescriptor(Vehicles.prototype, "list")!;
  RequireToolAction(READ)(Vehicles.prototype, "list", list);
  const guard = new HubGuard(hub);
  const headers: Record<string, string> = {};
  const context = (handler: () => void, token?: string) => {
    const request = { headers: token ? { authorization: `Bearer ${token}` } : {} } as { principal?: Principal };
    const response = { setHeader: (name: string, value: string) => void (headers[name] = value) };
    return { request, context: { getHandler: () => handler, getClass: () => Vehicles,
                                 switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }) } as
                               unknown as ExecutionContext };
  };
  const allowed = context(Vehicles.prototype.list, world.reader);
  assert.equal(await guard.canActivate(allowed.context), true);
  assert.equal(allowed.request.principal?.userId, world.readerId);
  await assert.rejects(guard.canActivate(context(Vehicles.prototype.list, world.outsider).context), ForbiddenException);
  assert.equal(await guard.canActivate(context(Vehicles.prototype.mine, world.outsider).context), true);
  await assert.rejects(guard.canActivate(context(Vehicles.prototype.list).context), (error: unknown) =>
    error instanceof UnauthorizedException && (error.getResponse() as { error: { code: string } }).error.code === "UNAUTHORIZED");
  assert.equal(headers["WWW-Authenticate"], "Bearer");
});

test("usage: reported, batched, counted in GET /v1/usage, flushed on close", async () => {
  const before = await usage(READ);
  hub.usage.report(reader, READ, 3);
  hub.usage.report(reader, READ);
  hub.usage.report(reader, READ, 2);
  assert.equal(await hub.usage.flush(), true);
  assert.ok(await until(async () => (await usage(READ)) === before + 6, 10_000), `usage: ${await usage(READ)}`);
  const other = createHub({ baseUrl: world.hub, tool: "erp", credential: world.credential, handleSignals: false,
                            usageFlushSeconds: 3600 });
  other.usage.report(reader, READ, 4);
  await other.close();
  assert.ok(await until(async () => (await usage(READ)) === before + 10, 10_000), `usage: ${await usage(READ)}`);
  assert.throws(() => hub.usage.report(reader, READ, 0), RangeError);
});

test("a revoked grant is refused within the goal; the delivery verified, a tampered one refused", async () => {
  assert.equal(await hub.can(reader, READ), true);
  const revoked = await call("DELETE", `/v1/groups/${world.groupId}/permissions/${world.permissionId}`, world.admin);
  assert.equal(revoked.status, 204);
  const elapsed = await until(async () => !(await hub.can(reader, READ)), GOAL_WITH_WEBHOOKS_MS);
  times.revoke = elapsed && elapsed / 1000;
  console.log(`can() refused ${elapsed?.toFixed(0)} ms after a revoke (cacheTtl 60 s, events flowing)`);
  assert.notEqual(elapsed, null, "the revoke's access.changed did not arrive");

  const delivery = deliveries.find((each) => each.status === 204 && each.raw.includes('"grant"'));
  assert.ok(delivery, `no verified delivery of the revoke: ${deliveries.map((each) => each.status)}`);
  const event = hub.webhooks.handle(delivery.raw, delivery.headers); // at least once: a redelivery is harmless
  assert.deepEqual([event.type, event.tenantId, event.data.reason], ["access.changed", world.tenantId, "grant"]);
  assert.ok((event.data.tools as string[]).includes("erp"));
  const headers = delivery.headers as Record<string, string>;
  for (const [body, sent] of [
    [Buffer.from(delivery.raw.toString().replace('"grant"', '"session"')), headers],
    [delivery.raw, { ...headers, "webhook-signature": `v1,${Buffer.alloc(32).toString("base64")}` }],
    [delivery.raw, { ...headers, "webhook-timestamp": "1000000000" }],
    [delivery.raw, {}],
  ] as const) {
    assert.throws(() => hub.webhooks.handle(body, sent), InvalidWebhook);
  }
  const stranger = createHub({ baseUrl: world.hub, tool: "erp", credential: world.credential, handleSignals: false,
                               webhookSecret: `whsec_${Buffer.from("another product's secret").toString("base64")}` });
  assert.throws(() => stranger.webhooks.handle(delivery.raw, headers), InvalidWebhook);
  await stranger.close();
  const signed = Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith("webhook-")));
  const tampered = await fetch(receiverUrl, {
    method: "POST", headers: signed, body: delivery.raw.toString().replace('"grant"', '"session"'),
  });
  assert.deepEqual([tampered.status, (await tampered.json()).error.code], [400, "INVALID_WEBHOOK"]);
});

test("a logout is refused by verify within the goal", async () => {
  const loggedOut = await call("POST", "/v1/auth/logout", world.reader, { refreshToken: world.readerRefresh });
  assert.equal(loggedOut.status, 204);
  const elapsed = await until(async () => (await refusal(world.reader)) instanceof TokenRevoked, GOAL_WITH_WEBHOOKS_MS);
  times.logout = elapsed && elapsed / 1000;
  console.log(`verify() refused ${elapsed?.toFixed(0)} ms after a logout`);
  assert.notEqual(elapsed, null, "the logout's access.changed did not arrive");
});

test("a suspended tenant is refused within the goal", async () => {
  const admin = await hub.verify(world.admin);
  assert.equal(await hub.can(admin, "erp.vehicles.create"), true);
  const suspended = await call("PATCH", `/v1/tenants/${world.tenantId}/status`, world.staff,
                               { status: "suspended", reason: "TypeScript SDK drill" });
  assert.equal(suspended.status, 200, JSON.stringify(suspended.body));
  const elapsed = await until(async () => !(await hub.can(admin, "erp.vehicles.create")), GOAL_WITH_WEBHOOKS_MS);
  times.suspension = elapsed && elapsed / 1000;
  console.log(`can() refused ${elapsed?.toFixed(0)} ms after a tenant's suspension`);
  assert.notEqual(elapsed, null, "the suspension's access.changed did not arrive");
});

test("an unreachable hub: no snapshot, refused at once (fail closed)", async () => {
  const down = createHub({ baseUrl: "http://127.0.0.1:9", tool: "erp", credential: world.credential, timeout: 1,
                           handleSignals: false, logger: { info() {}, warn() {}, error() {} } });
  assert.equal(await down.can(reader, READ), false);
  const started = performance.now();
  assert.equal(await down.can(reader, READ), false);
  assert.ok(performance.now() - started < 50, "refused during the backoff without waiting on the hub");
  await assert.rejects(down.verify(world.admin), InvalidToken);
  await down.close();
});
