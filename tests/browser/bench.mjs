// Browser benchmark: the shared core and the console in headless Chromium.
//
//   node tests/browser/bench.mjs [incidents] [repetitions]
//
// 1. Serves the built web folder from the real server and opens bench.html,
//    the core benchmark compiled to WebAssembly, and prints its figures.
// 2. Writes the same synthetic incidents as a snapshot file with the native
//    core benchmark, opens it in the console through "Open snapshot", and
//    prints frame times while the queue scrolls and while filters change.
//
// Frame times are the intervals between animation frames, measured by the
// page, so they include the console's work and the drawing. Figures only:
// nothing here passes or fails on speed.

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ReclaimServer, makeDataDir, repoRoot } from './lib/server.mjs';
import { Console, launchBrowser } from './lib/console.mjs';

const incidents = Number(process.argv[2] || 1000000);
const repetitions = Number(process.argv[3] || 21);
const nativeBench = process.env.RECLAIM_CORE_BENCH ||
  path.join(repoRoot, 'build/native/bench/reclaim_core_bench');

function describe(intervals) {
  const sorted = [...intervals].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms, ` +
    `max ${sorted[sorted.length - 1].toFixed(1)} ms over ${sorted.length} frames`;
}

// Starts recording the intervals between animation frames in the page.
function startFrameLog(page) {
  return page.evaluate(() => {
    window.benchFrames = [];
    let last = performance.now();
    window.benchFramesOn = true;
    const step = (now) => {
      window.benchFrames.push(now - last);
      last = now;
      if (window.benchFramesOn) requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
}

function stopFrameLog(page) {
  return page.evaluate(() => {
    window.benchFramesOn = false;
    return window.benchFrames.slice(1);
  });
}

async function coreFigures(browser, server) {
  const page = await browser.newPage();
  page.on('crash', () => console.error('the benchmark page crashed'));
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(`${server.url}/bench.html?incidents=${incidents}&repetitions=${repetitions}`);
  await page.waitForFunction(() => window.benchDone, null, { timeout: 600000 });
  const { lines, done } = await page.evaluate(() => ({ lines: window.benchLines, done: window.benchDone }));
  console.log('== shared core in the browser (WebAssembly)');
  for (const line of lines) console.log(line);
  await page.close();
  if (done.status !== 0) throw new Error(`bench.html exited with ${done.status}`);
}

async function consoleFigures(browser, server, snapshotFile) {
  const ui = await Console.open(browser, server.url, { width: 1400, height: 900 });
  console.log(`== console with ${incidents} incidents from a snapshot file`);
  // Drawing alone, with an empty queue: in headless Chromium, WebGL runs on
  // SwiftShader, a CPU renderer, so this is the floor under every figure.
  await startFrameLog(ui.page);
  await ui.page.waitForTimeout(2000);
  console.log(`frame time, empty console, idle  ${describe(await stopFrameLog(ui.page))}`);
  const loadStart = Date.now();
  const [chooser] = await Promise.all([
    ui.page.waitForEvent('filechooser'),
    ui.click('snapshot.open'),
  ]);
  await chooser.setFiles(snapshotFile);
  await ui.waitFor('the snapshot to load', (s) => s.incidentCount === incidents, 900000);
  console.log(`open snapshot (${fs.statSync(snapshotFile).size} bytes)  ${Date.now() - loadStart} ms`);

  await startFrameLog(ui.page);
  await ui.page.waitForTimeout(2000);
  console.log(`frame time, loaded, idle         ${describe(await stopFrameLog(ui.page))}`);

  // Scrolling: wheel events over the queue, one per frame for 3 seconds.
  const table = await ui.rect('queue.header.Incident ID');
  await ui.page.mouse.move(table.x + 200, table.y + 200);
  await startFrameLog(ui.page);
  const scrollEnd = Date.now() + 3000;
  while (Date.now() < scrollEnd) {
    await ui.page.mouse.wheel(0, 120);
    await ui.frames(1);
  }
  console.log(`frame time while scrolling       ${describe(await stopFrameLog(ui.page))}`);

  // Filter changes: each type toggled off and on again, twice. For each
  // click, the page counts the animation frames until the console's state
  // shows the new match count.
  await startFrameLog(ui.page);
  const toggles = ['Manual', 'Automatic', 'Restore', 'Notify Only', 'MEP Clawback'];
  const framesToAnswer = [];
  for (let round = 0; round < 2; ++round) {
    for (const type of toggles) {
      const r = await ui.rect(`type.${type}`);
      const counting = ui.page.evaluate(() => new Promise((resolve) => {
        const before = window.reclaimTest.state().matchCount;
        let frames = 0;
        const check = () => {
          if (window.reclaimTest.state().matchCount !== before) resolve(frames);
          else if (++frames > 600) resolve(Infinity);
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      }));
      await ui.page.mouse.click(r.x + r.w / 2, r.y + r.h / 2);
      framesToAnswer.push(await counting);
    }
  }
  console.log(`frame time while filtering       ${describe(await stopFrameLog(ui.page))}`);
  console.log(`frames from click to new count   ${framesToAnswer.join(' ')}`);
  await ui.screenshot('bench-console');
  await ui.context.close();
}

const server = await new ReclaimServer(makeDataDir('reclaim-bench-'), ['--no-demo']).start();
const browser = await launchBrowser();
const snapshotFile = path.join(makeDataDir('reclaim-bench-snapshot-'), 'snapshot.json');
try {
  const agent = await (await browser.newPage()).evaluate(() => navigator.userAgent);
  console.log(`browser: ${agent}`);
  await coreFigures(browser, server);
  execFileSync(nativeBench, [String(incidents), '1', snapshotFile], { stdio: 'ignore' });
  await consoleFigures(browser, server, snapshotFile);
} finally {
  fs.rmSync(path.dirname(snapshotFile), { recursive: true, force: true });
  await browser.close();
  await server.stop();
}
