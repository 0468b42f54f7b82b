// The Reclaim console in headless Chromium against the real server: log in,
// filter, search, page, sort, export, open an incident, restore a message,
// then work offline from the saved snapshot after the server stops.
//
// Expected values come from what lib/seed.mjs created through the API and
// from the mailboxes on disk, never from the console itself.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ReclaimServer, createToken, makeDataDir, folderFiles } from './lib/server.mjs';
import { seedOrganisation, users, kFillerCount, kPayrollEvery } from './lib/seed.mjs';
import { Console, launchBrowser, parseCsv } from './lib/console.mjs';

let server;
let browser;
let ui;
let token;
let org;

before(async () => {
  const dataDir = makeDataDir();
  fs.mkdirSync(path.join(dataDir, 'mail', 'example.com'), { recursive: true });
  fs.mkdirSync(path.join(dataDir, 'mail', 'example.org'), { recursive: true });
  token = createToken(dataDir, 'browser-test', 'admin');
  server = await new ReclaimServer(dataDir, ['--no-demo']).start();
  org = await seedOrganisation(server, token);
  browser = await launchBrowser();
});

after(async () => {
  if (ui) await ui.context.close();
  if (browser) await browser.close();
  if (server) await server.stop();
});

const codesOf = (type) => org.created.filter((c) => c.type === type).map((c) => c.code);

// Every incident's reason as the server last listed it, by code.
const reasonByCode = new Map();

// The server's incident list for the same filters, all pages: what the
// console's local query must agree with.
async function serverCodes(query) {
  const codes = [];
  for (let page = 1; ; ++page) {
    const { json } = await server.api(token, 'GET', `/api/v1/incidents?${query}&pageSize=300&page=${page}`);
    for (const row of json.incidents) {
      codes.push(row.code);
      reasonByCode.set(row.code, row.reason);
    }
    if (codes.length >= json.total) return codes;
  }
}

test('logs in with a pasted token and loads every incident from the server', async () => {
  ui = await Console.open(browser, server.url);
  await ui.screenshot('01-login');
  await ui.paste('login.token', token);
  await ui.click('login.submit');
  const state = await ui.waitFor('the snapshot to load',
    (s) => s.online && s.incidentCount === org.created.length);
  assert.equal(state.matchCount, org.created.length);
  assert.equal(state.pageSize, 50);
  assert.equal(state.page, 1);
  assert.deepEqual([...state.types].sort(),
    ['Automatic', 'MEP Clawback', 'Manual', 'Notify Only', 'Restore']);
  // Newest first: the first page is the last 50 created, newest first.
  const newestFirst = await serverCodes('');
  assert.deepEqual(state.visibleCodes, newestFirst.slice(0, 50));
  assert.equal(state.visibleCodes[0], org.invoice.incident.code);
  assert.equal(state.lastError, '');
  await ui.screenshot('02-queue');
});

test('type toggles filter the queue', async () => {
  await ui.click('type.Manual');
  let state = await ui.waitFor('Manual to be hidden', (s) => !s.types.includes('Manual'));
  const withoutManual = org.created.length - codesOf('manual').length;
  assert.equal(state.matchCount, withoutManual);
  assert.deepEqual([...state.visibleCodes].sort(),
    org.created.filter((c) => c.type !== 'manual').map((c) => c.code).sort());
  assert.match(state.url, /types=/);
  await ui.screenshot('03-without-manual');
  await ui.click('type.Manual');
  state = await ui.waitFor('Manual to be shown again', (s) => s.types.includes('Manual'));
  assert.equal(state.matchCount, org.created.length);
});

