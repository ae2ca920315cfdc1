// The product credential's calls to the hub, typed by the hub's OpenAPI schema (src/schema.ts,
// openapi-fetch): each tenant-scoped call names its tenant in X-Tenant-Id.
import createClient from "openapi-fetch";

import type { paths } from "./schema.js";

const USER_AGENT = "aza8-hub-node/0.1";

export type HubClient = ReturnType<typeof createClient<paths>>;

export function createTransport(baseUrl: string, credential: string, timeoutMs: number): HubClient {
  return createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${credential}`, "User-Agent": USER_AGENT },
    // A fresh signal per request: a hub that does not answer is a hub that is down.
    fetch: (request) => fetch(request, { signal: AbortSignal.timeout(timeoutMs) }),
  });
}

export function tenant(tenantId: string): { "X-Tenant-Id": string } {
  return { "X-Tenant-Id": tenantId };
}
