#!/usr/bin/env node
// An independent Triton client for MockServe: @grpc/grpc-js with inference.GRPCInferenceService loaded at run time
// from protos/inference/grpc_service.proto, sharing no code with the C# server. It speaks the protocol the way
// Triton's own clients, perf_analyzer and GenAI-Perf do: the server and model rpcs, decoupled streaming through
// ModelStreamInfer (the vLLM backend's text_input / stream / sampling_parameters, and TensorRT-LLM's max_tokens),
// in-band errors, sessions by sequence_id, statistics, and a cancelled stream whose KV must come back.
//
// Usage: node triton.mjs [127.0.0.1:PORT]   (or MOCKSERVE_ADDRESS=127.0.0.1:PORT node triton.mjs)
// Prints one line per check. Each lettered section runs even when an earlier one failed (the first failure of a
// section ends that section), so one run shows everything that is broken; exits 0 when all passed, else 1.
// The whole script is bounded by SCRIPT_MS, every unary call by UNARY_MS, every stream by STREAM_MS.

import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const SCRIPT_MS = 60_000;
const UNARY_MS = 10_000;
const STREAM_MS = 30_000;
const STEP_MS = 15_000; // one request's responses on an open stream
const PROTO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'protos');

class CheckFailed extends Error {}

function check(condition, what) {
  if (!condition) throw new CheckFailed(what);
}

let passed = 0;
function ok(what) {
  passed++;
  console.log(`ok   ${what}`);
}

function parseAddress(argv, env) {
  const raw = argv[2] ?? env.MOCKSERVE_ADDRESS;
  if (!raw) {
    console.error('usage: node triton.mjs 127.0.0.1:PORT   (or set MOCKSERVE_ADDRESS)');
    process.exit(2);
  }
  return raw.replace(/^https?:\/\//, '').replace(/\/+$/, '');
}

function loadClients(address) {
  // grpc_service.proto imports "inference/model_config.proto", so the include directory is the protos/ root.
  const options = {
    includeDirs: [PROTO_ROOT],
    keepCase: true, // field names as in the .proto (raw_input_contents, triton_final_response)
    longs: Number, // int64/uint64 here are counts, nanoseconds and epoch milliseconds: all below 2^53
    enums: String,
    defaults: true, // unset scalars read as 0 and repeated as []; oneof members stay absent, so presence shows
    oneofs: true, // InferParameter.parameter_choice names the member that is set
  };
  const triton = grpc.loadPackageDefinition(protoLoader.loadSync('inference/grpc_service.proto', options));
  const mockserve = grpc.loadPackageDefinition(protoLoader.loadSync('mockserve/v1/inference_service.proto', options));
  const credentials = grpc.credentials.createInsecure();
  return {
    triton: new triton.inference.GRPCInferenceService(address, credentials),
    mockserve: new mockserve.mockserve.v1.InferenceService(address, credentials),
  };
}

const deadlineIn = (ms) => ({ deadline: new Date(Date.now() + ms) });

function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, deadlineIn(UNARY_MS), (error, response) => (error ? reject(error) : resolve(response)));
  });
}

// --- The tensor encodings of the KServe v2 protocol ---------------------------------------------------------------

// A BYTES element: a 4-byte little-endian length, then that many bytes.
function bytesElement(text) {
  const utf8 = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(utf8.length);
  return Buffer.concat([length, utf8]);
}

// The one BYTES element of a raw output tensor, as text; throws when the buffer is not exactly one element.
function decodeBytesElement(buffer, what) {
  check(Buffer.isBuffer(buffer) && buffer.length >= 4, `${what}: ${buffer?.length ?? 0} bytes, not a BYTES element (4-byte length first)`);
  const length = buffer.readUInt32LE(0);
  check(length === buffer.length - 4, `${what}: BYTES element says ${length} bytes but ${buffer.length - 4} follow the length`);
  return buffer.subarray(4).toString('utf8');
}

const boolRaw = (value) => Buffer.from([value ? 1 : 0]);
function int32Raw(value) {
  const b = Buffer.alloc(4);
  b.writeInt32LE(value);
  return b;
}

