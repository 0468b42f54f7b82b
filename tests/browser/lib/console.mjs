// Drives the Reclaim console in Debian's headless Chromium through
// playwright-core: real mouse and keyboard events at the places the page's
// test hook reports, and its state read back through the same hook.
//
// The hook (`window.reclaimTest`, written by the console) has state(), which
// returns the console's state, and widgets(), which returns the on-screen
// rectangles of named widgets in CSS pixels.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './server.mjs';

export const artefacts = process.env.RECLAIM_ARTEFACTS || path.join(repoRoot, 'tests/browser/artefacts');

const chromiumPath = process.env.RECLAIM_CHROMIUM || '/usr/bin/chromium';

export async function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
    ],
  });
}

export class Console {
  constructor(page) {
    this.page = page;
    this.consoleErrors = [];
    // Errors that a step expects, such as refused connections while the
    // server is deliberately stopped. Each entry is a RegExp.
    this.expectedErrors = [];
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      if (this.expectedErrors.some((re) => re.test(text))) return;
      this.consoleErrors.push(text);
    });
    page.on('pageerror', (error) => this.consoleErrors.push(`page error: ${error.message}`));
  }

  static async open(browser, url, { width = 1400, height = 900 } = {}) {
    const context = await browser.newContext({
      viewport: { width, height },
      acceptDownloads: true,
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    const page = await context.newPage();
    const ui = new Console(page);
    ui.context = context;
    await ui.goto(url);
    return ui;
  }

  async goto(url) {
    await this.page.goto(url);
    await this.page.waitForFunction(() => window.reclaimTest && window.reclaimTest.state(), null,
                                    { timeout: 60000 });
    await this.frames(2);
  }

  async reload() {
    await this.page.reload();
    await this.page.waitForFunction(() => window.reclaimTest && window.reclaimTest.state(), null,
                                    { timeout: 60000 });
    await this.frames(2);
  }

  // Waits for `count` animation frames, so the console has drawn what the
  // last event changed and recorded the widgets' new places.
  async frames(count = 2) {
    await this.page.evaluate((n) => new Promise((resolve) => {
      const step = () => (--n <= 0 ? resolve() : requestAnimationFrame(step));
      requestAnimationFrame(step);
    }), count);
  }

  state() {
    return this.page.evaluate(() => window.reclaimTest.state());
  }

  widgets() {
    return this.page.evaluate(() => window.reclaimTest.widgets());
  }

  // Waits until `predicate(state)` holds and returns that state.
  async waitFor(description, predicate, timeoutMs = 30000) {
    const deadline = Date.now() + timeoutMs;
    let last = null;
    while (Date.now() < deadline) {
      last = await this.state();
      if (predicate(last)) return last;
      await this.page.waitForTimeout(50);
    }
    throw new Error(`timed out waiting for ${description}; last state: ${JSON.stringify(last)}`);
  }

  async rect(name, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const all = await this.widgets();
      if (all[name] && all[name].w > 0 && all[name].h > 0) return all[name];
      await this.page.waitForTimeout(50);
    }
    const known = Object.keys(await this.widgets()).sort().join(', ');
    throw new Error(`no widget named "${name}" on screen; widgets now: ${known}`);
  }

  async hasWidget(name) {
    const all = await this.widgets();
    return Boolean(all[name] && all[name].w > 0);
  }

  async click(name) {
    const r = await this.rect(name);
    await this.page.mouse.click(r.x + r.w / 2, r.y + r.h / 2);
    await this.frames(3);
  }

  // Clicks a text field, selects its content and types `text`.
  async fill(name, text) {
    await this.click(name);
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.press('Backspace');
    await this.page.keyboard.type(text, { delay: 5 });
    await this.frames(2);
  }

  // Puts `text` on the browser's clipboard, clicks a text field, selects
  // its content and pastes over it with Control+V.
  async paste(name, text) {
    await this.page.evaluate((value) => navigator.clipboard.writeText(value), text);
    await this.click(name);
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.press('Control+V');
    await this.frames(2);
  }

  // The browser clipboard's text.
  async clipboardText() {
    return this.page.evaluate(() => navigator.clipboard.readText());
  }

  async press(key) {
    await this.page.keyboard.press(key);
    await this.frames(3);
  }

  // Clicks `name` and returns the download it starts, saved under
  // artefacts, with its content as text.
  async download(name, saveAs) {
    const [download] = await Promise.all([
      this.page.waitForEvent('download', { timeout: 30000 }),
      this.click(name),
    ]);
    const target = path.join(artefacts, saveAs);
    await download.saveAs(target);
    return { suggested: download.suggestedFilename(), bytes: fs.readFileSync(target) };
  }

  async screenshot(name) {
    fs.mkdirSync(artefacts, { recursive: true });
    await this.page.screenshot({ path: path.join(artefacts, `${name}.png`) });
  }
}

// RFC 4180 reader for the exported files: returns the rows as arrays of
// strings. The file must start with a UTF-8 byte order mark.
export function parseCsv(bytes) {
  if (bytes[0] !== 0xef || bytes[1] !== 0xbb || bytes[2] !== 0xbf) {
    throw new Error('CSV export does not start with a UTF-8 byte order mark');
  }
  const text = bytes.subarray(3).toString('utf8');
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; ++i) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; ++i; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(cell); cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell); rows.push(row); row = []; cell = ''; ++i;
    } else if (c === '\n') {
      row.push(cell); rows.push(row); row = []; cell = '';
    } else {
      cell += c;
    }
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}
