#!/usr/bin/env node
// Opens a mockserve-load report.html in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// and checks that a reader would see it whole: every chart image decoded, at least as many images as the report
// has charts, no console error, no page error, no failed request, and no request leaving the file (the report is
// meant to be self-contained: charts as data: URLs, no script, no external resource).
//
// Usage: node render.mjs REPORT.html [--min-charts N] [--screenshot OUT.png [--width PX] [--max-height PX]]
//   --min-charts N   the report must have at least N charts (CI passes the built-in six of ReportCharts.Draw);
//                    without it, the floor is the number of <img> tags in the file's source.
//   --screenshot     writes a full-page PNG, at a viewport --width wide (default 1200), cropped to --max-height.
// Prints a line per check; exits 0 when all pass, 1 naming each broken check, 2 on bad arguments.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TIMEOUT_MS = 30_000;

function usage(message) {
  if (message) console.error(`render.mjs: ${message}`);
  console.error('usage: node render.mjs REPORT.html [--min-charts N] [--screenshot OUT.png [--width PX] [--max-height PX]]');
  process.exit(2);
}

function positiveInt(flag, raw) {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) usage(`${flag} wants a whole number above 0, got '${raw}'`);
  return value;
}

function parseArgs(argv) {
  const options = { report: undefined, minCharts: undefined, screenshot: undefined, width: 1200, maxHeight: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${arg} wants a value`));
    if (arg === '--screenshot') options.screenshot = resolve(value());
    else if (arg === '--min-charts') options.minCharts = positiveInt(arg, value());
    else if (arg === '--width') options.width = positiveInt(arg, value());
    else if (arg === '--max-height') options.maxHeight = positiveInt(arg, value());
    else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else if (options.report === undefined) options.report = resolve(arg);
    else usage(`one report at a time, got a second: ${arg}`);
  }
  if (options.report === undefined) usage('no REPORT.html given');
  return options;
}

const options = parseArgs(process.argv.slice(2));
let source;
try {
  source = await readFile(options.report, 'utf8');
} catch (error) {
  console.error(`render.mjs: cannot read ${options.report}: ${error.message}`);
  process.exit(2);
}

// The charts as written: one <img> per chart (HtmlReport.cs). Chromium must show at least these many, and at
// least --min-charts, so a report that lost its charts before being written fails too.
const written = (source.match(/<img\b/gi) ?? []).length;
const charts = Math.max(written, options.minCharts ?? 0);

const consoleErrors = [];
const pageErrors = [];
const failedRequests = [];
const outsideRequests = [];

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking'],
  timeout: TIMEOUT_MS,
});
const results = [];
try {
  const page = await browser.newPage({ viewport: { width: options.width, height: 900 } });
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('requestfailed', (request) =>
    failedRequests.push(`${request.url().slice(0, 80)}: ${request.failure()?.errorText ?? 'failed'}`));
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith('file:') && !url.startsWith('data:')) outsideRequests.push(url.slice(0, 120));
  });

  const response = await page.goto(pathToFileURL(options.report).href, { waitUntil: 'load' });
  // Decoding can trail the load event; decode() settles every image either way (a broken one rejects).
  const images = await page.evaluate(async () => {
    const all = [...document.images];
    await Promise.allSettled(all.map((img) => img.decode()));
    return all.map((img) => ({
      alt: img.alt,
      loaded: img.complete && img.naturalWidth > 0,
      width: img.naturalWidth,
      height: img.naturalHeight,
    }));
  });
  const title = await page.title();

  const broken = images.filter((img) => !img.loaded);
  const sizes = [...new Set(images.map((img) => `${img.width}x${img.height}`))].join(', ');
  results.push(
    [response === null || response.ok(), `loaded ${options.report} ("${title}")`],
    [broken.length === 0, broken.length === 0
      ? `all ${images.length} images loaded (complete, naturalWidth > 0; ${sizes || 'none'})`
      : `${broken.length} of ${images.length} images did not load: ${broken.map((img) => img.alt || '(no alt)').join('; ')}`],
    [images.length >= charts, `${images.length} images for ${charts} charts`
      + ` (${written} <img> in the file${options.minCharts ? `, --min-charts ${options.minCharts}` : ''})`],
    [consoleErrors.length === 0, consoleErrors.length === 0
      ? 'no console error'
      : `${consoleErrors.length} console errors: ${consoleErrors.join(' | ')}`],
    [pageErrors.length === 0, pageErrors.length === 0
      ? 'no page error'
      : `${pageErrors.length} page errors: ${pageErrors.join(' | ')}`],
    [failedRequests.length === 0, failedRequests.length === 0
      ? 'no failed request'
      : `${failedRequests.length} failed requests: ${failedRequests.join(' | ')}`],
    [outsideRequests.length === 0, outsideRequests.length === 0
      ? 'no request outside the file (self-contained)'
      : `${outsideRequests.length} requests outside the file: ${outsideRequests.join(' | ')}`],
  );

  if (options.screenshot) {
    const full = await page.evaluate(() => ({
      width: document.documentElement.scrollWidth,
      height: document.documentElement.scrollHeight,
    }));
    const height = Math.min(full.height, options.maxHeight ?? full.height);
    await page.screenshot({
      path: options.screenshot,
      fullPage: true,
      clip: { x: 0, y: 0, width: Math.min(full.width, options.width), height },
    });
    console.log(`wrote ${options.screenshot} (${Math.min(full.width, options.width)}x${height} of a ${full.width}x${full.height} page)`);
  }
} finally {
  await browser.close();
}

let failed = 0;
for (const [ok, line] of results) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${line}`);
  if (!ok) failed++;
}
if (failed > 0) {
  console.error(`report-render: ${failed} of ${results.length} checks failed`);
  process.exit(1);
}
console.log(`report-render: all ${results.length} checks passed`);
