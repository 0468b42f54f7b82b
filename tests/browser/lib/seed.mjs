// A small organisation for the browser tests, created through the real
// server: mail written into Maildir folders, indexed by the server, then
// incidents of all five types opened through the API. What was created is
// returned so the tests can work out the expected values on their own.

import { composeMessage, deliver, sha256Hex } from './server.mjs';
import path from 'node:path';

export const users = {
  alice: 'alice@example.com',
  bob: 'bob@example.com',
  carol: 'carol@example.com',
  dave: 'dave@example.com',
  erin: 'erin@example.com',
  frank: 'frank@example.org',
  grace: 'grace@example.org',
};

// Deterministic bytes that stand in for a malicious attachment.
function fakeAttachment(label, size) {
  const bytes = Buffer.alloc(size);
  let x = 2166136261;
  for (const c of label) x = Math.imul(x ^ c.charCodeAt(0), 16777619) >>> 0;
  for (let i = 0; i < size; ++i) {
    x = Math.imul(x ^ (x >>> 13), 0x5bd1e995) >>> 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

const hoursAgo = (h) => new Date(Date.now() - h * 3600 * 1000);

// The number of filler incidents: enough for more than one page of 50.
export const kFillerCount = 64;
// Every third filler has "payroll" in its reason.
export const kPayrollEvery = 3;

export async function seedOrganisation(server, token) {
  const mailRoot = path.join(server.dataDir, 'mail');

  // The invoice lure: one attachment, four recipients, two of them with
  // flags that a restore must bring back.
  const invoice = { name: 'invoice-4471.pdf', bytes: fakeAttachment('invoice', 6000) };
  const invoiceRecipients = [
    [users.alice, 'S'],
    [users.bob, ''],
    [users.carol, 'FS'],
    [users.frank, 'S'],
  ];
  for (const [to, flags] of invoiceRecipients) {
    deliver(mailRoot, to, composeMessage({
      messageId: 'invoice-4471@billing.example.net', from: 'billing@billing.example.net', to,
      subject: 'Overdue invoice 4471', date: hoursAgo(5),
      body: 'Please pay the attached invoice today.', attachment: invoice,
    }), flags);
  }
  // A credential phish without attachment, for a Notify Only incident.
  for (const to of [users.dave, users.erin]) {
    deliver(mailRoot, to, composeMessage({
      messageId: 'reset-9921@login.example.net', from: 'it-desk@login.example.net', to,
      subject: 'Your password expires today', date: hoursAgo(4),
      body: 'Keep your password: https://login.example.net/keep',
    }));
  }
  // A misaddressed message for the MEP clawback.
  for (const to of [users.grace, users.bob]) {
    deliver(mailRoot, to, composeMessage({
      messageId: 'salaries-2026@example.org', from: 'hr@example.org', to,
      subject: 'Salaries 2026', date: hoursAgo(3), body: 'Confidential figures.',
    }));
  }
  // An attachment that threat intelligence reports.
  const macro = { name: 'report.xlsm', bytes: fakeAttachment('macro', 4000) };
  deliver(mailRoot, users.dave, composeMessage({
    messageId: 'report-77@partner.example.net', from: 'sales@partner.example.net', to: users.dave,
    subject: 'Quarterly report', date: hoursAgo(2), body: 'See the report.', attachment: macro,
  }));
  // A newsletter that is removed and then restored, for a Restore incident.
  deliver(mailRoot, users.erin, composeMessage({
    messageId: 'news-12@news.example.net', from: 'news@news.example.net', to: users.erin,
    subject: 'Newsletter', date: hoursAgo(1), body: 'Nothing to see.',
  }), 'S');
  // Ordinary mail that no test remediates.
  let n = 0;
  for (const to of Object.values(users)) {
    for (let i = 0; i < 3; ++i) {
      deliver(mailRoot, to, composeMessage({
        messageId: `ordinary-${++n}@example.com`, from: 'colleague@example.com', to,
        subject: `Meeting notes ${n}`, date: hoursAgo(10 + n), body: 'Notes attached inline.',
      }));
    }
  }
  await server.index(token);

  const created = [];  // {code, id, type, reason} in creation order
  const record = (incident) => {
    created.push({ code: incident.code, id: incident.id, type: incident.type, reason: incident.reason });
    return incident;
  };
  const post = async (route, body) => (await server.api(token, 'POST', route, body)).json;

  // Restore: remove the newsletter, then restore it.
  const news = await post('/api/v1/remediations', {
    identifier: 'news-12@news.example.net', reason: 'Newsletter reported as spam',
  });
  record(news.incident);
  await server.waitForJob(token, news.job.id);
  const restored = await post(`/api/v1/incidents/${news.incident.id}/restore`, {
    reason: 'Newsletter was wanted after all',
  });
  record(restored.incident);
  await server.waitForJob(token, restored.job.id);

  // Filler incidents: searches that find nothing, with distinct reasons.
  for (let i = 0; i < kFillerCount; ++i) {
    const topic = i % kPayrollEvery === 0 ? 'payroll lure' : 'suspicious sender';
    const reply = await post('/api/v1/remediations', {
      identifier: `filler-${i}@nowhere.example.net`, reason: `Check ${i}: ${topic}`,
    });
    record(reply.incident);
  }

  // Notify Only, Automatic and MEP Clawback.
  const notify = await post('/api/v1/remediations', {
    identifier: 'reset-9921@login.example.net', reason: 'Credential phish link', action: 'notify_only',
  });
  record(notify.incident);
  const intel = await post('/api/v1/threat-intel/hashes', { hashes: [sha256Hex(macro.bytes)] });
  const automatic = intel.results[0];
  record(automatic.incident);
  await server.waitForJob(token, automatic.jobId);
  const clawback = await post('/api/v1/clawbacks', {
    messageId: 'salaries-2026@example.org', recipients: [users.grace],
  });
  record(clawback.incident);
  await server.waitForJob(token, clawback.job.id);

  // Manual, newest: the invoice lure by its attachment's SHA-256.
  const manual = await post('/api/v1/remediations', {
    identifier: sha256Hex(invoice.bytes), reason: 'Invoice lure reported by finance',
  });
  record(manual.incident);
  await server.waitForJob(token, manual.job.id);
  const invoiceIncident = (await server.api(token, 'GET', `/api/v1/incidents/${manual.incident.id}`)).json;

  return {
    mailRoot,
    created,
    invoice: { sha256: sha256Hex(invoice.bytes), recipients: invoiceRecipients, incident: invoiceIncident },
    notify: notify.incident,
  };
}
