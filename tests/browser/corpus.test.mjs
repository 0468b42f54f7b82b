// Real phishing mail end to end through the console: the server's demo
// organisation receives a corpus of real phishing messages, the console
// removes every copy of one by its attachment's SHA-256, then restores them,
// and the queue is exported. The mailboxes on disk are the witness.
//
// The corpus's licence forbids shipping it, so it is read from corpus/eml
// in the test inputs folder beside the repository (RECLAIM_SHARED_INPUTS
// names another), and the tests are skipped, saying why, when it is absent.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ReclaimServer, createToken, makeDataDir, repoRoot } from './lib/server.mjs';
import { Console, launchBrowser, parseCsv } from './lib/console.mjs';

const inputs = process.env.RECLAIM_SHARED_INPUTS || path.resolve(repoRoot, '..', 'shared');
const corpus = path.join(inputs, 'corpus', 'eml');
const manifestPath = path.join(corpus, 'MANIFEST.json');
const skipReason = fs.existsSync(manifestPath)
  ? false
  : `no phishing corpus at ${manifestPath}; set RECLAIM_SHARED_INPUTS to the folder with corpus/eml`;

const kHoldFolder = 'Reclaim-Hold';

// The first sample, by file name, with an attachment whose SHA-256 no other
// sample shares and which is not empty.
function pickSample() {
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const owners = new Map();
  for (const file of manifest.files) {
    for (const attachment of file.attachments || []) {
      owners.set(attachment.sha256, (owners.get(attachment.sha256) || 0) + 1);
    }
  }
  const files = [...manifest.files].sort((a, b) => a.file.localeCompare(b.file));
  for (const file of files) {
    for (const attachment of file.attachments || []) {
      if (attachment.size > 0 && owners.get(attachment.sha256) === 1) {
        return { file: file.file, sha256: attachment.sha256, raw: fs.readFileSync(path.join(corpus, file.file)) };
      }
    }
  }
  return null;
}

// Every copy of `raw` under the Maildir root: the demo adds delivery headers
// in front of the message, so a copy is a file that ends with its bytes.
function findCopies(mailRoot, raw) {
  const tail = raw.subarray(Math.max(0, raw.length - 400));
  const copies = [];
  for (const domain of fs.readdirSync(mailRoot)) {
    for (const local of fs.readdirSync(path.join(mailRoot, domain))) {
      const box = path.join(mailRoot, domain, local);
      if (!fs.statSync(box).isDirectory()) continue;
      const folders = [['INBOX', box]];
      for (const entry of fs.readdirSync(box)) {
        if (entry.startsWith('.')) folders.push([entry.slice(1).replace(/\./g, '/'), path.join(box, entry)]);
      }
      for (const [folder, dir] of folders) {
        for (const sub of ['cur', 'new']) {
          const subdir = path.join(dir, sub);
          if (!fs.existsSync(subdir)) continue;
          for (const name of fs.readdirSync(subdir)) {
            const content = fs.readFileSync(path.join(subdir, name));
            if (!content.subarray(content.length - tail.length).equals(tail)) continue;
            const info = name.match(/[:!;]2,([A-Za-z]*)$/);
            copies.push({ mailbox: `${local}@${domain}`, folder, flags: info ? info[1] : '', content });
          }
        }
      }
    }
  }
  return copies.sort((a, b) => a.mailbox.localeCompare(b.mailbox));
}

// The addresses of one header of a message, lower case.
function headerAddresses(content, name) {
  const head = content.toString('latin1').split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (!line) return [];
  return (line.match(/[^\s<>,"]+@[^\s<>,"]+/g) || []).map((a) => a.toLowerCase());
}

let server;
let browser;
let ui;
let token;
let sample;
let copiesBefore;

