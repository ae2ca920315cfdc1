// Real calls through a client typed from the hub's own schema. If the schema's envelope, names or
// shapes drift from what this code reads, `tsc` fails; if the hub drifts from the schema, the
// checks below fail at run time.
import createClient from "openapi-fetch";

import type { paths } from "./schema.js";

const [baseUrl, token] = [process.env.HUB_URL, process.env.HUB_TOKEN];
if (!baseUrl || !token) throw new Error("HUB_URL and HUB_TOKEN are required");
const hub = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

const me = await hub.GET("/v1/me");
check(me.response.status === 200 && me.data !== undefined, `GET /v1/me answered ${me.response.status}`);
const tenantSlug: string = me.data.data.tenant.slug;

const created = await hub.POST("/v1/groups", { body: { name: "typed-client", description: "made by the typed client" } });
check(created.response.status === 201 && created.data !== undefined, `POST /v1/groups answered ${created.response.status}`);
const groupId: string = created.data.data.id;

const listed = await hub.GET("/v1/groups", { params: { query: { limit: 200, q: "typed-client" } } });
check(listed.data !== undefined, `GET /v1/groups answered ${listed.response.status}`);
const hasMore: boolean = listed.data.meta.hasMore;
check(listed.data.data.some((group) => group.id === groupId), "the new group is not listed");

const refused = await hub.POST("/v1/groups", { body: { name: "" } });
// An error is the JSON envelope, or (414, 431) the web server's own HTML page: the schema says both.
check(refused.response.status === 400 && typeof refused.error === "object", `a blank name answered ${refused.response.status}`);
const code: string = refused.error.error.code;

console.log(JSON.stringify({ tenantSlug, groupId, hasMore, code }));