test('search by incident code and by reason', async () => {
  const wanted = org.notify.code;
  await ui.click('search.field');
  await ui.click('search.field.Incident ID');
  await ui.fill('search.text', wanted);
  await ui.press('Enter');
  let state = await ui.waitFor('the code search', (s) => s.searchText === wanted && s.matchCount === 1);
  assert.equal(state.searchField, 'Incident ID');
  assert.deepEqual(state.visibleCodes, [wanted]);
  // Control+C copies the field's selected text to the browser clipboard.
  await ui.page.evaluate(() => navigator.clipboard.writeText(''));
  await ui.click('search.text');
  await ui.page.keyboard.press('Control+A');
  await ui.page.keyboard.press('Control+C');
  await ui.frames(2);
  assert.equal(await ui.clipboardText(), wanted);

  await ui.click('search.field');
  await ui.click('search.field.Reason');
  await ui.fill('search.text', 'payroll');
  await ui.click('search.run');
  const payroll = org.created.filter((c) => /payroll/i.test(c.reason)).map((c) => c.code);
  assert.equal(payroll.length, Math.ceil(kFillerCount / kPayrollEvery));
  state = await ui.waitFor('the reason search', (s) => s.searchText === 'payroll' && s.searchField === 'Reason');
  assert.equal(state.matchCount, payroll.length);
  assert.deepEqual([...state.visibleCodes].sort(), [...payroll].sort());
  assert.deepEqual(state.visibleCodes, await serverCodes('field=reason&text=payroll'));
  await ui.screenshot('04-search-reason');

  await ui.fill('search.text', '');
  await ui.press('Enter');
  await ui.waitFor('the search to be cleared', (s) => s.searchText === '' && s.matchCount === org.created.length);
});

test('page size and page navigation', async () => {
  await ui.click('pagesize.combo');
  await ui.click('pagesize.100');
  let state = await ui.waitFor('page size 100', (s) => s.pageSize === 100);
  assert.equal(state.visibleCodes.length, Math.min(100, org.created.length));
  await ui.click('pagesize.combo');
  await ui.click('pagesize.50');
  await ui.waitFor('page size 50', (s) => s.pageSize === 50);
  await ui.click('page.next');
  state = await ui.waitFor('page 2', (s) => s.page === 2);
  const all = await serverCodes('');
  assert.deepEqual(state.visibleCodes, all.slice(50, 100));
  await ui.click('page.prev');
  await ui.waitFor('page 1', (s) => s.page === 1);
});

test('clicking a header sorts', async () => {
  await ui.click('queue.header.Date Created');
  const state = await ui.waitFor('oldest first', (s) => s.sortDescending === false);
  const oldestFirst = await serverCodes('sort=create&direction=asc');
  assert.deepEqual(state.visibleCodes, oldestFirst.slice(0, 50));
  assert.equal(state.visibleCodes[0], org.created[0].code);
  await ui.click('queue.header.Date Created');
  await ui.waitFor('newest first again', (s) => s.sortDescending === true);
});

async function closeExportPanel() {
  if (await ui.hasWidget('export.close')) await ui.click('export.close');
}

// Checks an export of the queue: every matching incident once, with the
// chosen columns, against what the server holds.
async function checkQueueExport(expectedCodes, fileName) {
  await ui.click('export.open');
  const file = await ui.download('export.download', fileName);
  assert.match(file.suggested, /\.csv$/);
  const rows = parseCsv(file.bytes);
  const header = rows[0];
  assert.ok(header.includes('Incident ID'), `header ${header}`);
  assert.ok(header.includes('Reason'), `header ${header}`);
  const codeColumn = header.indexOf('Incident ID');
  const reasonColumn = header.indexOf('Reason');
  const body = rows.slice(1).filter((r) => r.length > 1);
  assert.deepEqual(body.map((r) => r[codeColumn]).sort(), [...expectedCodes].sort());
  for (const r of body) assert.equal(r[reasonColumn], reasonByCode.get(r[codeColumn]));
  await closeExportPanel();
  return body;
}

test('exports the whole queue, not only the page', async () => {
  const state = await ui.state();
  assert.equal(state.matchCount, org.created.length);
  await checkQueueExport(org.created.map((c) => c.code), 'queue-online.csv');
  assert.match((await ui.state()).lastExport || '', /\.csv$/);
});

