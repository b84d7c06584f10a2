#!/usr/bin/env node
// Timing agreement: TTFT and mean ITL measured by the npm openai SDK's streaming (as a load-test user measures
// them) against the server's own cost model, read over gRPC (mockserve.v1 Estimate, GetServerInfo for the time
// scale) with @grpc/grpc-js, and scaled to wall time.
//
// Definitions (FIELD-NOTES section 3): TTFT = first content chunk - request issued; ITL = (E2E - TTFT) / (OSL - 1),
// E2E = last content chunk - issued, OSL = usage.completion_tokens. This ITL does not depend on how many tokens
// the server groups into one event.
//
// Tolerance: wall overhead (HTTP parsing, the engine loop's timer, Node's event loop, a busy 2-core machine) adds
// about a millisecond or more per event, and at a time scale that overhead is 1/scale times larger in model
// terms. ci.sh runs the server at --time-scale 0.25, so one Yi-34B/A100 decode step (~34 ms) is ~8.5 ms of wall:
// - mean ITL within +-50% of the scaled model ITL (a 4 ms error either way; a server ignoring the clock, or
//   sleeping a whole unscaled step, or flushing per group of steps, falls outside);
// - TTFT not earlier than the scaled model prefill (the server may not answer before the model allows), and not
//   later than it plus 250 ms (queueing on an idle server is zero; the slack is for wall overhead only);
// - not buffered: the stream's events must span at least half the scaled model decode time, and at most 10% of
//   the gaps between successive events may be under 1 ms (a buffered response arrives within 1 ms in one go).
//
// Usage: node timing.mjs http://127.0.0.1:HTTP_PORT 127.0.0.1:GRPC_PORT
// Prints one line; exits 1 when a bound is broken.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import OpenAI from 'openai';

const [httpBase, grpcAddress] = [process.argv[2], process.argv[3]];
if (!httpBase || !grpcAddress) {
  console.error('usage: node timing.mjs http://127.0.0.1:HTTP_PORT 127.0.0.1:GRPC_PORT');
  process.exit(2);
}
const OSL = 40;
const ITL_TOLERANCE = 0.5;
const TTFT_SLACK_S = 0.25;
const RUNS = 3; // the median run is judged, so one run hit by a neighbour's CPU burst does not decide alone
const fail = (what) => {
  console.error(`FAILED: ${what}`);
  process.exit(1);
};

const PROTO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'protos');
const definition = protoLoader.loadSync('mockserve/v1/inference_service.proto', {
  includeDirs: [PROTO_ROOT], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true,
});
const pkg = grpc.loadPackageDefinition(definition);
const grpcClient = new pkg.mockserve.v1.InferenceService(grpcAddress.replace(/^https?:\/\//, ''), grpc.credentials.createInsecure());
const unary = (method, request) => new Promise((resolve, reject) => {
  grpcClient[method](request, { deadline: new Date(Date.now() + 10_000) }, (error, response) => (error ? reject(error) : resolve(response)));
});

const client = new OpenAI({ baseURL: `${httpBase.replace(/\/+$/, '')}/v1`, apiKey: 'dummy', maxRetries: 0, timeout: 30_000 });
const messages = [{ role: 'user', content: 'Measure me' }];

async function measure() {
  const issued = performance.now();
  const stream = await client.chat.completions.create({
    messages, max_tokens: OSL, ignore_eos: true, stream: true, stream_options: { include_usage: true },
  });
  const arrivals = [];
  let usage;
  for await (const chunk of stream) {
    if (chunk.choices.length > 0 && chunk.choices[0].delta.content) arrivals.push(performance.now());
    if (chunk.usage) usage = chunk.usage;
  }
  if (usage?.completion_tokens !== OSL) fail(`usage.completion_tokens ${usage?.completion_tokens}, expected ${OSL}`);
  const ttft = (arrivals[0] - issued) / 1000;
  const e2e = (arrivals.at(-1) - issued) / 1000;
  const gaps = arrivals.slice(1).map((t, i) => (t - arrivals[i]) / 1000);
  return { ttft, itl: (e2e - ttft) / (OSL - 1), span: e2e - ttft, events: arrivals.length, tinyGaps: gaps.filter((g) => g < 0.001).length, promptTokens: usage.prompt_tokens };
}

try {
  const info = await unary('GetServerInfo', {});
  const scale = info.time_scale;
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await measure());
  const estimate = await unary('Estimate', { context_tokens: runs[0].promptTokens, decode_tokens: OSL });
  // The engine prefills the prompt in one step whose end emits the first token; then each decode step one token.
  const modelTtft = estimate.prefill_seconds * scale;
  const modelItl = (estimate.decode_seconds / OSL) * scale;
  const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(RUNS / 2)];
  const [ttft, itl, span] = [median('ttft'), median('itl'), median('span')];
  const ms = (s) => `${(s * 1000).toFixed(2)} ms`;
  const summary = `${info.model.id}/${info.gpu.id} at time scale ${scale}, ${runs[0].promptTokens} prompt + ${OSL} tokens, median of ${RUNS}: `
    + `TTFT ${ms(ttft)} (model ${ms(modelTtft)}, allowed ${ms(modelTtft)}..${ms(modelTtft + TTFT_SLACK_S)}), `
    + `ITL ${ms(itl)} (model ${ms(modelItl)}, allowed +-${ITL_TOLERANCE * 100}%), `
    + `events ${runs.map((r) => r.events).join('/')}, gaps < 1 ms ${runs.map((r) => r.tinyGaps).join('/')}`;
  if (!(ttft >= modelTtft)) fail(`TTFT earlier than the model allows: ${summary}`);
  if (!(ttft <= modelTtft + TTFT_SLACK_S)) fail(`TTFT too late: ${summary}`);
  if (!(Math.abs(itl - modelItl) <= ITL_TOLERANCE * modelItl)) fail(`ITL outside the tolerance: ${summary}`);
  for (const r of runs) {
    if (r.span < 0.5 * (OSL - 1) * modelItl) fail(`buffered: the events spanned ${ms(r.span)}, the model decodes for ${ms((OSL - 1) * modelItl)}: ${summary}`);
    if (r.tinyGaps > 0.1 * (r.events - 1)) fail(`buffered: ${r.tinyGaps} of ${r.events - 1} gaps under 1 ms: ${summary}`);
  }
  console.log(`timing agrees: ${summary}`);
} catch (error) {
  fail(error?.stack ?? String(error));
} finally {
  grpcClient.close();
}
