#!/usr/bin/env node
// An independent client for MockServe: @grpc/grpc-js with the schema loaded at run time from the .proto file,
// sharing no code with the C# server. It checks the Generate contract end to end: a one-off turn, a second turn
// of the same session that must reuse the session's KV cache, and the error for a request without a prompt.
//
// Usage: node client.mjs [127.0.0.1:PORT]   (or MOCKSERVE_ADDRESS=127.0.0.1:PORT node client.mjs)
// Exits 0 with a one-line summary, or 1 with the first broken expectation.

import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const DEADLINE_MS = 30_000;
const PROTO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'protos');

class CheckFailed extends Error {}

function check(condition, what) {
  if (!condition) throw new CheckFailed(what);
}

function parseAddress(argv, env) {
  const raw = argv[2] ?? env.MOCKSERVE_ADDRESS;
  if (!raw) {
    console.error('usage: node client.mjs 127.0.0.1:PORT   (or set MOCKSERVE_ADDRESS)');
    process.exit(2);
  }
  // Accept the http:// form that buf curl takes, so one ADDRESS serves both tools.
  return raw.replace(/^https?:\/\//, '').replace(/\/+$/, '');
}

function loadClient(address) {
  // google/protobuf/duration.proto is not on disk here: protobufjs (under proto-loader) has the well-known
  // types built in, so the one include directory is the repository's protos/ root.
  const definition = protoLoader.loadSync('mockserve/v1/inference_service.proto', {
    includeDirs: [PROTO_ROOT],
    keepCase: true, // field names as in the .proto (token_ids, not tokenIds)
    longs: Number, // int64 counts here are small; plain numbers keep the arithmetic simple
    enums: String, // enum values by name, as the contract spells them
    defaults: true, // unset scalars read as 0; unset messages read as null, so presence stays visible
    oneofs: true, // a virtual field names the set member of each oneof
  });
  const pkg = grpc.loadPackageDefinition(definition);
  return new pkg.mockserve.v1.InferenceService(address, grpc.credentials.createInsecure());
}

const deadline = () => ({ deadline: new Date(Date.now() + DEADLINE_MS) });

// Runs one Generate call to the end; resolves with every message, rejects with the call's gRPC error.
function generate(client, request) {
  return new Promise((resolve, reject) => {
    const messages = [];
    const call = client.Generate(request, deadline());
    call.on('data', (message) => messages.push(message));
    call.on('error', reject);
    call.on('end', () => resolve(messages));
  });
}

function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, deadline(), (error, response) => (error ? reject(error) : resolve(response)));
  });
}

function seconds(duration) {
  return Number(duration.seconds) + duration.nanos / 1e9;
}

// Checks one finished turn's stream and returns its complete message.
function checkTurn(label, messages, { promptTokens, maxTokens }) {
  check(messages.length >= 2, `${label}: expected chunks and a complete message, got ${messages.length} message(s)`);
  const requestId = messages[0].request_id;
  check(requestId !== '', `${label}: request_id is empty (the server must assign one when the client sends none)`);

  const chunks = messages.slice(0, -1);
  const last = messages.at(-1);
  check(last.event === 'complete', `${label}: last message is '${last.event}', expected 'complete'`);

  let emitted = 0;
  chunks.forEach((message, i) => {
    check(message.event === 'chunk', `${label}: message ${i} is '${message.event}'; only the last may be 'complete'`);
    check(message.request_id === requestId, `${label}: message ${i} has request_id '${message.request_id}', first had '${requestId}'`);
    const { token_ids: ids, token_offsets: offsets, completion_tokens: soFar } = message.chunk;
    check(ids.length > 0, `${label}: chunk ${i} carries no token ids`);
    check(offsets.length === ids.length, `${label}: chunk ${i} has ${ids.length} token ids but ${offsets.length} token_offsets`);
    emitted += ids.length;
    check(soFar === emitted, `${label}: chunk ${i} says completion_tokens ${soFar}, but ${emitted} token ids arrived so far`);
  });
  check(chunks.length >= 1, `${label}: no chunk before complete`);
  check(emitted === maxTokens, `${label}: token ids across chunks sum to ${emitted}, expected max_tokens ${maxTokens} (ignore_eos)`);

  const { finish_reason: reason, usage, timing } = last.complete;
  check(reason === 'FINISH_REASON_LENGTH', `${label}: finish_reason ${reason}, expected FINISH_REASON_LENGTH`);
  check(usage !== null, `${label}: complete has no usage`);
  check(usage.completion_tokens === maxTokens, `${label}: usage.completion_tokens ${usage.completion_tokens}, expected ${maxTokens}`);
  check(usage.prompt_tokens === promptTokens, `${label}: usage.prompt_tokens ${usage.prompt_tokens}, expected ${promptTokens}`);
  check(timing !== null, `${label}: complete has no timing`);
  check(timing.time_to_first_token !== null, `${label}: timing.time_to_first_token is missing`);
  check(seconds(timing.time_to_first_token) > 0, `${label}: timing.time_to_first_token is not positive (a ${promptTokens}-token prefill takes model time)`);
  return last.complete;
}

