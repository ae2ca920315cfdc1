// Usage reports, buffered in memory and sent in batches by a timer (unref'd: it never keeps the
// process alive). Reports of the same tool action in the same tenant between two flushes add up to
// one event. Each event gets a uuid `eventId` when its batch is formed, and a batch that fails (hub
// unreachable, 5xx, 429) is sent again later with the same ids: the hub counts an event id once, so a
// retry never counts twice.
import { randomUUID } from "node:crypto";

import type { Logger } from "./log.js";
import type { Principal } from "./principal.js";
import type { components } from "./schema.js";
import { tenant, type HubClient } from "./transport.js";

type UsageEvent = components["schemas"]["UsageEventRequest"];
type Batch = { tenantId: string; events: UsageEvent[] };

const BATCH_SIZE = 100; // the hub's limit per POST /v1/usage/events/batch
// Batches kept for a retry while the hub is unreachable; past this the oldest are dropped (logged).
const MAX_PENDING_BATCHES = 1_000;
const SEPARATOR = "\u0000";

export class Usage {
  private counts = new Map<string, { count: number; occurredAt: string }>(); // tenant\0action ->
  private pending: Batch[] = [];
  private sending: Promise<boolean> = Promise.resolve(true);
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly client: HubClient,
    private readonly options: { flushMs: number; logger: Logger },
  ) {
    this.timer = setInterval(() => {
      this.flush().catch((error) => options.logger.error(`aza8-hub: usage flush failed: ${String(error)}`));
    }, options.flushMs);
    this.timer.unref();
  }

  /** Count `count` uses of `toolAction` in the principal's tenant; sent with the next flush. */
  report(principal: Principal, toolAction: string, count = 1): void {
    if (!Number.isInteger(count) || count < 1) throw new RangeError("count must be a whole number, at least 1");
    const id = `${principal.tenantId}${SEPARATOR}${toolAction}`;
    const entry = this.counts.get(id);
    if (entry === undefined) this.counts.set(id, { count, occurredAt: new Date().toISOString() });
    else entry.count += count;
  }

  /** Whether reports wait for their first flush (batches kept for a retry do not count). */
  get hasUnsent(): boolean {
    return this.counts.size > 0;
  }

  /** Send everything reported so far; true when the hub took all of it. Flushes run one at a time. */
  flush(): Promise<boolean> {
    const counts = this.counts;
    this.counts = new Map();
    this.sending = this.sending.catch(() => false).then(() => this.send(counts));
    return this.sending;
  }

  private async send(counts: Map<string, { count: number; occurredAt: string }>): Promise<boolean> {
    const byTenant = new Map<string, UsageEvent[]>();
    for (const [id, { count, occurredAt }] of counts) {
      const [tenantId = "", toolAction = ""] = id.split(SEPARATOR);
      const events = byTenant.get(tenantId) ?? byTenant.set(tenantId, []).get(tenantId)!;
      events.push({ toolAction, count, occurredAt, eventId: randomUUID() });
    }
    const batches = [...this.pending];
    for (const [tenantId, events] of byTenant) {
      for (let start = 0; start < events.length; start += BATCH_SIZE) {
        batches.push({ tenantId, events: events.slice(start, start + BATCH_SIZE) });
      }
    }
    const failed: Batch[] = [];
    for (const batch of batches) if (!(await this.sendBatch(batch))) failed.push(batch);
    if (failed.length > MAX_PENDING_BATCHES) {
      const dropped = failed.splice(0, failed.length - MAX_PENDING_BATCHES).length;
      this.options.logger.error(`aza8-hub: dropping ${dropped} usage batches the hub has not taken`);
    }
    this.pending = failed;
    return failed.length === 0;
  }

  /** True when the batch is done with: taken, or refused for good (kept only to retry). */
  private async sendBatch({ tenantId, events }: Batch): Promise<boolean> {
    let response: Response;
    try {
      ({ response } = await this.client.POST("/v1/usage/events/batch", { body: { events }, headers: tenant(tenantId) }));
    } catch (error) {
      this.options.logger.warn(`aza8-hub: usage batch not sent (${String(error)}); retrying later`);
      return false;
    }
    if (response.status === 429 || response.status >= 500) {
      this.options.logger.warn(`aza8-hub: usage batch not taken (HTTP ${response.status}); retrying later`);
      return false;
    }
    if (response.status >= 400) {
      this.options.logger.error(`aza8-hub: usage batch refused (HTTP ${response.status}); dropped`);
    }
    return true;
  }

  /** Stop the timer and send what is left. */
  async close(): Promise<boolean> {
    clearInterval(this.timer);
    return this.flush();
  }
}
