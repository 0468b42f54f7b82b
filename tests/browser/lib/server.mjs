// Starts the real reclaim-server on 127.0.0.1 with a temporary data folder,
// fills its Maildir mailboxes with generated mail and talks to its API.
//
// The binary and the built console come from the build trees that
// scripts/build.sh writes; RECLAIM_SERVER and RECLAIM_WEB_ROOT override them.

import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..', '..');

export const serverBinary =
  process.env.RECLAIM_SERVER || path.join(repoRoot, 'build/native/sync-server/reclaim-server');
export const webRoot = process.env.RECLAIM_WEB_ROOT || path.join(repoRoot, 'build/wasm/web');

export function makeDataDir(prefix = 'reclaim-browser-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function sha256Hex(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

// One message as RFC 5322 text. With `attachment` ({name, bytes}) it is a
// multipart/mixed message whose second part carries the bytes in base64.
export function composeMessage({ messageId, from, to, subject, date, body, attachment }) {
  const head = [
    `Message-ID: <${messageId}>`,
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${subject}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    'MIME-Version: 1.0',
  ];
  if (!attachment) {
    head.push('Content-Type: text/plain; charset=utf-8');
    return `${head.join('\r\n')}\r\n\r\n${body}\r\n`;
  }
  const boundary = `b-${messageId.replace(/[^a-z0-9]/gi, '')}`;
  head.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
  const encoded = attachment.bytes.toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    head.join('\r\n'),
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    `--${boundary}`,
    `Content-Type: application/octet-stream; name="${attachment.name}"`,
    `Content-Disposition: attachment; filename="${attachment.name}"`,
    'Content-Transfer-Encoding: base64',
    '',
    encoded,
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

// Delivers `text` into the Maildir++ mailbox of `address` under `mailRoot`
// (<root>/<domain>/<local>/cur, INBOX) with the given flag letters.
let deliveries = 0;
export function deliver(mailRoot, address, text, flags = '') {
  const [local, domain] = address.toLowerCase().split('@');
  const box = path.join(mailRoot, domain, local);
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(box, sub), { recursive: true });
  deliveries += 1;
  const unique = `${Date.now()}.M${deliveries}P${process.pid}.browser-test`;
  const file = path.join(box, 'cur', `${unique}:2,${flags}`);
  fs.writeFileSync(file, text);
  return file;
}

// Lists the message files of one Maildir folder ('' is INBOX).
export function folderFiles(mailRoot, address, folder = '') {
  const [local, domain] = address.toLowerCase().split('@');
  let dir = path.join(mailRoot, domain, local);
  if (folder) dir = path.join(dir, `.${folder.replace(/\//g, '.')}`);
  const files = [];
  for (const sub of ['cur', 'new']) {
    const full = path.join(dir, sub);
    if (fs.existsSync(full)) for (const f of fs.readdirSync(full)) files.push(path.join(full, f));
  }
  return files;
}

function runCli(dataDir, args) {
  return execFileSync(serverBinary, ['--data-dir', dataDir, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function createToken(dataDir, name, role) {
  const out = runCli(dataDir, ['token', 'create', name, '--role', role]).trim().split('\n');
  return out[out.length - 1].trim();
}

// A running server. `start()` resolves once it prints its address.
export class ReclaimServer {
  // `serveOptions` go to `serve`, for example ['--no-demo'] to start with
  // empty mailboxes in place of the demo organisation.
  constructor(dataDir, serveOptions = []) {
    this.dataDir = dataDir;
    this.serveOptions = serveOptions;
    this.process = null;
    this.port = 0;
    this.log = '';
  }

  async start() {
    if (!fs.existsSync(serverBinary)) throw new Error(`no server binary at ${serverBinary}: run scripts/build.sh`);
    if (!fs.existsSync(path.join(webRoot, 'index.html'))) {
      throw new Error(`no built console in ${webRoot}: run scripts/build.sh`);
    }
    // Keep the port across restarts so the page's address stays the same.
    const args = ['--data-dir', this.dataDir, 'serve', '--port', String(this.port), '--web-root', webRoot,
      ...this.serveOptions];
    this.process = spawn(serverBinary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process.stderr.on('data', (d) => { this.log += d; });
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.exited = exited;
    this.port = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${this.log}`)), 30000);
      this.process.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      exited.then((code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${this.log}`)); });
    });
    return this;
  }

  get url() { return `http://127.0.0.1:${this.port}`; }

  async stop() {
    if (!this.process || this.process.exitCode !== null) return;
    this.process.kill('SIGTERM');
    const code = await Promise.race([this.exited, new Promise((r) => setTimeout(() => r('timeout'), 15000))]);
    if (code === 'timeout') {
      this.process.kill('SIGKILL');
      await this.exited;
      throw new Error('server did not stop within 15 s of SIGTERM');
    }
  }

  async api(token, method, route, body) {
    const response = await fetch(this.url + route, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* CSV or empty */ }
    if (response.status >= 400) {
      throw new Error(`${method} ${route} returned HTTP ${response.status}: ${text}`);
    }
    return { status: response.status, json, text };
  }

  async waitForJob(token, jobId) {
    for (let i = 0; i < 600; ++i) {
      const { json } = await this.api(token, 'GET', `/api/v1/jobs/${jobId}`);
      if (json.state !== 'queued' && json.state !== 'running') return json;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`job ${jobId} did not end within 30 s`);
  }

  async index(token) {
    const { json } = await this.api(token, 'POST', '/api/v1/index');
    return this.waitForJob(token, json.jobId);
  }
}