async function main() {
  const address = parseAddress(process.argv, process.env);
  const client = loadClient(address);
  const sessionId = `interop-${randomUUID()}`;
  try {
    // Turn 1: a new session, so nothing is cached.
    const turn1 = { session_id: sessionId, prompt_tokens: 1000, max_tokens: 20, ignore_eos: true };
    const messages1 = await generate(client, turn1);
    const done1 = checkTurn('turn 1', messages1, { promptTokens: 1000, maxTokens: 20 });
    check(done1.timing.cache_state === 'CACHE_STATE_NEW', `turn 1: cache_state ${done1.timing.cache_state}, expected CACHE_STATE_NEW for a new session`);
    check(done1.usage.cached_tokens === 0, `turn 1: usage.cached_tokens ${done1.usage.cached_tokens}, expected 0 for a new session`);

    // Turn 2: the prompt is turn 1's prompt and answer plus 10 new tokens; the history is still in HBM.
    const history = 1000 + 20;
    const prompt2 = history + 10;
    const messages2 = await generate(client, { session_id: sessionId, prompt_tokens: prompt2, max_tokens: 20, ignore_eos: true });
    const done2 = checkTurn('turn 2', messages2, { promptTokens: prompt2, maxTokens: 20 });
    const cached = done2.usage.cached_tokens;
    check(cached > 0, `turn 2: usage.cached_tokens ${cached}, expected > 0 (the session's history should be reused)`);
    check(cached <= history, `turn 2: usage.cached_tokens ${cached} exceeds the ${history} tokens of history`);
    check(done2.timing.cache_state === 'CACHE_STATE_HOT', `turn 2: cache_state ${done2.timing.cache_state}, expected CACHE_STATE_HOT`);

    // A request without a prompt is the client's mistake.
    let status = null;
    try {
      const extra = await generate(client, { session_id: '', max_tokens: 5 });
      status = `OK with ${extra.length} message(s)`;
    } catch (error) {
      check(error.code === grpc.status.INVALID_ARGUMENT,
        `no prompt: status ${grpc.status[error.code] ?? error.code} (${error.code}) '${error.details}', expected INVALID_ARGUMENT (3)`);
      check(/prompt/i.test(error.details), `no prompt: error message '${error.details}' does not mention the prompt`);
      status = 'INVALID_ARGUMENT';
    }
    check(status === 'INVALID_ARGUMENT', `no prompt: the call ended ${status}, expected INVALID_ARGUMENT (3)`);

    // Closing the session frees it; a second close finds nothing.
    await unary(client, 'CloseSession', { session_id: sessionId });
    let again = 'OK';
    try {
      await unary(client, 'CloseSession', { session_id: sessionId });
    } catch (error) {
      again = grpc.status[error.code] ?? String(error.code);
    }
    check(again === 'NOT_FOUND', `CloseSession twice: second call ended ${again}, expected NOT_FOUND`);

    const ttftMs = (seconds(done1.timing.time_to_first_token) * 1000).toFixed(1);
    console.log(`interop client OK (${address}): turn 1 ${done1.usage.completion_tokens} tokens in ${messages1.length - 1} chunk(s), `
      + `model TTFT ${ttftMs} ms; turn 2 ${cached}/${prompt2} prompt tokens cached (${done2.timing.cache_state}); `
      + `no prompt -> INVALID_ARGUMENT; CloseSession OK then NOT_FOUND`);
  } finally {
    client.close();
  }
}

main().catch((error) => {
  if (error instanceof CheckFailed) {
    console.error(`interop client FAILED: ${error.message}`);
  } else if (typeof error?.code === 'number') {
    console.error(`interop client FAILED: gRPC ${grpc.status[error.code] ?? error.code} (${error.code}): ${error.details}`);
  } else {
    console.error('interop client FAILED:', error);
  }
  process.exit(1);
});