before(async () => {
  if (skipReason) return;
  sample = pickSample();
  assert.ok(sample, `no sample in ${corpus} has an attachment of its own`);
  const dataDir = makeDataDir('reclaim-corpus-');
  token = createToken(dataDir, 'corpus-test', 'admin');
  server = await new ReclaimServer(dataDir, ['--demo-eml', corpus]).start();
  browser = await launchBrowser();
});

after(async () => {
  if (ui) await ui.context.close();
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('demo mailboxes hold the real sample', { skip: skipReason }, () => {
  const mailRoot = path.join(server.dataDir, 'mail');
  copiesBefore = findCopies(mailRoot, sample.raw);
  assert.ok(copiesBefore.length >= 3, `${sample.file}: ${copiesBefore.length} copies on disk`);
  for (const copy of copiesBefore) assert.notEqual(copy.folder, kHoldFolder);
});

test('console removes every copy by attachment hash', { skip: skipReason }, async () => {
  ui = await Console.open(browser, server.url);
  await ui.fill('login.token', token);
  await ui.click('login.submit');
  const loaded = await ui.waitFor('the demo incidents', (s) => s.online && s.incidentCount > 0);
  // The README shows this screenshot (docs/images/console.png).
  await ui.screenshot('corpus-00-queue');

  await ui.click('remediation.open');
  await ui.fill('remediation.identifier', sample.sha256);
  await ui.fill('remediation.reason', 'Phishing attachment reported by users');
  // The samples keep their original Date headers, years back.
  await ui.fill('remediation.start', '2000-01-01 00:00');
  await ui.click('remediation.action.remove');
  await ui.screenshot('corpus-01-remediation-form');
  // A double click submits once: the server search below finds one incident.
  const submit = await ui.rect('remediation.submit');
  await ui.page.mouse.dblclick(submit.x + submit.w / 2, submit.y + submit.h / 2);
  await ui.waitFor('the removal job', (s) => s.jobState === 'succeeded', 60000);
  const done = await ui.waitFor('the synced counts',
    (s) => s.remediationCounts && s.remediationCounts.removed > 0, 60000);
  await ui.screenshot('corpus-02-remediation-done');
  // The result line and the progress bar are inside the 1400x900 viewport.
  const viewport = ui.page.viewportSize();
  for (const name of ['remediation.result', 'remediation.progress']) {
    const r = await ui.rect(name);
    const where = `${name} at ${JSON.stringify(r)}`;
    assert.ok(r.y >= 0, where);
    assert.ok(r.y + r.h <= viewport.height, where);
    assert.ok(r.x >= 0, where);
    assert.ok(r.x + r.w <= viewport.width, where);
  }

  // On disk: each copy now sits in its mailbox's hold folder, with its flags.
  const mailRoot = path.join(server.dataDir, 'mail');
  const held = findCopies(mailRoot, sample.raw);
  assert.equal(held.length, copiesBefore.length);
  for (const [i, copy] of held.entries()) {
    assert.equal(copy.mailbox, copiesBefore[i].mailbox);
    assert.equal(copy.folder, kHoldFolder, `${copy.mailbox} copy not held`);
    assert.equal(copy.flags, copiesBefore[i].flags, `${copy.mailbox} flags`);
  }

  // The incident: one removed row per copy; each recipient named on the
  // message in a domain without mailboxes here fails.
  const found = await server.api(token, 'GET', `/api/v1/incidents?text=${sample.sha256}&types=manual`);
  assert.equal(found.json.total, 1);
  const { json: incident } = await server.api(token, 'GET', `/api/v1/incidents/${found.json.incidents[0].id}`);
  const removedRows = incident.messages.filter((m) => m.status === 'removed');
  assert.deepEqual(removedRows.map((m) => m.mailbox.toLowerCase()).sort(),
    copiesBefore.map((c) => c.mailbox).sort());
  assert.equal(incident.removed, copiesBefore.length);
  assert.equal(incident.identified, incident.messages.length);
  assert.equal(incident.failed, incident.identified - incident.removed);
  // The form's counts follow the server's once the job's last sync is in.
  const final = await ui.waitFor('the final counts', (s) => s.remediationCounts &&
    s.remediationCounts.identified === incident.identified &&
    s.remediationCounts.removed === incident.removed &&
    s.remediationCounts.failed === incident.failed);
  assert.ok(done.remediationCounts.removed <= final.remediationCounts.removed);
  const connected = new Set(fs.readdirSync(mailRoot));
  const named = headerAddresses(copiesBefore[0].content, 'X-Original-To');
  const outside = named.filter((a) => !connected.has(a.split('@')[1]));
  assert.ok(outside.length >= 1, `no unconnected recipient among ${named}`);
  for (const address of outside) {
    const row = incident.messages.find((m) => m.recipient.toLowerCase() === address);
    assert.ok(row, `no row for ${address}`);
    assert.equal(row.status, 'failed');
    assert.match(row.failureReason, /connection/i);
  }

  // The console shows it after a sync.
  await ui.click('remediation.close');
  await ui.click('sync.button');
  await ui.waitFor('the new incident', (s) => s.incidentCount === loaded.incidentCount + 1);
  await ui.click(`queue.row.${incident.code}`);
  await ui.waitFor('the incident page', (s) => s.openIncident === incident.code);
  await ui.screenshot('corpus-03-incident');
  server.incident = incident;
});

test('console restores the copies with their flags', { skip: skipReason }, async () => {
  const incident = server.incident;
  await ui.click('incident.restore');
  const asking = await ui.waitFor('the confirmation', (s) => s.confirmation !== null);
  assert.match(asking.confirmation, new RegExp(`\\b${copiesBefore.length} messages\\b`));
  await ui.click('confirm.ok');
  await ui.waitFor('the restore job', (s) => s.jobState === 'succeeded', 60000);

  const back = findCopies(path.join(server.dataDir, 'mail'), sample.raw);
  assert.equal(back.length, copiesBefore.length);
  for (const [i, copy] of back.entries()) {
    assert.equal(copy.mailbox, copiesBefore[i].mailbox);
    assert.equal(copy.folder, copiesBefore[i].folder, `${copy.mailbox} folder`);
    assert.equal(copy.flags, copiesBefore[i].flags, `${copy.mailbox} flags`);
  }
  const { json: after } = await server.api(token, 'GET', `/api/v1/incidents/${incident.id}`);
  assert.equal(after.restored, copiesBefore.length);
  await ui.screenshot('corpus-04-restored');
});

test('queue export lists the incident with its counts', { skip: skipReason }, async () => {
  const { json: incident } = await server.api(token, 'GET', `/api/v1/incidents/${server.incident.id}`);
  const { json: all } = await server.api(token, 'GET', '/api/v1/incidents?pageSize=50');
  await ui.click('incident.back');
  await ui.click('sync.button');
  await ui.waitFor('every incident', (s) => s.incidentCount === all.total && s.matchCount === all.total);
  await ui.click('export.open');
  const file = await ui.download('export.download', 'corpus-queue.csv');
  const rows = parseCsv(file.bytes);
  const header = rows[0];
  const body = rows.slice(1).filter((r) => r.length > 1);
  assert.equal(body.length, all.total);
  const row = body.find((r) => r[header.indexOf('Incident ID')] === incident.code);
  assert.ok(row, `${incident.code} missing from the export`);
  assert.equal(row[header.indexOf('File Hash / Message ID')], sample.sha256);
  assert.equal(Number(row[header.indexOf('Identified Messages')]), incident.identified);
  assert.equal(Number(row[header.indexOf('Removed Messages')]), incident.removed);
  assert.equal(Number(row[header.indexOf('Failed Messages')]), incident.failed);
  assert.equal(Number(row[header.indexOf('Restored Messages')]), incident.restored);
  assert.deepEqual(ui.consoleErrors, []);
});
