import { Module } from "@nestjs/common";

import { AppsController } from "./apps.controller.js";
import { EventsController } from "./events.controller.js";
import { HealthController } from "./health.controller.js";

@Module({
  // Without a webhook secret there is no subscription: the cache TTL alone bounds staleness.
  controllers: [AppsController, HealthController, ...(process.env.HUB_WEBHOOK_SECRET ? [EventsController] : [])],
})
export class AppModule {}
