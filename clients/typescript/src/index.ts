// The Aza8 Hub SDK for products (docs/products.md). NestJS glue: `@aza8/hub/nestjs`.
export { createHub, Hub, type HubOptions } from "./hub.js";
export { HubError, InvalidToken, InvalidWebhook, TokenExpired, TokenRevoked, WrongAudience } from "./errors.js";
export type { AuthenticatedRequest } from "./express.js";
export type { Logger } from "./log.js";
export type { HubClaims, Principal } from "./principal.js";
export type { AccessChangedData, HubEvent, WebhookRequest } from "./webhooks.js";
