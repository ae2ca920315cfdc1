// Offline verification of the hub's access tokens against its JWKS.
import {
  createLocalJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type FlattenedJWSInput,
} from "jose";

import { InvalidToken, TokenExpired, TokenRevoked, WrongAudience } from "./errors.js";
import type { Logger } from "./log.js";
import type { HubClaims, Principal } from "./principal.js";

const ALGORITHMS = ["RS256"];
const REQUIRED = ["exp", "iat", "iss", "sub", "aud", "tenantId"];
// An ended session's tokens are refused for this long: past any access token's lifetime (the hub's
// default is 15 minutes, its ceiling an hour), after which `exp` refuses them anyway.
const ENDED_SESSION_MEMORY_MS = 24 * 3600 * 1000;
const MAX_ENDED_SESSIONS = 100_000;

type LocalSet = ReturnType<typeof createLocalJWKSet>;

class KeysUnavailable extends Error {}

/**
 * jose's createRemoteJWKSet, with one difference: the last set fetched keeps serving while the hub
 * cannot be reached. The set is cached for `lifespanMs`, an unknown `kid` refetches it at most once per
 * `cooldownMs`; the hub's keys change by rotation, announced long before the old key stops signing,
 * so an outage must not turn every token into an invalid one.
 */
export class KeySet {
  private local: LocalSet | null = null;
  private fetchedAt = 0;
  private attemptedAt = 0;
  private loading: Promise<void> | null = null;

  constructor(
    readonly url: string,
    private readonly options: { lifespanMs: number; cooldownMs: number; timeoutMs: number; logger: Logger },
  ) {}

  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    if (!this.local || Date.now() - this.fetchedAt >= this.options.lifespanMs) await this.reload();
    try {
      return await this.use(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - this.attemptedAt < this.options.cooldownMs) {
        throw error;
      }
      await this.reload();
      return this.use(header, token);
    }
  };

  private use(header: JWSHeaderParameters, token: FlattenedJWSInput) {
    if (!this.local) throw new KeysUnavailable("The hub's signing keys could not be fetched");
    return this.local(header, token);
  }

  private reload(): Promise<void> {
    this.loading ??= this.fetch().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async fetch(): Promise<void> {
    this.attemptedAt = Date.now();
    try {
      const response = await fetch(this.url, { signal: AbortSignal.timeout(this.options.timeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      this.local = createLocalJWKSet((await response.json()) as JSONWebKeySet);
      this.fetchedAt = Date.now();
    } catch (error) {
      if (!this.local) return; // use() says the keys could not be fetched
      this.options.logger.warn(`aza8-hub: JWKS unreachable (${String(error)}), verifying with the last key set fetched`);
    }
  }
}

/** Sessions the hub said have ended (an `access.changed` event, or a snapshot's sessionActive: false). */
export class EndedSessions {
  private readonly ended = new Map<string, number>(); // sid -> when learnt, oldest first

  end(sessionId: string): void {
    const now = Date.now();
    this.ended.delete(sessionId);
    this.ended.set(sessionId, now);
    for (const [oldest, learnt] of this.ended) {
      if (this.ended.size <= MAX_ENDED_SESSIONS && now - learnt < ENDED_SESSION_MEMORY_MS) break;
      this.ended.delete(oldest);
    }
  }

  has(sessionId: string | null | undefined): boolean {
    return !!sessionId && this.ended.has(sessionId);
  }
}

export class TokenVerifier {
  constructor(
    private readonly keys: KeySet,
    private readonly options: { audience: string; issuer: string; leewaySeconds: number; ended: EndedSessions },
  ) {}

  async verify(token: string): Promise<Principal> {
    const { audience, issuer, leewaySeconds, ended } = this.options;
    let claims: HubClaims;
    try {
      const verified = await jwtVerify<HubClaims>(token, this.keys.getKey, {
        algorithms: ALGORITHMS,
        audience,
        issuer,
        clockTolerance: leewaySeconds,
        requiredClaims: REQUIRED,
      });
      claims = verified.payload;
    } catch (error) {
      throw refusal(error, audience);
    }
    if (ended.has(claims.sid)) throw new TokenRevoked("The token's session has ended");
    return { tenantId: claims.tenantId, userId: claims.sub, sessionId: claims.sid ?? null,
             type: claims.type ?? "user", claims };
  }
}

function refusal(error: unknown, audience: string): InvalidToken {
  const cause = { cause: error };
  if (error instanceof KeysUnavailable) return new InvalidToken(error.message, cause);
  if (error instanceof errors.JWTExpired) return new TokenExpired("The token has expired", cause);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return new WrongAudience(`The token is not meant for '${audience}'`, cause);
    return new InvalidToken(`The token's '${error.claim}' claim is missing or wrong`, cause);
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new InvalidToken("The token is signed by an unknown key", cause);
  }
  return new InvalidToken("The token is invalid", cause);
}
