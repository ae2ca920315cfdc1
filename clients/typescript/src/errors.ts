// Every error the SDK throws is a HubError; each carries the code the hub itself uses for it, so a
// product's own error body can say the same thing the hub would. Same names as the Python SDK.

export class HubError extends Error {
  readonly code: string = "HUB_ERROR";
  readonly status: number = 500;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Not a token the hub signed: malformed, unknown key, bad signature, wrong issuer, missing claims. */
export class InvalidToken extends HubError {
  override readonly code: string = "INVALID_TOKEN";
  override readonly status: number = 401;
}

export class TokenExpired extends InvalidToken {
  override readonly code: string = "TOKEN_EXPIRED";
}

/** The token's session ended (logout, password change, suspension): the hub said so by an event or in a
 * decision snapshot. */
export class TokenRevoked extends InvalidToken {
  override readonly code: string = "TOKEN_REVOKED";
}

/** A valid hub token, but not meant for this product: its tenant is not entitled to the tool. */
export class WrongAudience extends InvalidToken {
  override readonly code: string = "WRONG_AUDIENCE";
}

/** A delivery whose signature, timestamp or body does not check out. */
export class InvalidWebhook extends HubError {
  override readonly code: string = "INVALID_WEBHOOK";
  override readonly status: number = 400;
}