test('opens an incident, exports its messages and restores one copy', async () => {
  const code = org.invoice.incident.code;
  await ui.click(`queue.row.${code}`);
  await ui.waitFor('the incident page', (s) => s.openIncident === code);
  await ui.screenshot('05-incident');

  await ui.click('incident.export');
  const file = await ui.download('export.download', 'incident-messages.csv');
  await closeExportPanel();
  const rows = parseCsv(file.bytes);
  const recipientColumn = rows[0].indexOf('Recipient');
  const statusColumn = rows[0].indexOf('Status');
  assert.ok(recipientColumn >= 0, `no Recipient column in ${rows[0]}`);
  assert.ok(statusColumn >= 0, `no Status column in ${rows[0]}`);
  const body = rows.slice(1).filter((r) => r.length > 1);
  assert.deepEqual(body.map((r) => r[recipientColumn]).sort(),
    org.invoice.recipients.map(([to]) => to).sort());
  for (const r of body) assert.equal(r[statusColumn], 'Removed');

  // Every copy sits in the hold folder before the restore.
  for (const [to] of org.invoice.recipients) {
    assert.equal(folderFiles(org.mailRoot, to, 'Reclaim-Hold').length, 1, `${to} hold folder`);
  }
  const carol = org.invoice.recipients.find(([to]) => to === users.carol);
  const inboxBefore = folderFiles(org.mailRoot, users.carol).length;

  const carolRow = org.invoice.incident.messages.find((m) => m.recipient === users.carol);
  await ui.click(`incident.select.${carolRow.id}`);
  await ui.click('incident.restore_selected');
  const asking = await ui.waitFor('the confirmation', (s) => s.confirmation !== null);
  assert.match(asking.confirmation, /\b1 message\b/);
  await ui.screenshot('06-confirm-restore');
  await ui.click('confirm.ok');
  await ui.waitFor('the restore job to finish', (s) => s.jobState === 'succeeded');

  // The server's state changed: a Restore incident for one copy and the copy
  // back in Carol's inbox with its flags.
  const { json } = await server.api(token, 'GET', `/api/v1/incidents/${org.invoice.incident.id}`);
  assert.equal(json.restored, 1);
  const row = json.messages.find((m) => m.recipient === users.carol);
  assert.equal(row.status, 'restored');
  assert.equal(folderFiles(org.mailRoot, users.carol, 'Reclaim-Hold').length, 0);
  const inbox = folderFiles(org.mailRoot, users.carol);
  assert.equal(inbox.length, inboxBefore + 1);
  // Carol's ordinary mail carries no flags, so the one flagged file is the
  // restored copy.
  assert.equal(inbox.filter((f) => f.endsWith(`:2,${carol[1]}`)).length, 1,
    `flags ${carol[1]} kept: ${inbox.join(' ')}`);
  for (const [to] of org.invoice.recipients.filter(([to]) => to !== users.carol)) {
    assert.equal(folderFiles(org.mailRoot, to, 'Reclaim-Hold').length, 1, `${to} still held`);
  }

  // The console picks up the new Restore incident by delta sync.
  await ui.press('Escape');
  await ui.click('sync.button');
  const state = await ui.waitFor('the Restore incident to arrive',
    (s) => s.incidentCount === org.created.length + 1);
  assert.equal(state.matchCount, org.created.length + 1);
  await ui.screenshot('07-after-restore');
});

test('works offline from the snapshot after the server stops', async () => {
  const before = await ui.state();
  const restoreCodes = await serverCodes('types=restore');
  await server.stop();
  // Chromium logs each refused request as a console error; those are the
  // only ones allowed while the server is down.
  ui.expectedErrors.push(/ERR_CONNECTION_REFUSED|Failed to load resource/);
  await ui.reload();
  let state = await ui.waitFor('the snapshot from browser storage',
    (s) => s.incidentCount === before.incidentCount && s.online === false);
  assert.equal(state.matchCount, before.incidentCount);
  await ui.screenshot('08-offline');

  // Filter to Restore incidents only and export them from the snapshot.
  for (const type of ['Manual', 'Automatic', 'Notify Only', 'MEP Clawback']) await ui.click(`type.${type}`);
  state = await ui.waitFor('only Restore incidents', (s) => s.types.length === 1 && s.types[0] === 'Restore');
  assert.equal(state.matchCount, restoreCodes.length);
  assert.deepEqual(state.visibleCodes, restoreCodes);
  await checkQueueExport(restoreCodes, 'queue-offline.csv');

  // The incident page still opens from the snapshot, but restore needs the
  // server and reports that.
  await ui.click('type.Manual');
  await ui.waitFor('Manual shown again', (s) => s.types.includes('Manual'));
  const code = org.invoice.incident.code;
  await ui.click(`queue.row.${code}`);
  await ui.waitFor('the incident page offline', (s) => s.openIncident === code);
  await ui.click('incident.restore');
  const refused = await ui.waitFor('the offline refusal', (s) => /server/i.test(s.lastError));
  assert.equal(refused.confirmation, null);
  assert.equal(refused.jobState, null);
  await ui.screenshot('09-offline-incident');
});

test('no console errors', () => {
  assert.deepEqual(ui.consoleErrors, []);
});