// A ModelInferRequest. `inputs` is a list of [name, datatype, value] with value a string (BYTES), boolean (BOOL) or
// number (INT32); raw: true puts every value in raw_input_contents, raw: false in each input's contents.
function inferRequest({ model, id, inputs, parameters = {}, raw = true }) {
  const request = { model_name: model, id, parameters, inputs: [], raw_input_contents: [] };
  for (const [name, datatype, value] of inputs) {
    const input = { name, datatype, shape: [1] };
    if (raw) {
      request.raw_input_contents.push(datatype === 'BYTES' ? bytesElement(value) : datatype === 'BOOL' ? boolRaw(value) : int32Raw(value));
    } else {
      input.contents = datatype === 'BYTES' ? { bytes_contents: [Buffer.from(value, 'utf8')] }
        : datatype === 'BOOL' ? { bool_contents: [value] } : { int_contents: [value] };
    }
    request.inputs.push(input);
  }
  return request;
}

// The vLLM backend's inputs: text_input, stream, sampling_parameters (JSON) and, when given, exclude_input_in_output.
function vllmRequest({ model, id, prompt, stream = true, sampling = { max_tokens: 8, ignore_eos: true }, exclude, parameters }) {
  const inputs = [['text_input', 'BYTES', prompt], ['stream', 'BOOL', stream], ['sampling_parameters', 'BYTES', JSON.stringify(sampling)]];
  if (exclude !== undefined) inputs.push(['exclude_input_in_output', 'BOOL', exclude]);
  return inferRequest({ model, id, inputs, parameters });
}

// --- Reading responses --------------------------------------------------------------------------------------------

const param = (response, name) => response.infer_response?.parameters?.[name];
const isFinal = (response) => param(response, 'triton_final_response')?.bool_param === true;

// text_output of one response: outputs names it (BYTES) and raw_output_contents carries its one element.
function textOutput(response, what) {
  const infer = response.infer_response;
  const index = infer.outputs.findIndex((o) => o.name === 'text_output');
  check(index >= 0, `${what}: no text_output among outputs [${infer.outputs.map((o) => o.name).join(', ')}]`);
  check(infer.outputs[index].datatype === 'BYTES', `${what}: text_output datatype ${infer.outputs[index].datatype}, expected BYTES`);
  check(index < infer.raw_output_contents.length, `${what}: text_output is output ${index} but raw_output_contents has ${infer.raw_output_contents.length} entries`);
  return decodeBytesElement(infer.raw_output_contents[index], `${what}: raw_output_contents[${index}]`);
}

// Checks one request's finished responses (no error, ids echoed, triton_final_response on each and true only on
// the last) and returns their text and the last response's usage parameters.
// With emptyFinal the last response must carry no outputs, and the usage parameters are not required (the protocol
// does not say which response carries them then).
function checkFinished(label, id, responses, { emptyFinal = false } = {}) {
  check(responses.length >= 1, `${label}: no response for id ${id}`);
  responses.forEach((r, i) => {
    check(r.error_message === '', `${label}: response ${i} for ${id} has error_message '${r.error_message}'`);
    check(r.infer_response !== null, `${label}: response ${i} for ${id} has no infer_response`);
    check(r.infer_response.id === id, `${label}: response ${i} has id '${r.infer_response.id}', expected '${id}'`);
    const final = param(r, 'triton_final_response');
    check(final !== undefined && final.parameter_choice === 'bool_param',
      `${label}: response ${i} for ${id} lacks the bool parameter triton_final_response (parameters: ${Object.keys(r.infer_response.parameters).join(', ') || 'none'})`);
    check(final.bool_param === (i === responses.length - 1),
      `${label}: response ${i} of ${responses.length} for ${id} has triton_final_response ${final.bool_param}; only the last may be true`);
  });
  const last = responses.at(-1);
  const data = emptyFinal ? responses.slice(0, -1) : responses;
  if (emptyFinal) {
    check(last.infer_response.outputs.length === 0 && last.infer_response.raw_output_contents.length === 0,
      `${label}: the empty final response for ${id} carries ${last.infer_response.outputs.length} output(s)`);
    check(data.length >= 1, `${label}: only the empty final response arrived for ${id}, no data`);
  }
  const text = data.map((r, i) => textOutput(r, `${label}: response ${i} for ${id}`)).join('');
  if (emptyFinal) return { text, responses: responses.length };
  const usage = {};
  for (const name of ['completion_tokens', 'prompt_tokens', 'cached_tokens']) {
    const p = param(last, name);
    check(p?.parameter_choice === 'int64_param', `${label}: the final response for ${id} lacks the int64 parameter ${name} (got ${JSON.stringify(p)})`);
    usage[name] = p.int64_param;
  }
  for (const name of ['cache_state', 'finish_reason']) {
    const p = param(last, name);
    check(p?.parameter_choice === 'string_param', `${label}: the final response for ${id} lacks the string parameter ${name} (got ${JSON.stringify(p)})`);
    usage[name] = p.string_param;
  }
  check(['new', 'hot', 'host', 'miss'].includes(usage.cache_state), `${label}: cache_state '${usage.cache_state}', expected new, hot, host or miss`);
  check(['length', 'stop'].includes(usage.finish_reason), `${label}: finish_reason '${usage.finish_reason}', expected length or stop`);
  check(usage.cached_tokens <= usage.prompt_tokens, `${label}: cached_tokens ${usage.cached_tokens} exceeds prompt_tokens ${usage.prompt_tokens}`);
  return { text, responses: responses.length, ...usage };
}

