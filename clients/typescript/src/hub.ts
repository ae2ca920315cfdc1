// The product's handle on the hub: `createHub({ baseUrl, tool, credential })`.
import { Decisions } from "./decisions.js";
import { TokenRevoked } from "./errors.js";
import { ExpressHelpers } from "./express.js";
import { consoleLogger, type Logger } from "./log.js";
import type { Principal } from "./principal.js";
import { EndedSessions, KeySet, TokenVerifier } from "./tokens.js";
import { createTransport } from "./transport.js";
import { Usage } from "./usage.js";
import { Webhooks } from "./webhooks.js";

export interface HubOptions {
  baseUrl: string;
  /** The product's tool key (`erp`, `gestor`, `hotelbot`): the audience its tokens must name. */
  tool: string;
  /** The product credential, `aza8p_…`. */
  credential: string;
  /** The product subscription's `whsec_…` secret; needed to receive the hub's events. */
  webhookSecret?: string;
  /** Seconds a decision snapshot is kept at most (the hub's maxAge caps it). Default 60. */
  cacheTtl?: number;
  issuer?: string;
  /** Seconds of clock skew allowed on `exp`/`iat`. Default 0. */
  leeway?: number;
  /** Seconds to wait for the hub. Default 5. */
  timeout?: number;
  /** Seconds the JWKS is cached. Default 3600. */
  jwksLifespan?: number;
  /** An unknown `kid` refetches the JWKS at most once per this many seconds. Default 30. */
  jwksCooldown?: number;
  /** Seconds between usage flushes. Default 5. */
  usageFlushSeconds?: number;
  /** Flush usage on SIGTERM / SIGINT and before the process exits. Default true. */
  handleSignals?: boolean;
  logger?: Logger;
}

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

/**
 * Make one per process and share it.
 * - `verify(token)` checks an access token offline (issuer, audience = `tool`, expiry, the hub's JWKS).
 * - `can(principal, "erp.vehicles.read")` answers from an in-process snapshot of the user's permissions
 *   on `tool`, kept min(the hub's maxAge, `cacheTtl`) seconds and dropped by the hub's `access.changed`
 *   events (`webhooks`); a miss fetches the snapshot.
 * - `usage.report(principal, action, count)` buffers; batches go out every `usageFlushSeconds`.
 */
export class Hub {
  readonly baseUrl: string;
  readonly tool: string;
  readonly sessions = new EndedSessions();
  readonly decisions: Decisions;
  readonly usage: Usage;
  readonly webhooks: Webhooks;
  readonly express: ExpressHelpers;
  private readonly tokens: TokenVerifier;
  private closing: Promise<void> | null = null;
  private readonly onBeforeExit = () => {
    if (this.usage.hasUnsent) void this.usage.flush();
  };
  private readonly onSignal = (signal: NodeJS.Signals) => {
    void this.close().finally(() => {
      // Alone on the signal: do what Node would have done without us. Otherwise the app's handler exits.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };

  constructor(options: HubOptions) {
    const cacheTtl = options.cacheTtl ?? 60;
    if (!(cacheTtl > 0)) throw new RangeError("cacheTtl must be positive: every decision is cached, if only briefly");
    const logger = options.logger ?? consoleLogger;
    const timeoutMs = (options.timeout ?? 5) * 1000;
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.tool = options.tool;
    const client = createTransport(this.baseUrl, options.credential, timeoutMs);
    const keys = new KeySet(`${this.baseUrl}/.well-known/jwks.json`, {
      lifespanMs: (options.jwksLifespan ?? 3600) * 1000, cooldownMs: (options.jwksCooldown ?? 30) * 1000, timeoutMs,
      logger,
    });
    this.tokens = new TokenVerifier(keys, { audience: this.tool, issuer: options.issuer ?? "aza8-hub",
                                            leewaySeconds: options.leeway ?? 0, ended: this.sessions });
    this.decisions = new Decisions(client, { ttlMs: cacheTtl * 1000, logger,
                                             onSessionEnded: (sessionId) => this.sessions.end(sessionId) });
    this.usage = new Usage(client, { flushMs: (options.usageFlushSeconds ?? 5) * 1000, logger });
    this.webhooks = new Webhooks(options.webhookSecret, { decisions: this.decisions, sessions: this.sessions, logger });
    this.express = new ExpressHelpers((token, toolAction) => this.authorize(token, toolAction));
    if (options.handleSignals ?? true) {
      process.on("beforeExit", this.onBeforeExit);
      for (const signal of SIGNALS) process.once(signal, this.onSignal);
    }
  }

  /** The principal a token speaks for; rejects with InvalidToken, TokenExpired, TokenRevoked or
   * WrongAudience (all HubError). */
  verify(token: string): Promise<Principal> {
    return this.tokens.verify(token);
  }

  /** Whether the user may perform `toolAction` now. False for a service token (decisions are about
   * users), an action of another tool, an ended session, and — once its snapshot has expired — while the
   * hub cannot be reached (fail closed). Answered without waiting when the snapshot is cached. */
  can(principal: Principal, toolAction: string): Promise<boolean> {
    if (principal.type !== "user") return Promise.resolve(false);
    return this.decisions.can(principal, toolAction);
  }

  /** verify + can; an ended session that `can` has just learnt of rejects with TokenRevoked. */
  async authorize(token: string, toolAction: string): Promise<[Principal, boolean]> {
    const principal = await this.verify(token);
    const allowed = await this.can(principal, toolAction);
    if (!allowed && this.sessions.has(principal.sessionId)) throw new TokenRevoked("The token's session has ended");
    return [principal, allowed];
  }

  /** Send the last usage reports and stop the timers; the process may then exit. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      process.off("beforeExit", this.onBeforeExit);
      for (const signal of SIGNALS) process.off(signal, this.onSignal);
      await this.usage.close();
    })();
    return this.closing;
  }
}

export function createHub(options: HubOptions): Hub {
  return new Hub(options);
}
