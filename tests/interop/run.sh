#!/usr/bin/env bash
# Interop checks against a running MockServe: buf lints the contract, buf curl talks to the server through
# reflection only (no local schema), client.mjs runs the Generate contract with grpc-js, and triton.mjs runs
# Triton's inference.GRPCInferenceService with grpc-js.
# Usage: tests/interop/run.sh 127.0.0.1:PORT [127.0.0.1:METRICS_PORT]   (after `npm ci` in tests/interop)
# With the second address it also reads the Prometheus text the calls above must have moved.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
address="${1:-${MOCKSERVE_ADDRESS:-}}"
address="${address#http://}"
metrics="${2:-${MOCKSERVE_METRICS_ADDRESS:-}}"
metrics="${metrics#http://}"
if [ -z "$address" ]; then
  echo "usage: $0 127.0.0.1:PORT" >&2
  exit 2
fi
url="http://$address"
buf="$here/node_modules/.bin/buf"
if [ ! -x "$buf" ]; then
  echo "missing $buf: run 'npm ci' in tests/interop first" >&2
  exit 1
fi

# gRPC over h2c: --protocol grpc needs HTTP/2, and the server speaks it without TLS (prior knowledge).
# Every call is bounded so a hung server fails the run instead of stalling it.
curl_flags=(--protocol grpc --http2-prior-knowledge --connect-timeout 5 --timeout 30s)

errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT

step() { echo "== $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

# Runs buf curl and prints its stdout; on failure names the gRPC status (buf exits with code << 3).
bufcurl() {
  local out rc=0
  out="$("$buf" curl "${curl_flags[@]}" "$@" 2>"$errors")" || rc=$?
  if [ "$rc" -ge 8 ]; then
    fail "buf curl $* -> gRPC status $((rc >> 3)): $(cat "$errors") $out"
  elif [ "$rc" -ne 0 ]; then
    fail "buf curl $* -> exit $rc: $(cat "$errors") $out"
  fi
  printf '%s\n' "$out"
}

# Evaluates a JS check over buf curl's output on stdin (a here-string, so a failed buf curl stops the script first): `docs` holds every JSON document (a stream prints one
# per message). The check prints its summary, or throws and exits non-zero.
jscheck() {
  node --input-type=module -e '
    const text = await new Promise((resolve) => { let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => resolve(s)); });
    const docs = [];
    let depth = 0, start = -1, inString = false, escaped = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (inString) { if (escaped) escaped = false; else if (c === "\\") escaped = true; else if (c === "\"") inString = false; continue; }
      if (c === "\"") inString = true;
      else if (c === "{") { if (depth++ === 0) start = i; }
      else if (c === "}" && --depth === 0) docs.push(JSON.parse(text.slice(start, i + 1)));
    }
    const check = (ok, what) => { if (!ok) { console.error("FAILED: " + what); console.error(text); process.exit(1); } };
    '"$1"
}

step "buf lint protos/ (STANDARD + COMMENTS)"
"$buf" lint "$root/protos" || fail "buf lint found problems in protos/"
echo "lint clean"

step "reflection lists the services (v1 and v1alpha)"
for protocol in grpc-v1 grpc-v1alpha; do
  services="$(bufcurl --reflect-protocol "$protocol" --list-services "$url")"
  for want in mockserve.v1.InferenceService inference.GRPCInferenceService grpc.health.v1.Health; do
    grep -qx "$want" <<<"$services" || fail "$protocol reflection does not list $want; it lists: $(tr '\n' ' ' <<<"$services")"
  done
  echo "$protocol: $(tr '\n' ' ' <<<"$services")"
done

step "reflection lists InferenceService's methods"
methods="$(bufcurl --list-methods "$url")"
for method in Generate Abort CloseSession GetServerInfo Estimate; do
  grep -qx "mockserve.v1.InferenceService/$method" <<<"$methods" \
    || fail "reflection does not list mockserve.v1.InferenceService/$method; it lists: $(tr '\n' ' ' <<<"$methods")"
done
echo "Generate Abort CloseSession GetServerInfo Estimate listed"

step "health: liveness (service \"\") and readiness (mockserve.v1.InferenceService) are SERVING"
for service in "" mockserve.v1.InferenceService; do
  out="$(bufcurl -d "{\"service\":\"$service\"}" "$url/grpc.health.v1.Health/Check")"
  jscheck "
    check(docs.length === 1 && docs[0].status === 'SERVING', 'Health/Check service \"$service\" is not SERVING');
    console.log('\"$service\": SERVING');" <<<"$out"
done