// One ModelStreamInfer call. Responses are sorted by infer_response.id as they arrive; a request is done at its
// response with triton_final_response true, or at an in-band error. Waits are bounded; a gRPC error on the stream
// fails every wait with the status.
class InferStream {
  constructor(client, label) {
    this.label = label;
    this.byId = new Map();
    this.arrivals = [];
    this.status = null;
    this.wakers = new Set();
    this.call = client.ModelStreamInfer(deadlineIn(STREAM_MS));
    this.call.on('data', (m) => {
      const id = m.infer_response?.id ?? '';
      const entry = this.entry(id);
      if (entry.done) entry.afterDone++;
      entry.responses.push(m);
      this.arrivals.push(id);
      if (m.error_message !== '' || isFinal(m)) entry.done = true;
      this.wake();
    });
    // 'error' carries the same status as 'status'; listening keeps it from being thrown.
    this.call.on('error', () => {});
    this.call.on('status', (s) => {
      this.status = s;
      this.wake();
    });
  }

  entry(id) {
    if (!this.byId.has(id)) this.byId.set(id, { responses: [], done: false, afterDone: 0 });
    return this.byId.get(id);
  }

  wake() {
    for (const w of [...this.wakers]) w();
  }

  write(request) {
    this.call.write(request);
  }

  state() {
    const ids = [...this.byId].map(([id, e]) => `${id || "''"}: ${e.responses.length}${e.done ? ' done' : ''}`);
    return `responses by id {${ids.join(', ')}}`;
  }

  until(predicate, what, ms) {
    return new Promise((resolve, reject) => {
      const done = (error) => {
        clearTimeout(timer);
        this.wakers.delete(poll);
        if (error) reject(error);
        else resolve();
      };
      const poll = () => {
        if (predicate()) done();
        else if (this.status !== null) {
          done(new CheckFailed(`${this.label}: the stream ended with ${grpc.status[this.status.code] ?? this.status.code} `
            + `'${this.status.details}' while waiting for ${what}; ${this.state()}`));
        }
      };
      const timer = setTimeout(() => done(new CheckFailed(`${this.label}: no ${what} within ${ms} ms; ${this.state()}`)), ms);
      this.wakers.add(poll);
      poll();
    });
  }

  // Every response for `id`, once its last has arrived.
  async finished(id, ms = STEP_MS) {
    await this.until(() => this.byId.get(id)?.done === true, `end of request ${id}`, ms);
    return this.byId.get(id).responses;
  }

  // Half-closes and waits for the server to end the stream with OK; then no response may follow a request's last.
  async close(ms = STEP_MS) {
    this.call.end();
    await this.until(() => this.status?.code === grpc.status.OK, 'OK status after the client half-closed', ms);
    for (const [id, e] of this.byId) {
      check(e.afterDone === 0, `${this.label}: ${e.afterDone} response(s) for ${id || "''"} arrived after its final one`);
    }
  }
}

