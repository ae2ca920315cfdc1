import type { JWTPayload } from "jose";

/** The claims of the hub's access tokens (docs/authentication.md). */
export interface HubClaims extends JWTPayload {
  sub: string;
  tenantId: string;
  /** The session: one login and its refreshes (user tokens). */
  sid?: string;
  /** `user`, or `service` for a tenant API key's token. */
  type?: string;
  groups?: string[];
}

/** Who a verified access token speaks for. */
export interface Principal {
  readonly tenantId: string;
  readonly userId: string;
  /** The token's `sid` (user tokens); null for service tokens. */
  readonly sessionId: string | null;
  /** `user` or `service`; decisions are about users. */
  readonly type: string;
  /** Every claim as the hub signed it. */
  readonly claims: HubClaims;
}
