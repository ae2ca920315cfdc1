// What tests/products/test_typescript_sdk.py hands the Node tests: a live hub, a tenant holding the
// erp tool, a reader allowed erp.vehicles.read (through one group's grant), an outsider who is not,
// the tenant admin, a platform admin, a product credential, and tokens minted for the refusals.
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from "node:http";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests/products/test_typescript_sdk.py`);
  return value;
}

export const world = {
  hub: env("HUB_URL"),
  credential: env("HUB_CREDENTIAL"),
  tenantId: env("HUB_TENANT_ID"),
  staff: env("HUB_STAFF_TOKEN"),
  admin: env("HUB_ADMIN_TOKEN"),
  reader: env("READER_TOKEN"),
  readerRefresh: env("READER_REFRESH_TOKEN"),
  readerId: env("READER_ID"),
  outsider: env("OUTSIDER_TOKEN"),
  groupId: env("GROUP_ID"),
  permissionId: env("PERMISSION_ID"),
  expired: env("EXPIRED_TOKEN"),
  gestorOnly: env("GESTOR_ONLY_TOKEN"),
};

export const READ = "erp.vehicles.read";
// Issue 27's goal: refused by the product within this many seconds of the change while webhooks flow.
export const GOAL_WITH_WEBHOOKS_MS = 5000;

/** The hub's answer `data` (or the error body) and status. */
export async function call(method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(world.hub + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : {};
  return { status: response.status, data: json.data, body: json };
}

export async function usage(toolAction: string): Promise<number> {
  const { data } = await call("GET", `/v1/usage?toolAction=${toolAction}`, world.admin);
  return (data as { count: number }[]).reduce((sum, total) => sum + total.count, 0);
}

/** Milliseconds until `condition()` held, or null if it did not within `timeoutMs`. */
export async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await condition()) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return null;
}

export interface Delivery {
  raw: Buffer;
  headers: IncomingHttpHeaders;
  status: number;
}

/** A loopback server; with `record`, it keeps every request's raw body, headers and answer, and hands
 * `listener` the raw body as Express's `express.raw()` would (`request.body`). */
export async function serve(listener: RequestListener, record?: Delivery[]): Promise<{ url: string; server: Server }> {
  const server = createServer(async (request, response) => {
    if (record) {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks);
      Object.assign(request, { body: raw });
      response.on("finish", () => record.push({ raw, headers: request.headers, status: response.statusCode }));
    }
    listener(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { url: `http://127.0.0.1:${address.port}`, server };
}

/** What the test measured, for pytest to print: one line `TIMES {...}` in seconds. */
export const times: Record<string, number | null> = {};
export function reportTimes() {
  console.log(`TIMES ${JSON.stringify(times)}`);
}