// --- The checks ---------------------------------------------------------------------------------------------------

const PROMPT = 'MockServe interop: describe the colour of the sky over the harbour at dawn, in plain words.';

async function main() {
  const address = parseAddress(process.argv, process.env);
  const { triton, mockserve } = loadClients(address);
  const failures = [];
  let streamSuccesses = 0; // ModelStreamInfer requests that finished without error
  let unarySuccesses = 0; // ModelInfer calls that answered OK
  let model = null;

  const section = async (name, body) => {
    try {
      await body();
    } catch (error) {
      const text = error instanceof CheckFailed ? error.message
        : typeof error?.code === 'number' ? `gRPC ${grpc.status[error.code] ?? error.code} (${error.code}): ${error.details}`
          : String(error?.stack ?? error);
      console.log(`FAIL ${name}: ${text}`);
      failures.push(name);
    }
  };

  // Runs one request alone on a new stream and returns its responses.
  const single = async (label, request, ms = STEP_MS) => {
    const stream = new InferStream(triton, label);
    stream.write(request);
    const responses = await stream.finished(request.id, ms);
    await stream.close();
    return responses;
  };

  await section('a. server and model rpcs', async () => {
    const live = await unary(triton, 'ServerLive', {});
    check(live.live === true, `ServerLive: live ${live.live}`);
    ok('a. ServerLive: live');
    const ready = await unary(triton, 'ServerReady', {});
    check(ready.ready === true, `ServerReady: ready ${ready.ready}`);
    ok('a. ServerReady: ready');
    const meta = await unary(triton, 'ServerMetadata', {});
    check(meta.name === 'mockserve', `ServerMetadata: name '${meta.name}', expected mockserve`);
    ok(`a. ServerMetadata: name ${meta.name}, version ${meta.version}, extensions [${meta.extensions.join(', ')}]`);
    const index = await unary(triton, 'RepositoryIndex', {});
    check(index.models.length === 1, `RepositoryIndex: ${index.models.length} models, expected 1`);
    model = index.models[0].name;
    check(model !== '', 'RepositoryIndex: the model has no name');
    ok(`a. RepositoryIndex: one model, ${model} version ${index.models[0].version} ${index.models[0].state}`);
    const modelReady = await unary(triton, 'ModelReady', { name: model });
    check(modelReady.ready === true, `ModelReady ${model}: ready ${modelReady.ready}`);
    ok(`a. ModelReady ${model}: ready`);
    const md = await unary(triton, 'ModelMetadata', { name: model });
    const has = (list, name) => list.some((t) => t.name === name && t.datatype === 'BYTES');
    check(has(md.inputs, 'text_input'), `ModelMetadata: no BYTES input text_input among [${md.inputs.map((t) => `${t.name} ${t.datatype}`).join(', ')}]`);
    check(has(md.outputs, 'text_output'), `ModelMetadata: no BYTES output text_output among [${md.outputs.map((t) => `${t.name} ${t.datatype}`).join(', ')}]`);
    ok(`a. ModelMetadata: inputs [${md.inputs.map((t) => `${t.name} ${t.datatype}`).join(', ')}], outputs [${md.outputs.map((t) => `${t.name} ${t.datatype}`).join(', ')}]`);
    const { config } = await unary(triton, 'ModelConfig', { name: model });
    check(config?.model_transaction_policy?.decoupled === true, 'ModelConfig: model_transaction_policy.decoupled is not true');
    check(config.backend === 'vllm', `ModelConfig: backend '${config.backend}', expected vllm`);
    ok(`a. ModelConfig: backend ${config.backend}, decoupled, max_batch_size ${config.max_batch_size}`);
  });
  if (model === null) {
    console.log('FAIL the model is unknown, so the inference checks cannot run');
    return failures;
  }

  // Not a lettered check of the streaming contract: unary ModelInfer, served already, proves the request
  // encodings (BYTES, BOOL in raw_input_contents) that the streaming checks below reuse.
  await section('a. ModelInfer (unary)', async () => {
    const response = await unary(triton, 'ModelInfer', vllmRequest({ model, id: 'u1', prompt: PROMPT, stream: false }));
    const text = textOutput({ infer_response: response }, 'ModelInfer');
    check(response.id === 'u1', `ModelInfer: id '${response.id}', expected u1`);
    check(text.startsWith(PROMPT) && text.length > PROMPT.length, `ModelInfer: text_output '${text}' is not the prompt followed by generated text`);
    unarySuccesses++;
    ok(`a. ModelInfer: text_output is the prompt + ${text.length - PROMPT.length} characters`);
  });

  await section('b. ModelStreamInfer, one request', async () => {
    // 200 tokens take several model seconds, tens of wall milliseconds at the CI server's time scale of 0.01: one
    // response would need the reader stalled for all of them (8 tokens once merged into few chunks at that scale).
    const responses = await single('b', vllmRequest({ model, id: 'a1', prompt: PROMPT, sampling: { max_tokens: 200, ignore_eos: true } }));
    const got = checkFinished('b', 'a1', responses);
    streamSuccesses++;
    check(responses.length >= 2, `b: ${responses.length} response(s) for 200 streamed tokens, expected several`);
    check(got.text.length > 0, 'b: the concatenated text_output is empty');
    check(!got.text.startsWith(PROMPT), 'b: text_output repeats the prompt while streaming; it must carry only new tokens');
    check(got.completion_tokens === 200, `b: completion_tokens ${got.completion_tokens}, expected max_tokens 200 (ignore_eos)`);
    check(got.finish_reason === 'length', `b: finish_reason ${got.finish_reason}, expected length (max_tokens reached, ignore_eos)`);
    check(got.prompt_tokens > 0, `b: prompt_tokens ${got.prompt_tokens}, expected > 0`);
    ok(`b. a1: ${got.responses} responses, final flag only on the last, ${JSON.stringify(got.text.slice(0, 40))}..., `
      + `completion ${got.completion_tokens}, prompt ${got.prompt_tokens}, cached ${got.cached_tokens}, ${got.cache_state}, ${got.finish_reason}`);
  });

  await section('c. two requests interleaved on one stream', async () => {
    const stream = new InferStream(triton, 'c');
    stream.write(vllmRequest({ model, id: 'b1', prompt: `${PROMPT} First.` }));
    stream.write(vllmRequest({ model, id: 'b2', prompt: `${PROMPT} Second.` }));
    const [r1, r2] = await Promise.all([stream.finished('b1'), stream.finished('b2')]);
    const order = stream.arrivals.filter((id) => id === 'b1' || id === 'b2').join(' ');
    await stream.close();
    const g1 = checkFinished('c', 'b1', r1);
    const g2 = checkFinished('c', 'b2', r2);
    streamSuccesses += 2;
    check(g1.completion_tokens === 8 && g2.completion_tokens === 8, `c: completion_tokens ${g1.completion_tokens} and ${g2.completion_tokens}, expected 8 each`);
    ok(`c. b1 ${r1.length} and b2 ${r2.length} responses, each ending with its own final; arrival order ${order}`);
  });

  await section('d. triton_enable_empty_final_response', async () => {
    const request = vllmRequest({ model, id: 'd1', prompt: PROMPT, parameters: { triton_enable_empty_final_response: { bool_param: true } } });
    const responses = await single('d', request);
    const got = checkFinished('d', 'd1', responses, { emptyFinal: true });
    streamSuccesses++;
    check(got.text.length > 0, 'd: the data responses carry no text');
    ok(`d. d1: ${responses.length - 1} data response(s) with final false, then an empty final response`);
  });

  await section('e. stream false on ModelStreamInfer', async () => {
    const stream = new InferStream(triton, 'e');
    stream.write(vllmRequest({ model, id: 'e1', prompt: PROMPT, stream: false }));
    stream.write(vllmRequest({ model, id: 'e2', prompt: PROMPT, stream: false, exclude: true }));
    const [r1, r2] = await Promise.all([stream.finished('e1'), stream.finished('e2')]);
    await stream.close(); // after the half-close, nothing more can arrive for e1 or e2
    check(r1.length === 1, `e: ${r1.length} responses for e1, expected exactly one with stream false`);
    check(r2.length === 1, `e: ${r2.length} responses for e2, expected exactly one with stream false`);
    const g1 = checkFinished('e', 'e1', r1);
    const g2 = checkFinished('e', 'e2', r2);
    streamSuccesses += 2;
    check(g1.text.startsWith(PROMPT) && g1.text.length > PROMPT.length, `e: e1 text_output '${g1.text}' is not the prompt followed by generated text`);
    check(g2.text.length > 0 && !g2.text.startsWith(PROMPT), `e: e2 (exclude_input_in_output true) text_output '${g2.text}' is not just the generated text`);
    ok(`e. stream false: one response each; e1 = prompt + ${g1.text.length - PROMPT.length} characters, e2 (exclude_input_in_output) = ${g2.text.length} characters`);
  });

  await section('f. in-band errors keep the stream open', async () => {
    const stream = new InferStream(triton, 'f');
    stream.write(vllmRequest({ model: 'no-such-model', id: 'f1', prompt: PROMPT }));
    const [e1] = await stream.finished('f1');
    check(e1.error_message !== '', 'f: f1 (model no-such-model) got a response without error_message');
    check(e1.error_message.includes('no-such-model'), `f: f1 error_message '${e1.error_message}' does not name the model no-such-model`);
    stream.write(vllmRequest({ model, id: 'f2', prompt: PROMPT }));
    const r2 = await stream.finished('f2');
    checkFinished('f', 'f2', r2);
    streamSuccesses++;
    stream.write(vllmRequest({ model, id: 'f3', prompt: PROMPT, stream: true, exclude: false }));
    const [e3] = await stream.finished('f3');
    check(e3.error_message !== '', 'f: f3 (stream true, exclude_input_in_output false) got a response without error_message');
    await stream.close();
    ok(`f. unknown model -> in-band '${e1.error_message}'; f2 after it completed (${r2.length} responses); `
      + `stream + exclude_input_in_output false -> in-band '${e3.error_message}'; stream closed OK`);
  });

  await section('g. sessions', async () => {
    // Each turn runs on a stream of its own, as a chat client reconnecting between turns would.
    const turn = async (label, id, prompt, parameters) => {
      const got = checkFinished(label, id, await single(label, vllmRequest({ model, id, prompt, parameters })));
      streamSuccesses++;
      return got;
    };
    // A fresh number each run, so a rerun against the same server starts a new session.
    const sequence = 4242_000_000 + Math.floor(Math.random() * 1_000_000);
    const seq = (extra = {}) => ({ sequence_id: { int64_param: sequence }, ...extra });
    const t1 = await turn('g turn 1', 'g1', PROMPT, seq());
    check(t1.cache_state === 'new', `g: turn 1 cache_state '${t1.cache_state}', expected new`);
    const prompt2 = `${PROMPT}${t1.text} Now say it again, shorter.`;
    const t2 = await turn('g turn 2', 'g2', prompt2, seq());
    check(t2.cache_state === 'hot', `g: turn 2 (same sequence_id, new stream) cache_state '${t2.cache_state}', expected hot`);
    check(t2.cached_tokens > 0, `g: turn 2 cached_tokens ${t2.cached_tokens}, expected > 0`);
    ok(`g. sequence_id ${sequence}: turn 1 ${t1.cache_state}; turn 2 on a new stream ${t2.cache_state}, ${t2.cached_tokens}/${t2.prompt_tokens} cached`);

    const prompt3 = `${prompt2}${t2.text} Thank you.`;
    const t3 = await turn('g turn 3', 'g3', prompt3, seq({ sequence_end: { bool_param: true } }));
    check(t3.cache_state === 'hot', `g: turn 3 cache_state '${t3.cache_state}', expected hot`);
    const t4 = await turn('g turn 4', 'g4', prompt3, seq({ sequence_end: { bool_param: true } }));
    check(t4.cache_state === 'new', `g: turn 4, after a turn with sequence_end true, cache_state '${t4.cache_state}', expected new`);
    ok(`g. sequence_end true closed the session: the next turn was ${t4.cache_state}`);

    const session = `interop-${randomUUID()}`;
    const s1 = await turn('g session 1', 'g5', PROMPT, { session_id: { string_param: session } });
    const s2 = await turn('g session 2', 'g6', `${PROMPT}${s1.text} Go on.`, { session_id: { string_param: session }, sequence_end: { bool_param: true } });
    check(s1.cache_state === 'new', `g: session_id turn 1 cache_state '${s1.cache_state}', expected new`);
    check(s2.cache_state === 'hot' && s2.cached_tokens > 0, `g: session_id turn 2 cache_state '${s2.cache_state}', cached ${s2.cached_tokens}; expected hot and > 0`);
    ok(`g. session_id (string): turn 1 ${s1.cache_state}, turn 2 ${s2.cache_state} with ${s2.cached_tokens} cached`);
  });

  await section('h. TensorRT-LLM style inputs', async () => {
    const maxTokens = 6;
    for (const raw of [true, false]) {
      const id = raw ? 'h1' : 'h2';
      const request = inferRequest({
        model, id, raw,
        inputs: [['text_input', 'BYTES', PROMPT], ['max_tokens', 'INT32', maxTokens], ['stream', 'BOOL', true]],
      });
      const got = checkFinished('h', id, await single('h', request));
      streamSuccesses++;
      check(got.completion_tokens >= 1 && got.completion_tokens <= maxTokens, `h: ${id} completion_tokens ${got.completion_tokens}, expected 1..${maxTokens}`);
      ok(`h. ${raw ? 'raw_input_contents' : 'contents (bytes/int/bool)'}: text_input + max_tokens INT32 ${maxTokens} + stream -> ${got.completion_tokens} tokens, ${got.finish_reason}`);
    }
  });

  await section('i. ModelStatistics', async () => {
    const successes = streamSuccesses + unarySuccesses;
    const response = await unary(triton, 'ModelStatistics', { name: model });
    check(response.model_stats.length >= 1, 'i: model_stats is empty');
    const s = response.model_stats[0];
    check(s.name === model && s.version === '1', `i: model_stats[0] is ${s.name} version '${s.version}', expected ${model} version 1`);
    const made = `${successes} (${streamSuccesses} streamed + ${unarySuccesses} ModelInfer) made by this script`;
    check(s.inference_count >= successes, `i: inference_count ${s.inference_count}, expected >= ${made}`);
    check(s.execution_count >= successes, `i: execution_count ${s.execution_count}, expected >= ${made}`);
    const st = s.inference_stats;
    check(st !== null && st.success !== null, 'i: inference_stats.success is missing');
    check(st.success.count >= successes, `i: success.count ${st.success.count}, expected >= ${made}`);
    check(st.success.ns > 0, `i: success.ns ${st.success.ns}, expected > 0`);
    for (const part of ['queue', 'compute_input', 'compute_infer']) {
      check(st[part]?.count === st.success.count, `i: ${part}.count ${st[part]?.count}, expected success.count ${st.success.count}`);
    }
    const age = Date.now() - s.last_inference;
    check(s.last_inference > 0 && Math.abs(age) < 86_400_000, `i: last_inference ${s.last_inference} is not milliseconds since the epoch within a day of now (${Date.now()})`);
    check(st.fail?.count >= 1, `i: fail.count ${st.fail?.count}, expected >= 1 (f's exclude_input_in_output error reached the model)`);
    ok(`i. ${model} v${s.version}: inference ${s.inference_count}, execution ${s.execution_count}, success ${st.success.count} `
      + `(${(st.success.ns / 1e6).toFixed(1)} ms), fail ${st.fail.count}, last_inference ${Math.round(age / 1000)} s ago`);
  });

  await section('j. a cancelled stream gives its KV back', async () => {
    const info = () => unary(mockserve, 'GetServerInfo', {});
    const before = await info();
    const baseline = before.pool.hbm_kv_bytes_used;
    const cancelledBefore = await cancelledCount(address, before.metrics_port);

    const call = triton.ModelStreamInfer(deadlineIn(STREAM_MS));
    let ended = null;
    const first = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new CheckFailed(`j: no response within ${STEP_MS} ms`)), STEP_MS);
      call.on('data', (m) => { clearTimeout(timer); resolve(m); });
      call.on('error', (e) => { ended = e; clearTimeout(timer); reject(e); });
    });
    call.write(vllmRequest({ model, id: 'j1', prompt: PROMPT, sampling: { max_tokens: 2000, ignore_eos: true } }));
    const m = await first;
    check(m.error_message === '' && !isFinal(m), `j: the first response is already the last or an error ('${m.error_message}')`);
    const during = await info();
    call.cancel();
    check(during.pool.hbm_kv_bytes_used > baseline, `j: hbm_kv_bytes_used ${during.pool.hbm_kv_bytes_used} while streaming, expected above the ${baseline} before it`);

    let now = during;
    const until = Date.now() + 5_000;
    while (Date.now() < until) {
      now = await info();
      if (now.pool.hbm_kv_bytes_used <= baseline && now.pool.requests_running === 0 && now.pool.requests_waiting === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    check(now.pool.hbm_kv_bytes_used <= baseline, `j: hbm_kv_bytes_used ${now.pool.hbm_kv_bytes_used} 5 s after the cancel, expected back to ${baseline}`);
    check(now.pool.requests_running === 0, `j: ${now.pool.requests_running} request(s) still running 5 s after the cancel`);
    check(ended === null || ended.code === grpc.status.CANCELLED, `j: the call ended ${grpc.status[ended?.code]} '${ended?.details}', expected CANCELLED by the client`);
    // At --time-scale 0.01, 2000 tokens last about a wall second, so the KV would come back without the cancel;
    // the engine's own count of cancelled requests shows the cancel reached it.
    let detail = 'metrics port unknown: cancel count not checked';
    if (cancelledBefore !== null) {
      let cancelled = cancelledBefore;
      const waitUntil = Date.now() + 5_000;
      while (cancelled <= cancelledBefore && Date.now() < waitUntil) {
        cancelled = await cancelledCount(address, before.metrics_port);
        if (cancelled <= cancelledBefore) await new Promise((r) => setTimeout(r, 100));
      }
      check(cancelled > cancelledBefore, `j: mockserve_requests_total{outcome="cancelled"} stayed ${cancelledBefore}; the cancel did not reach the engine`);
      detail = `mockserve_requests_total{outcome="cancelled"} ${cancelledBefore} -> ${cancelled}`;
    }
    ok(`j. after one response and call.cancel(): KV ${during.pool.hbm_kv_bytes_used} -> ${now.pool.hbm_kv_bytes_used} bytes (before: ${baseline}), ${detail}`);
  });

  triton.close();
  mockserve.close();
  return failures;
}