step "Generate streams 5 tokens and a complete message (schema from reflection)"
out="$(bufcurl -d '{"prompt_tokens": 200, "max_tokens": 5, "ignore_eos": true}' "$url/mockserve.v1.InferenceService/Generate")"
jscheck '
  check(docs.length >= 2, `expected chunks and a complete, got ${docs.length} message(s)`);
  const last = docs.at(-1), chunks = docs.slice(0, -1);
  check(last.complete !== undefined, "the last message is not a complete");
  check(chunks.every((m) => m.chunk !== undefined), "a message before the last is not a chunk");
  // protojson names fields in lowerCamelCase and writes int64 as strings.
  const tokens = chunks.reduce((n, m) => n + (m.chunk.tokenIds ?? []).length, 0);
  check(tokens === 5, `token ids across chunks sum to ${tokens}, expected 5`);
  check(last.complete.finishReason === "FINISH_REASON_LENGTH", `finish reason ${last.complete.finishReason}, expected FINISH_REASON_LENGTH`);
  check(Number(last.complete.usage?.completionTokens) === 5, `usage.completionTokens ${last.complete.usage?.completionTokens}, expected 5`);
  check(Number(last.complete.usage?.promptTokens) === 200, `usage.promptTokens ${last.complete.usage?.promptTokens}, expected 200`);
  console.log(`${tokens} tokens in ${chunks.length} chunk(s), then complete (${last.complete.finishReason}), model TTFT ${last.complete.timing?.timeToFirstToken}`);' <<<"$out"

step "GetServerInfo answers through reflection"
out="$(bufcurl -d '{}' "$url/mockserve.v1.InferenceService/GetServerInfo")"
jscheck '
  check(docs.length === 1, `expected one response, got ${docs.length}`);
  const info = docs[0];
  check(info.model?.id, "model.id is empty");
  check(info.gpu?.id, "gpu.id is empty");
  check(Number(info.capacity?.kvCapacityTokens) > 0, `capacity.kvCapacityTokens ${info.capacity?.kvCapacityTokens}, expected > 0`);
  console.log(`${info.model.id} on ${info.tensorParallel ?? 1} x ${info.gpu.id}, ${info.capacity.kvCapacityTokens} KV tokens, time scale ${info.timeScale}, version ${info.version}`);' <<<"$out"

step "Triton / KServe v2: the model is ready and its config, read through reflection, is decoupled"
model="$(bufcurl -d '{}' "$url/inference.GRPCInferenceService/RepositoryIndex")"
model="$(jscheck '
  check(docs.length === 1 && docs[0].models?.length === 1, "RepositoryIndex does not list one model");
  console.log(docs[0].models[0].name);' <<<"$model")"
out="$(bufcurl -d "{\"name\":\"$model\"}" "$url/inference.GRPCInferenceService/ModelReady")"
jscheck 'check(docs.length === 1 && docs[0].ready === true, "ModelReady is not true");' <<<"$out"
out="$(bufcurl -d "{\"name\":\"$model\"}" "$url/inference.GRPCInferenceService/ModelConfig")"
jscheck '
  const config = docs[0]?.config;
  check(config?.modelTransactionPolicy?.decoupled === true, "ModelConfig is not decoupled");
  check(config.backend === "vllm", `backend ${config.backend}, expected vllm`);
  console.log(`${config.name}: backend ${config.backend}, decoupled, inputs ${config.input.map((i) => i.name).join(" ")}`);' <<<"$out"

step "reflection lists GRPCInferenceService's methods"
# --list-methods takes the base URL and lists every service's methods; keep the Triton ones.
methods="$(bufcurl --list-methods "$url")"
for method in ModelInfer ModelStreamInfer ModelStatistics ModelConfig ModelMetadata ServerLive; do
  grep -qx "inference.GRPCInferenceService/$method" <<<"$methods" \
    || fail "reflection does not list inference.GRPCInferenceService/$method; it lists: $(tr '\n' ' ' <<<"$methods")"
done
echo "ModelInfer ModelStreamInfer ModelStatistics ModelConfig ModelMetadata ServerLive listed"

step "grpc-js Triton client: ModelStreamInfer (decoupled), in-band errors, sessions, statistics, cancel"
node "$here/triton.mjs" "$address" || fail "triton.mjs failed"

step "grpc-js client: Generate contract, session reuse, INVALID_ARGUMENT"
node "$here/client.mjs" "$address" || fail "client.mjs failed"

if [ -n "$metrics" ]; then
  step "Prometheus text at http://$metrics/metrics counts the tokens generated above"
  METRICS_URL="http://$metrics/metrics" node --input-type=module -e '
    const fail = (what) => { console.error("FAILED: " + what); process.exit(1); };
    const response = await fetch(process.env.METRICS_URL, { signal: AbortSignal.timeout(10_000) });
    if (response.status !== 200) fail(`GET ${process.env.METRICS_URL} -> HTTP ${response.status}`);
    const type = response.headers.get("content-type") ?? "";
    if (!type.startsWith("text/plain")) fail(`content-type "${type}", expected text/plain (Prometheus text format)`);
    const text = await response.text();
    // Sums every labelled series of one metric.
    const total = (name) => text.split("\n")
      .filter((line) => line.startsWith(name + " ") || line.startsWith(name + "{"))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
    // This script alone generated 5 (buf curl) + 20 + 20 (client.mjs) tokens in 3 finished requests.
    const tokens = total("mockserve_generation_tokens_total");
    if (!(tokens >= 45)) fail(`mockserve_generation_tokens_total ${tokens}, expected at least 5 + 20 + 20 = 45`);
    const finished = total("mockserve_requests_total{outcome=\"finished\"}");
    if (!(finished >= 3)) fail(`mockserve_requests_total{outcome="finished"} ${finished}, expected at least 3`);
    console.log(`${tokens} tokens generated, ${finished} requests finished`);'
fi

echo "interop checks passed against $address"
