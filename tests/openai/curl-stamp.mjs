#!/usr/bin/env node
// Runs `curl -sS -N` (--no-buffer) on a streamed completion and timestamps each `data:` line as curl writes it.
// Node starts curl itself, so no line waits in a pipe for a reader that is still starting. Checks the lines arrived
// over time, not at once: the first and the last at least MIN_GAP_MS apart. Prints one line; exits 1 otherwise.
// Usage: node curl-stamp.mjs MIN_GAP_MS URL JSON_BODY
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

const [minGapMs, url, body] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
const curl = spawn('curl', ['-sS', '-N', '--max-time', '30', url, '-H', 'content-type: application/json', '-d', body],
  { stdio: ['ignore', 'pipe', 'inherit'] });
const exited = new Promise((resolve) => curl.on('close', resolve));
const stamps = [];
let done = false;
for await (const line of createInterface({ input: curl.stdout })) {
  if (!line.startsWith('data: ')) continue;
  stamps.push(performance.now());
  if (line === 'data: [DONE]') done = true;
}
const code = await exited;
const spread = stamps.length ? stamps.at(-1) - stamps[0] : 0;
const summary = `${stamps.length} data: lines, first to last ${spread.toFixed(1)} ms (at least ${minGapMs} ms required), [DONE] ${done ? 'seen' : 'missing'}, curl exit ${code}`;
if (code !== 0 || !done || stamps.length < 3 || !(spread >= minGapMs)) {
  console.error(`FAILED: curl -N: ${summary}`);
  process.exit(1);
}
console.log(`curl -N: ${summary}`);
