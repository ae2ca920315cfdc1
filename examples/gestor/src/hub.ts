// The process's one handle on the hub, configured from the environment (see main.ts).
import { createHub } from "@aza8/hub";

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export const hub = createHub({
  baseUrl: setting("HUB_URL"),
  tool: "gestor",
  credential: setting("HUB_CREDENTIAL"),
  webhookSecret: process.env.HUB_WEBHOOK_SECRET || undefined,
  cacheTtl: Number(process.env.HUB_CACHE_TTL ?? 60),
  usageFlushSeconds: Number(process.env.HUB_USAGE_FLUSH_SECONDS ?? 5),
});
