// The Gestor deploy manager's NestJS backend, written as a product team writes it with @aza8/hub: tokens
// verified offline (HubGuard), decisions in-process (@RequireToolAction), usage reported in batches, the
// hub's events received at POST /hub/events.
//
//   HUB_URL=http://127.0.0.1:8000 HUB_CREDENTIAL=aza8p_… HUB_WEBHOOK_SECRET=whsec_… PORT=8200 node dist/main.js
//
// Configuration (environment): HUB_URL, HUB_CREDENTIAL (the gestor tool's product credential),
// HUB_WEBHOOK_SECRET (of its product subscription to access.changed, pointing at /hub/events; without
// it the service relies on the cache TTL alone), HUB_CACHE_TTL (seconds, 60), HUB_USAGE_FLUSH_SECONDS (5),
// PORT (8200). The SDK flushes the last usage reports on SIGTERM.
import "reflect-metadata";

import { NestFactory } from "@nestjs/core";

import { AppModule } from "./app.module.js";

// rawBody: the webhook signature is checked over the bytes the hub sent, not re-serialized JSON.
const app = await NestFactory.create(AppModule, { rawBody: true, logger: ["error", "warn"] });
const port = Number(process.env.PORT ?? 8200);
await app.listen(port, "127.0.0.1");
console.log(`gestor listening on http://127.0.0.1:${port}`);
