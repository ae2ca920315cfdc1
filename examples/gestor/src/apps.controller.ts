import { randomUUID } from "node:crypto";

import type { AuthenticatedRequest } from "@aza8/hub";
import { HubGuard, RequireToolAction } from "@aza8/hub/nestjs";
import { Controller, HttpCode, Param, Post, Req, UseGuards } from "@nestjs/common";

import { hub } from "./hub.js";

const DEPLOY = "gestor.apps.deploy";

@Controller("apps")
@UseGuards(new HubGuard(hub))
export class AppsController {
  @Post(":id/deploy")
  @HttpCode(200)
  @RequireToolAction(DEPLOY)
  deploy(@Param("id") id: string, @Req() request: AuthenticatedRequest) {
    const { principal } = request;
    hub.usage.report(principal, DEPLOY);
    // A demonstration deploy manager: the build would be queued here.
    return { data: { id: randomUUID(), appId: id, status: "queued", requestedBy: principal.userId,
                     tenantId: principal.tenantId } };
  }
}
