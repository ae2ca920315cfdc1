// What the Express middleware and the NestJS guard share: the bearer token, the refusals' bodies.
import { InvalidToken } from "./errors.js";

export const MISSING = { code: "UNAUTHORIZED", message: "Send the hub's access token as 'Authorization: Bearer <token>'." };

export function bearer(header: string | undefined): string | null {
  const [scheme = "", token = ""] = (header ?? "").split(" ", 2);
  return scheme.toLowerCase() === "bearer" && token.trim() ? token.trim() : null;
}

export function forbidden(toolAction: string) {
  return { code: "FORBIDDEN_ACTION", message: `This needs the '${toolAction}' permission.` };
}

export function refused(error: InvalidToken) {
  return { code: error.code, message: error.message };
}
