// The SDK's speed in Node, for `make bench` (bench/sdk.py runs it and reports the figures): `can` on a
// warm cache, an allowed and a denied action in turn, and offline `verify` of one user token, each in
// one event loop, awaited one at a time as a request handler would. Prints one JSON line.
//
//   HUB_URL=… HUB_CREDENTIAL=aza8p_… HUB_TOKEN=<a user's access token> ALLOWED=erp.vehicles.read \
//   DENIED=gestor.apps.read node build/bench/bench.js
import assert from "node:assert/strict";

import { createHub } from "@aza8/hub";

const ROUNDS = 5;
const CAN_CALLS = 1_000_000; // per round: well inside the snapshot's lifetime at the goal's rate
const VERIFY_CALLS = 20_000;

const { HUB_URL, HUB_CREDENTIAL, HUB_TOKEN, ALLOWED, DENIED } = process.env;
if (!HUB_URL || !HUB_CREDENTIAL || !HUB_TOKEN || !ALLOWED || !DENIED) {
  throw new Error("set HUB_URL, HUB_CREDENTIAL, HUB_TOKEN, ALLOWED and DENIED");
}

async function rounds(calls: number, body: () => Promise<unknown>): Promise<number[]> {
  const rates = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    for (let call = 0; call < calls; call++) await body();
    rates.push(calls / ((performance.now() - started) / 1000));
  }
  return rates;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const hub = createHub({ baseUrl: HUB_URL, tool: ALLOWED.split(".")[0]!, credential: HUB_CREDENTIAL, handleSignals: false });
const principal = await hub.verify(HUB_TOKEN);
assert.ok(await hub.can(principal, ALLOWED) && !(await hub.can(principal, DENIED)), "the bench user's snapshot is wrong");
let turn = 0;
const canRates = await rounds(CAN_CALLS, () => hub.can(principal, (turn ^= 1) ? ALLOWED : DENIED));
const verifyRates = await rounds(VERIFY_CALLS, () => hub.verify(HUB_TOKEN));
await hub.close();
console.log(JSON.stringify({
  can: { rates: canRates, rate: median(canRates), calls: CAN_CALLS },
  verify: { rates: verifyRates, rate: median(verifyRates), calls: VERIFY_CALLS },
  rounds: ROUNDS, node: process.version,
}));
