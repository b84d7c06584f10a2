#!/usr/bin/env node
// The official npm `openai` SDK against MockServe's OpenAI-compatible HTTP face, sharing no code with the server:
// streamed chat with include_usage, non-streamed chat, streamed legacy completions, models.list, a 404 for another
// model as the SDK's NotFoundError, a second turn of an x-session-id session reporting cached tokens, and a resent
// conversation without a session that automatic prefix caching finds (prompt and answer, in blocks of 16 tokens).
//
// Usage: node client.mjs http://127.0.0.1:PORT   (or MOCKSERVE_HTTP=http://127.0.0.1:PORT node client.mjs)
// Prints one line per check; exits 1 with the first broken expectation.

import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';

class CheckFailed extends Error {}
const check = (condition, what) => {
  if (!condition) throw new CheckFailed(what);
};

const base = (process.argv[2] ?? process.env.MOCKSERVE_HTTP ?? '').replace(/\/+$/, '');
if (!base) {
  console.error('usage: node client.mjs http://127.0.0.1:PORT');
  process.exit(2);
}
// No retries: a check must see the server's first answer, not a retried one. Every call is bounded.
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'dummy', maxRetries: 0, timeout: 30_000 });
const MAX_TOKENS = 12;
const messages = [
  { role: 'system', content: 'You are brief.' },
  { role: 'user', content: 'Tell me a story' },
];

async function modelsList() {
  const page = await client.models.list();
  const ids = page.data.map((m) => m.id);
  check(ids.length === 1, `models.list returned ${ids.length} models (${ids.join(' ')}), expected the one served`);
  console.log(`models.list: ${ids[0]}`);
  return ids[0];
}

