// Express middleware (plain Node `http` handlers too: it uses only Node's request and response).
import type { IncomingMessage, ServerResponse } from "node:http";

import { InvalidToken } from "./errors.js";
import { bearer, forbidden, MISSING, refused } from "./http.js";
import type { Principal } from "./principal.js";

/** A request the middleware let through: `req.principal` (and `res.locals.principal`) is the caller. */
export type AuthenticatedRequest = IncomingMessage & { principal: Principal };

type Response = ServerResponse & { locals?: Record<string, unknown> };
type Authorize = (token: string, toolAction: string) => Promise<[Principal, boolean]>;

function send(response: ServerResponse, status: number, error: { code: string; message: string }) {
  response.statusCode = status;
  if (status === 401) response.setHeader("WWW-Authenticate", "Bearer");
  response.setHeader("Content-Type", "application/json");
  response.end(JSON.stringify({ error }));
}

export class ExpressHelpers {
  constructor(private readonly authorize: Authorize) {}

  /** Middleware letting the request through when its bearer token is the hub's and its user may perform
   * `toolAction`; otherwise 401 or 403 with `{"error": {"code", "message"}}`. */
  require(toolAction: string) {
    return async (request: IncomingMessage, response: Response, next: (error?: unknown) => void) => {
      const token = bearer(request.headers.authorization);
      if (token === null) return send(response, 401, MISSING);
      let principal: Principal, allowed: boolean;
      try {
        [principal, allowed] = await this.authorize(token, toolAction);
      } catch (error) {
        if (error instanceof InvalidToken) return send(response, 401, refused(error));
        return next(error);
      }
      if (!allowed) return send(response, 403, forbidden(toolAction));
      (request as AuthenticatedRequest).principal = principal;
      if (response.locals) response.locals.principal = principal;
      next();
    };
  }
}
