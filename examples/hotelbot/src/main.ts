// The hotel booking bot's Express backend, written as a product team writes it with @aza8/hub: tokens
// verified offline, decisions in-process, usage reported in batches, the hub's events received.
//
//   HUB_URL=http://127.0.0.1:8000 HUB_CREDENTIAL=aza8p_… HUB_WEBHOOK_SECRET=whsec_… PORT=8300 node dist/main.js
//
// Configuration (environment): HUB_URL, HUB_CREDENTIAL (the hotelbot tool's product credential),
// HUB_WEBHOOK_SECRET (of its product subscription to access.changed, pointing at /hub/events; without
// it the bot relies on the cache TTL alone), HUB_CACHE_TTL (seconds, 60), HUB_USAGE_FLUSH_SECONDS (5),
// PORT (8300).
import { randomUUID } from "node:crypto";

import { createHub, type Principal } from "@aza8/hub";
import express from "express";

const SEND = "hotelbot.messages.send";

const { HUB_URL, HUB_CREDENTIAL, HUB_WEBHOOK_SECRET, HUB_CACHE_TTL = "60", HUB_USAGE_FLUSH_SECONDS = "5",
        PORT = "8300" } = process.env;
if (!HUB_URL || !HUB_CREDENTIAL) throw new Error("HUB_URL and HUB_CREDENTIAL must be set");

const hub = createHub({ baseUrl: HUB_URL, tool: "hotelbot", credential: HUB_CREDENTIAL,
                        webhookSecret: HUB_WEBHOOK_SECRET || undefined, cacheTtl: Number(HUB_CACHE_TTL),
                        usageFlushSeconds: Number(HUB_USAGE_FLUSH_SECONDS) });

const app = express();
app.get("/health", (_request, response) => {
  response.json({ status: "ok" });
});
// Before express.json(): the signature is over the raw body. (The hub flushes usage on SIGTERM itself.)
if (HUB_WEBHOOK_SECRET) app.post("/hub/events", hub.webhooks.handler());
app.use(express.json());

app.post("/messages", hub.express.require(SEND), (request, response) => {
  const principal: Principal = response.locals.principal; // set by hub.express.require
  const { guestId, text } = (request.body ?? {}) as { guestId?: unknown; text?: unknown };
  if (typeof guestId !== "string" || typeof text !== "string" || !text) {
    response.status(400).json({ error: { code: "VALIDATION_ERROR", message: "Send {guestId, text}." } });
    return;
  }
  hub.usage.report(principal, SEND);
  // A demonstration bot: the message would go to the guest's channel here.
  response.json({ data: { id: randomUUID(), guestId, text, sentBy: principal.userId, tenantId: principal.tenantId } });
});

app.listen(Number(PORT), "127.0.0.1", () => console.log(`hotelbot listening on http://127.0.0.1:${PORT}`));
