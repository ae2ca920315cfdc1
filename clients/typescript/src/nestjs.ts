// NestJS glue, a subpath of its own (`@aza8/hub/nestjs`) so that Express users never load Nest:
//
//   @Controller("apps") @UseGuards(new HubGuard(hub))
//   class AppsController {
//     @Post(":id/deploy") @RequireToolAction("gestor.apps.deploy")
//     deploy(@Req() request: AuthenticatedRequest) { … request.principal … }
//   }
import "reflect-metadata";

import {
  ForbiddenException,
  SetMetadata,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from "@nestjs/common";

import { InvalidToken } from "./errors.js";
import type { AuthenticatedRequest } from "./express.js";
import { bearer, forbidden, MISSING, refused } from "./http.js";
import type { Hub } from "./hub.js";

export const TOOL_ACTION_METADATA = "aza8:toolAction";

/** The tool action a route (method or controller) needs; HubGuard refuses with 403 without it. */
export const RequireToolAction = (toolAction: string) => SetMetadata(TOOL_ACTION_METADATA, toolAction);

type Response = { setHeader?: (name: string, value: string) => void; header?: (name: string, value: string) => void };

/**
 * Every route it guards needs the hub's access token (401 `{"error": {"code", "message"}}` otherwise);
 * a route that declares `@RequireToolAction(action)` (on the method, else the controller) also needs
 * the user to be allowed it (403 FORBIDDEN_ACTION). `request.principal` is the verified caller.
 */
export class HubGuard implements CanActivate {
  constructor(private readonly hub: Hub) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const toolAction: string | undefined = Reflect.getMetadata(TOOL_ACTION_METADATA, context.getHandler()) ??
      Reflect.getMetadata(TOOL_ACTION_METADATA, context.getClass());
    const token = bearer(request.headers.authorization);
    if (token === null) throw this.unauthorized(http.getResponse<Response>(), MISSING);
    try {
      if (toolAction === undefined) {
        request.principal = await this.hub.verify(token);
        return true;
      }
      const [principal, allowed] = await this.hub.authorize(token, toolAction);
      if (!allowed) throw new ForbiddenException({ error: forbidden(toolAction) });
      request.principal = principal;
      return true;
    } catch (error) {
      if (error instanceof InvalidToken) throw this.unauthorized(http.getResponse<Response>(), refused(error));
      throw error;
    }
  }

  private unauthorized(response: Response, error: { code: string; message: string }) {
    (response.setHeader ?? response.header)?.call(response, "WWW-Authenticate", "Bearer");
    return new UnauthorizedException({ error });
  }
}
