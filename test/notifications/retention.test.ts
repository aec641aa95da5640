import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noticePass, purgePass } from "../../src/domain/conversations/retention.js";
import { $, annaAin, bunyel, closeReasonId, drGene, fixture, hiddenFields, signInAgent, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { readable, startSmtp } from "../helpers/smtp.js";
import { elsmWrites, postForm, sendPsQuestion } from "../helpers/ps.js";

/**
 * Retention with notice over HTTP (issue 17 §1), the clock given to the passes: the banner on both sides from the
 * notice and not before, the notice mail through a real SMTP receiver (no content, once, retried after a refusal),
 * then the purge: the thread and its files answer 404 on both sides.
 */
const SETTINGS = { months: 24, noticeDays: 30 };
const DAY = 86_400_000;
const BANNER = /Cette conversation sera supprimée le (\d\d\/\d\d\/\d{4}) — exportez-la pour le dossier du patient/;

let smtp: Awaited<ReturnType<typeof startSmtp>>;
let app: TestApp;
let gene: Session;
let anna: Session;
beforeAll(async () => {
  smtp = await startSmtp();
  app = await startTestApp({ SMTP_URL: smtp.url });
  // The demo's closed threads out of the way (their own notices would mix with this thread's mails).
  const far = new Date(Date.now() + 800 * DAY);
  await noticePass(app.db, SETTINGS, far);
  await purgePass(app, new Date(far.getTime() + 31 * DAY));
  await app.db("notifications").del();
  gene = await signInPs(app, drGene);
  anna = await signInAgent(app, annaAin);
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
});

async function dueDate(id: number): Promise<Date> {
  const c = await app.db("conversations").where({ id }).first("last_message_at");
  const d = new Date(c.last_message_at);
  d.setUTCMonth(d.getUTCMonth() + SETTINGS.months);
  return d;
}

async function closeAsAnna(id: number) {
  const page = await anna.agent.get(`/bo/conversations/${id}/close`);
  expect(page.status).toBe(200);
  const res = await anna.agent
    .post(`/bo/conversations/${id}/close`)
    .type("form")
    .send({ _csrf: anna.csrf, reason_id: await closeReasonId(app) });
  expect(res.status).toBe(303);
}

describe("retention with notice, over HTTP", () => {
  it("shows the banner on both sides from the notice, mails each party once without content, then the purge makes everything 404", async () => {
    const id = await sendPsQuestion(gene, bunyel, "Sciatique rebelle Lasègue", "Douleurs radiculaires persistantes.", [{ path: fixture("valid", "compte-rendu.pdf") }]);
    await elsmWrites(app, "AIN", id, "Réponse sur la sciatique de M. BUNYEL.");
    await closeAsAnna(id);
    await app.notifier.flush();
    smtp.received.length = 0;
    const date = await dueDate(id);
    const threadPages = async () => [(await gene.agent.get(`/ps/conversations/${id}`)).text, (await anna.agent.get(`/bo/conversations/${id}`)).text];
    const fileHref = $((await gene.agent.get(`/ps/conversations/${id}`)).text)("a[href^='/ps/attachments/']").attr("href")!;
    expect(fileHref).toBeTruthy();

    // Before the notice period: no banner, no mail.
    await noticePass(app.db, SETTINGS, new Date(date.getTime() - 31 * DAY));
    for (const html of await threadPages()) expect(html).not.toMatch(BANNER);

    // The notice: the SMTP server refuses once, the outbox retries, each party gets one mail.
    smtp.state.refuse = true;
    expect(await noticePass(app.db, SETTINGS, new Date(date.getTime() - 30 * DAY))).toEqual({ noticed: 1, mails: 2 });
    expect(await app.notifier.flush()).toBe(0);
    expect(smtp.received).toHaveLength(0);
    smtp.state.refuse = false;
    expect(await app.notifier.flush()).toBe(2);
    await noticePass(app.db, SETTINGS, new Date(date.getTime() - 29 * DAY));
    await app.notifier.flush();
    expect(smtp.received.map((m) => m.to).sort()).toEqual([["alain.gene@medecin.example"], ["elsm011@assurance-maladie.example"]].sort());
    for (const mail of smtp.received) {
      const text = readable(mail.raw);
      expect(text).toContain("sera bientôt supprimée");
      expect(text).toMatch(/https:\/\/ems\.example\/(ps|bo)\/login/);
      for (const word of ["BUNYEL", "Guillaume", bunyel.nir, "Sciatique", "Lasègue", "radiculaires", `/conversations/${id}`])
        expect(text.toLowerCase()).not.toContain(word.toLowerCase());
    }

    // The banner, both sides, with the PDF export link of the side.
    const shown = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", day: "2-digit", month: "2-digit", year: "numeric" }).format(date);
    const [ps, bo] = await threadPages();
    for (const [html, base] of [
      [ps!, "/ps"],
      [bo!, "/bo"],
    ] as const) {
      const page = $(html);
      expect(page("#purge-notice").text()).toMatch(BANNER);
      expect(page("#purge-notice").text()).toContain(shown);
      expect(page("#purge-notice a").attr("href")).toBe(`${base}/conversations/${id}/pdf`);
    }
    expect((await gene.agent.get(`/ps/conversations/${id}/pdf`)).status).toBe(200);

    // On the date: gone for both sides, its file too.
    expect((await purgePass(app, date)).threads).toBe(1);
    expect((await gene.agent.get(`/ps/conversations/${id}`)).status).toBe(404);
    expect((await anna.agent.get(`/bo/conversations/${id}`)).status).toBe(404);
    expect((await gene.agent.get(fileHref)).status).toBe(404);
    expect((await anna.agent.get(fileHref.replace("/ps/", "/bo/"))).status).toBe(404);
    expect((await gene.agent.get(`/ps/conversations/${id}/pdf`)).status).toBe(404);
  });

  it("a doctor's new message in the closed thread cancels it: the banner goes, the thread stays", async () => {
    const id = await sendPsQuestion(gene, bunyel, "Retention annulée HTTP", "Bonjour.");
    await closeAsAnna(id);
    const date = await dueDate(id);
    await noticePass(app.db, SETTINGS, new Date(date.getTime() - 30 * DAY));
    expect((await gene.agent.get(`/ps/conversations/${id}`)).text).toMatch(BANNER);
    const hidden = hiddenFields((await gene.agent.get(`/ps/conversations/${id}/reply`)).text);
    const sent = await postForm(gene, `/ps/conversations/${id}/messages`, { ...hidden, body: "Finalement, une question encore.", action: "send" });
    expect(sent.status).toBe(303);
    for (const html of [(await gene.agent.get(`/ps/conversations/${id}`)).text, (await anna.agent.get(`/bo/conversations/${id}`)).text]) expect(html).not.toMatch(BANNER);
    expect((await purgePass(app, new Date(date.getTime() + DAY))).threads).toBe(0);
    expect((await gene.agent.get(`/ps/conversations/${id}`)).status).toBe(200);
  });
});
