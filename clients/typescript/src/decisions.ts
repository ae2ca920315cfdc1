// In-process decisions: one snapshot of a user's permissions on the product's tool per (tenant, user,
// session), fetched from `GET /v1/authz/subjects/{userId}?sessionId=` and kept for
// min(maxAge, cacheTtl) seconds, dropped at once by the hub's `access.changed` events.
import type { Logger } from "./log.js";
import type { Principal } from "./principal.js";
import type { components } from "./schema.js";
import { tenant, type HubClient } from "./transport.js";

type SubjectAccess = components["schemas"]["SubjectAccess"];

// After the hub failed to answer, calls that miss the cache are refused at once for this long rather
// than each waiting on a hub that is down.
const BACKOFF_MS = 1000;
// Entries past their expiry are swept when the cache grows beyond this many.
const SWEEP_ABOVE = 100_000;
// Answers that mean "no" for as long as any answer: the user is not in the tenant (404), the tenant is
// suspended or no longer holds the tool (403). An event (user, tenant or package change) drops them.
const DENIALS = new Set([403, 404]);
const SEPARATOR = "\u0000";

interface Snapshot {
  readonly permissions: ReadonlySet<string>;
  readonly expiresAt: number;
}

export class Decisions {
  private readonly entries = new Map<string, Snapshot>();
  private readonly inFlight = new Map<string, Promise<Snapshot | null>>();
  // Bumped by every drop: a snapshot fetched across a drop may predate the change, so it answers its
  // own call but is not kept.
  private generation = 0;
  private downUntil = 0;

  constructor(
    private readonly client: HubClient,
    private readonly options: { ttlMs: number; logger: Logger; onSessionEnded: (sessionId: string) => void },
  ) {}

  /** The answer from a fresh snapshot, or undefined when there is none (a miss). */
  cached(principal: Principal, toolAction: string): boolean | undefined {
    const entry = this.entries.get(key(principal));
    if (entry === undefined || entry.expiresAt <= performance.now()) return undefined;
    return entry.permissions.has(toolAction);
  }

  async can(principal: Principal, toolAction: string): Promise<boolean> {
    const answer = this.cached(principal, toolAction);
    if (answer !== undefined) return answer;
    const entry = await this.fetchOnce(principal);
    return entry !== null && entry.permissions.has(toolAction);
  }

  /** Concurrent misses of one key wait on one request. */
  private fetchOnce(principal: Principal): Promise<Snapshot | null> {
    const id = key(principal);
    let pending = this.inFlight.get(id);
    if (pending === undefined) {
      const request = this.fetch(id, principal).finally(() => {
        if (this.inFlight.get(id) === request) this.inFlight.delete(id);
      });
      this.inFlight.set(id, (pending = request));
    }
    return pending;
  }

  private async fetch(id: string, { tenantId, userId, sessionId }: Principal): Promise<Snapshot | null> {
    if (performance.now() < this.downUntil) return null;
    const generation = this.generation;
    let answer;
    try {
      answer = await this.client.GET("/v1/authz/subjects/{userId}", {
        params: { path: { userId }, query: sessionId ? { sessionId } : {} },
        headers: tenant(tenantId),
      });
    } catch (error) {
      return this.unavailable(String(error));
    }
    const { data, response } = answer;
    let entry: Snapshot;
    if (data !== undefined) {
      entry = snapshot(data.data, this.options.ttlMs);
      if (data.data.sessionActive === false && sessionId) this.options.onSessionEnded(sessionId);
    } else if (DENIALS.has(response.status)) {
      entry = { permissions: new Set(), expiresAt: performance.now() + this.options.ttlMs };
    } else if (response.status === 429 || response.status >= 500) {
      return this.unavailable(`HTTP ${response.status}`);
    } else {
      this.options.logger.error(`aza8-hub: the hub refused a decision request (HTTP ${response.status} ` +
        `${JSON.stringify(answer.error).slice(0, 200)}); check the product credential`);
      return null;
    }
    if (generation === this.generation) {
      if (this.entries.size >= SWEEP_ABOVE) this.sweep();
      this.entries.set(id, entry);
    }
    return entry;
  }

  private unavailable(why: string): null {
    this.downUntil = performance.now() + BACKOFF_MS;
    this.options.logger.warn(`aza8-hub: the hub could not answer a decision (${why}); refusing until it does`);
    return null;
  }

  private sweep(): void {
    const now = performance.now();
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(id);
  }

  /** Forget the snapshots an `access.changed` event concerns: one session's, one user's, or the whole
   * tenant's. Returns how many were dropped. */
  drop(tenantId: string, userId?: string | null, sessionId?: string | null): number {
    this.generation += 1;
    this.inFlight.clear(); // a miss after the change must not wait on a request sent before it
    let dropped = 0;
    for (const id of this.entries.keys()) {
      const [entryTenant, entryUser, entrySession] = id.split(SEPARATOR);
      if (entryTenant === tenantId && (!userId || entryUser === userId) && (!sessionId || entrySession === sessionId)) {
        this.entries.delete(id);
        dropped += 1;
      }
    }
    return dropped;
  }

  clear(): void {
    this.generation += 1;
    this.inFlight.clear();
    this.entries.clear();
  }
}

function key({ tenantId, userId, sessionId }: Principal): string {
  return `${tenantId}${SEPARATOR}${userId}${SEPARATOR}${sessionId ?? ""}`;
}

function snapshot(answer: SubjectAccess, ttlMs: number): Snapshot {
  const lifetime = Math.min(answer.maxAge * 1000, ttlMs);
  const allowed = answer.active && answer.sessionActive !== false;
  return { permissions: new Set(allowed ? answer.permissions : []), expiresAt: performance.now() + lifetime };
}