async function streamedChat(model) {
  // ignore_eos is vLLM's extension: the SDK sends params it does not know as they are, in the JSON body.
  const stream = await client.chat.completions.create({
    model,
    messages,
    max_tokens: MAX_TOKENS,
    ignore_eos: true,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  check(chunks.length >= 2, `streamed chat: ${chunks.length} chunk(s), expected content chunks then a usage chunk`);
  const usageChunk = chunks.at(-1);
  const content = chunks.slice(0, -1);
  check(usageChunk.choices.length === 0, `streamed chat: the last chunk has ${usageChunk.choices.length} choices, expected 0 (the usage chunk)`);
  check(usageChunk.usage?.completion_tokens === MAX_TOKENS, `streamed chat: usage.completion_tokens ${usageChunk.usage?.completion_tokens}, expected max_tokens ${MAX_TOKENS} (ignore_eos)`);
  check(usageChunk.usage.prompt_tokens > 0, `streamed chat: usage.prompt_tokens ${usageChunk.usage.prompt_tokens}, expected > 0`);
  check(usageChunk.usage.total_tokens === usageChunk.usage.prompt_tokens + MAX_TOKENS, 'streamed chat: total_tokens is not prompt + completion');
  check(content.every((c) => c.object === 'chat.completion.chunk' && c.choices.length === 1 && c.usage == null),
    'streamed chat: a chunk before the last is not a one-choice chat.completion.chunk without usage');
  check(content[0].choices[0].delta.role === 'assistant', 'streamed chat: the first delta has no role assistant');
  const text = content.map((c) => c.choices[0].delta.content ?? '').join('');
  check(text.length > 0, 'streamed chat: no content');
  check(content.at(-1).choices[0].finish_reason === 'length', `streamed chat: finish_reason ${content.at(-1).choices[0].finish_reason}, expected length`);
  check(new Set(chunks.map((c) => c.id)).size === 1 && chunks[0].id.startsWith('chatcmpl-'), 'streamed chat: chunk ids differ or do not start with chatcmpl-');
  console.log(`streamed chat: ${content.length} content chunks, then usage {prompt ${usageChunk.usage.prompt_tokens}, completion ${usageChunk.usage.completion_tokens}} with empty choices`);
}

async function plainChat(model) {
  const response = await client.chat.completions.create({ model, messages, max_tokens: MAX_TOKENS, ignore_eos: true });
  check(response.object === 'chat.completion', `chat: object ${response.object}, expected chat.completion`);
  check(response.choices.length === 1, `chat: ${response.choices.length} choices, expected 1`);
  const choice = response.choices[0];
  check(choice.message.role === 'assistant' && choice.message.content.length > 0, 'chat: no assistant content');
  check(choice.finish_reason === 'length', `chat: finish_reason ${choice.finish_reason}, expected length`);
  check(response.usage?.completion_tokens === MAX_TOKENS, `chat: usage.completion_tokens ${response.usage?.completion_tokens}, expected ${MAX_TOKENS}`);
  console.log(`chat: "${choice.message.content.slice(0, 40)}...", ${response.usage.completion_tokens} completion tokens, finish ${choice.finish_reason}`);
}

async function streamedCompletion(model) {
  const stream = await client.completions.create({
    model,
    prompt: 'Once upon a time',
    max_tokens: MAX_TOKENS,
    ignore_eos: true,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const usageChunk = chunks.at(-1);
  const content = chunks.slice(0, -1);
  check(content.length >= 1 && content.every((c) => c.object === 'text_completion' && c.choices.length === 1),
    'completions: expected text_completion chunks with one choice before the usage chunk');
  check(usageChunk.choices.length === 0 && usageChunk.usage?.completion_tokens === MAX_TOKENS,
    `completions: the last chunk is not a usage chunk with completion_tokens ${MAX_TOKENS}: ${JSON.stringify(usageChunk)}`);
  const text = content.map((c) => c.choices[0].text).join('');
  check(text.length > 0, 'completions: no text');
  check(content.at(-1).choices[0].finish_reason === 'length', 'completions: the last content chunk has no finish_reason length');
  console.log(`streamed completions: ${content.length} text chunks, then usage {prompt ${usageChunk.usage.prompt_tokens}, completion ${usageChunk.usage.completion_tokens}}`);
}

async function unknownModel() {
  try {
    await client.chat.completions.create({ model: 'no-such-model', messages, max_tokens: 1 });
  } catch (error) {
    check(error instanceof OpenAI.NotFoundError, `unknown model: ${error?.constructor?.name} (${error?.message}), expected OpenAI.NotFoundError`);
    check(error.status === 404, `unknown model: status ${error.status}, expected 404`);
    // The SDK keeps the body's "error" object: message, type, param, code.
    const body = error.error;
    check(typeof body?.message === 'string' && body.message.includes('no-such-model'), `unknown model: error.message does not name the model: ${JSON.stringify(body)}`);
    check(body.type === 'invalid_request_error', `unknown model: error.type ${body.type}, expected invalid_request_error: ${JSON.stringify(body)}`);
    check(body.code === 'model_not_found', `unknown model: error.code ${body.code}, expected model_not_found`);
    check(body.param === 'model', `unknown model: error.param ${body.param}, expected model`);
    console.log(`unknown model: NotFoundError 404 {type ${body.type}, code ${body.code}, param ${body.param}}`);
    return;
  }
  throw new CheckFailed('unknown model: the call succeeded, expected a 404');
}

async function sessionTurns(model) {
  const headers = { 'x-session-id': `openai-interop-${randomUUID()}` };
  const first = await client.chat.completions.create({ model, messages, max_tokens: MAX_TOKENS, ignore_eos: true }, { headers });
  check(first.usage.prompt_tokens_details?.cached_tokens === 0, `session turn 1: cached_tokens ${first.usage.prompt_tokens_details?.cached_tokens}, expected 0`);
  // The second turn resends the conversation, as OpenAI clients do, with the reply and a new question.
  const history = [...messages, { role: 'assistant', content: first.choices[0].message.content }, { role: 'user', content: 'And then?' }];
  const second = await client.chat.completions.create({ model, messages: history, max_tokens: MAX_TOKENS, ignore_eos: true }, { headers });
  const cached = second.usage.prompt_tokens_details?.cached_tokens;
  check(cached > 0, `session turn 2: usage.prompt_tokens_details.cached_tokens ${cached}, expected > 0`);
  check(cached < second.usage.prompt_tokens, `session turn 2: cached_tokens ${cached} not below prompt_tokens ${second.usage.prompt_tokens}`);
  console.log(`session (x-session-id): turn 1 prompt ${first.usage.prompt_tokens} cached 0, turn 2 prompt ${second.usage.prompt_tokens} cached ${cached}`);
}

async function prefixCachedTurns(model) {
  // No session: the conversation is resent whole. A system prompt of a few hundred tokens (unique to this run) and
  // a 64-token answer: turn 2 must find turn 1's prompt and most of its answer cached.
  const system = `Run ${randomUUID()}. ` + Array.from({ length: 60 }, (_, i) => `Rule ${i}: answer briefly.`).join(' ');
  const turn1 = [{ role: 'system', content: system }, { role: 'user', content: 'Tell me a story' }];
  const first = await client.chat.completions.create({ model, messages: turn1, max_tokens: 64, ignore_eos: true });
  check(first.usage.prompt_tokens_details?.cached_tokens === 0, `prefix turn 1: cached_tokens ${first.usage.prompt_tokens_details?.cached_tokens}, expected 0`);
  const turn2 = [...turn1, { role: 'assistant', content: first.choices[0].message.content }, { role: 'user', content: 'And then?' }];
  const second = await client.chat.completions.create({ model, messages: turn2, max_tokens: MAX_TOKENS, ignore_eos: true });
  const cached = second.usage.prompt_tokens_details?.cached_tokens;
  // Everything turn 1 computed (prompt + 63 of 64 answer tokens) in whole blocks of 16; a block may be lost where the
  // answer's text meets the next message.
  const computed = first.usage.prompt_tokens + 63;
  check(cached % 16 === 0, `prefix turn 2: cached_tokens ${cached} is not whole blocks of 16`);
  check(cached >= Math.floor(computed / 16) * 16 - 16 && cached <= computed, `prefix turn 2: cached_tokens ${cached}, expected turn 1's ${computed} computed tokens in blocks of 16`);
  console.log(`prefix caching (no session): turn 1 prompt ${first.usage.prompt_tokens} + 64 out, turn 2 prompt ${second.usage.prompt_tokens} cached ${cached}`);
}

try {
  const model = await modelsList();
  await streamedChat(model);
  await plainChat(model);
  await streamedCompletion(model);
  await unknownModel();
  await sessionTurns(model);
  await prefixCachedTurns(model);
  console.log(`openai SDK checks passed against ${base}`);
} catch (error) {
  console.error(`FAILED: ${error instanceof CheckFailed ? error.message : error?.stack ?? error}`);
  process.exit(1);
}