// The server's count of cancelled requests from its Prometheus text, or null without a metrics port.
async function cancelledCount(address, metricsPort) {
  if (!metricsPort) return null;
  const host = address.slice(0, address.lastIndexOf(':'));
  const response = await fetch(`http://${host}:${metricsPort}/metrics`, { signal: AbortSignal.timeout(UNARY_MS) });
  check(response.status === 200, `j: GET /metrics on port ${metricsPort} -> HTTP ${response.status}`);
  const line = (await response.text()).split('\n').find((l) => l.startsWith('mockserve_requests_total{outcome="cancelled"} '));
  check(line !== undefined, 'j: the metrics have no mockserve_requests_total{outcome="cancelled"}');
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

const bound = setTimeout(() => {
  console.error(`triton interop FAILED: not finished within ${SCRIPT_MS / 1000} s`);
  process.exit(1);
}, SCRIPT_MS);

main().then((failures) => {
  clearTimeout(bound);
  if (failures.length > 0) {
    console.error(`triton interop FAILED: ${passed} checks passed; failed: ${failures.join('; ')}`);
    process.exit(1);
  }
  console.log(`triton interop OK: ${passed} checks passed`);
  process.exit(0);
}, (error) => {
  console.error('triton interop FAILED:', error);
  process.exit(1);
});
