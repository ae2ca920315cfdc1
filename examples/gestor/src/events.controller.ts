import { InvalidWebhook } from "@aza8/hub";
import { BadRequestException, Controller, Headers, HttpCode, Post, Req, type RawBodyRequest } from "@nestjs/common";
import type { Request } from "express";

import { hub } from "./hub.js";

/** The hub's deliveries (access.changed keeps the decisions fresh). The signature is over the raw body:
 * main.ts creates the app with `rawBody: true`. */
@Controller("hub/events")
export class EventsController {
  @Post()
  @HttpCode(204)
  receive(@Req() request: RawBodyRequest<Request>, @Headers() headers: Record<string, string>): void {
    try {
      hub.webhooks.handle(request.rawBody ?? "", headers);
    } catch (error) {
      // 400: the hub retries it; any other error is Nest's 500, retried too.
      if (error instanceof InvalidWebhook) throw new BadRequestException({ error: { code: error.code, message: error.message } });
      throw error;
    }
  }
}
