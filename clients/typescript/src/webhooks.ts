// The hub's deliveries: verified with Standard Webhooks over the raw body, and `access.changed`
// applied to the decision cache.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";

import { Webhook } from "standardwebhooks";

import type { Decisions } from "./decisions.js";
import { HubError, InvalidWebhook } from "./errors.js";
import type { Logger } from "./log.js";
import type { EndedSessions } from "./tokens.js";

const ACCESS_CHANGED = "access.changed";

/** `data` of an access.changed event (docs/products.md); events are not in the OpenAPI schema. */
export interface AccessChangedData {
  tenantId: string;
  /** null: every user of the tenant. */
  userId: string | null;
  sessionId: string | null;
  apiKeyId: string | null;
  reason: "grant" | "membership" | "user_status" | "tenant_status" | "package" | "session" | "api_key";
  tools: string[];
}

/** One delivery of the hub: `{id, type, version, createdAt, tenantId, data}`. */
export interface HubEvent {
  id: string;
  type: string;
  version: number;
  createdAt: string;
  tenantId: string | null;
  data: Record<string, unknown>;
}

/** A request as Express hands it (body parsed by `express.raw()`), as NestJS does (`rawBody: true`), or
 * Node's own, body unread. */
export type WebhookRequest = IncomingMessage & { body?: unknown; rawBody?: Buffer };

export class Webhooks {
  private readonly verifier: Webhook | null;

  constructor(
    secret: string | undefined,
    private readonly options: { decisions: Decisions; sessions: EndedSessions; logger: Logger },
  ) {
    this.verifier = secret ? new Webhook(secret) : null;
  }

  /** Verify one delivery (throws InvalidWebhook) and apply it; returns the event so the product can act
   * on other types too. Deliveries are at least once: applying one twice is harmless. */
  handle(rawBody: string | Buffer, headers: IncomingHttpHeaders | Record<string, string>): HubEvent {
    if (this.verifier === null) throw new HubError("createHub({ webhookSecret }) is needed to receive the hub's events");
    let event: HubEvent;
    try {
      const payload = this.verifier.verify(rawBody.toString(), flat(headers)) as Partial<HubEvent>;
      if (typeof payload.id !== "string" || typeof payload.type !== "string") throw new Error("not an event");
      event = { id: payload.id, type: payload.type, version: payload.version ?? 1, createdAt: payload.createdAt ?? "",
                tenantId: payload.tenantId ?? null, data: payload.data ?? {} };
    } catch (error) {
      throw new InvalidWebhook(`The delivery does not verify: ${(error as Error).message}`, { cause: error });
    }
    if (event.type === ACCESS_CHANGED) this.applyAccessChanged(event.data as unknown as AccessChangedData);
    return event;
  }

  /** Drop the snapshots the change concerns; a session's end also refuses its tokens from now on. */
  applyAccessChanged(data: AccessChangedData): number {
    const { tenantId, userId, sessionId, reason } = data;
    if (sessionId && reason === "session") this.options.sessions.end(sessionId);
    const dropped = this.options.decisions.drop(tenantId, userId, sessionId);
    this.options.logger.info(`aza8-hub: access.changed (${reason}) in tenant ${tenantId} dropped ${dropped} snapshot(s)`);
    return dropped;
  }

  /**
   * An Express-compatible handler (plain Node `http` too): 204 to a verified delivery, 400 with
   * `{"error": {"code": "INVALID_WEBHOOK", "message"}}` to any other, so the hub retries only what it
   * should. Mount it before any JSON body parser, or behind `express.raw({ type: "*\/*" })`: the
   * signature is over the raw body. `onEvent` sees every verified event.
   */
  handler(onEvent?: (event: HubEvent) => void | Promise<void>) {
    return async (request: WebhookRequest, response: ServerResponse, next?: (error?: unknown) => void) => {
      try {
        const event = this.handle(await rawBody(request), request.headers);
        await onEvent?.(event);
        response.statusCode = 204;
        response.end();
      } catch (error) {
        if (!(error instanceof HubError)) {
          if (next) return next(error);
          throw error;
        }
        response.statusCode = error.status;
        response.setHeader("Content-Type", "application/json");
        response.end(JSON.stringify({ error: { code: error.code, message: error.message } }));
      }
    };
  }
}

function flat(headers: IncomingHttpHeaders | Record<string, string>): Record<string, string> {
  const flattened: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flattened[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return flattened;
}

async function rawBody(request: WebhookRequest): Promise<string | Buffer> {
  if (Buffer.isBuffer(request.rawBody)) return request.rawBody;
  if (Buffer.isBuffer(request.body) || typeof request.body === "string") return request.body;
  if (request.body !== undefined && request.readableEnded) {
    throw new InvalidWebhook("The body was parsed before the handler: mount it before express.json(), behind " +
      "express.raw(), or create the Nest app with { rawBody: true }");
  }
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
