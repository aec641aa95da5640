import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { annaAin, bunyel, drGene, drMartin, drRoux, moreauMsa, signInAgent, signInPs, solana, startTestApp, type TestApp } from "../helpers/app.js";
import { deadlinePass } from "../../src/domain/conversations/deadlines.js";
import { readable, startSmtp } from "../helpers/smtp.js";
import { conversationBySubject, elsmWrites, openCompose, postForm } from "../helpers/ps.js";

/** Nothing medical: no patient name or NIR, no subject, no body. */
function expectNoMedicalContent(mail: string, forbidden: string[]) {
  for (const word of forbidden) expect(mail.toLowerCase(), `mail mentions "${word}"`).not.toContain(word.toLowerCase());
}

let smtp: Awaited<ReturnType<typeof startSmtp>>;
let app: TestApp;
beforeAll(async () => {
  smtp = await startSmtp();
  app = await startTestApp({ SMTP_URL: smtp.url });
});
afterAll(async () => {
  await app.close();
  await smtp.close();
});
afterEach(() => {
  smtp.received.length = 0;
});

describe("with SMTP configured", () => {
  it("a doctor's question notifies the mailbox of the patient's ELSM, with no medical content", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    await postForm(s, "/ps/conversations", { ...hidden, subject: "Suspicion Lyme chronique", body: "Sérologie positive, traitement proposé.", action: "send" });
    await app.notifier.flush();

    expect(smtp.received).toHaveLength(1);
    const [mail] = smtp.received;
    expect(mail!.to).toEqual(["elsm011@assurance-maladie.example"]);
    const text = readable(mail!.raw);
    expect(text).toContain("Subject: Échanges médicaux sécurisés : un nouveau message vous attend");
    expect(text).toContain("Un nouveau message vous attend");
    expect(text).toContain("https://ems.example/bo/login");
    expectNoMedicalContent(text, ["BUNYEL", "Guillaume", bunyel.nir, "Lyme", "Sérologie", "traitement proposé"]);
    const c = await conversationBySubject(app, "Suspicion Lyme chronique");
    expect(await app.db("notifications").where({ conversation_id: c.id }).whereNotNull("sent_at")).toHaveLength(1);
  });

  it("a question about an MSA patient notifies the MSA échelon", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, moreauMsa);
    await postForm(s, "/ps/conversations", { ...hidden, subject: "Question agricole", body: "Bonjour", action: "send" });
    await app.notifier.flush();
    expect(smtp.received.map((m) => m.to)).toEqual([["echelon@msa-ain-rhone.example"]]);
  });

  it("an ELSM message notifies the liberal doctor's own mailbox, with no medical content", async () => {
    const id = (await conversationBySubject(app, "Recherche")).id;
    await elsmWrites(app, "AIN", id, "Merci de transmettre le compte rendu d'hospitalisation de Mme SOLANA.");
    await app.notifier.flush();
    expect(smtp.received).toHaveLength(1);
    const [mail] = smtp.received;
    expect(mail!.to).toEqual(["jl.mezin@medecin.example"]);
    const text = readable(mail!.raw);
    expect(text).toContain("https://ems.example/ps/login");
    expectNoMedicalContent(text, ["SOLANA", "Inès", solana.nir, "Recherche", "compte rendu", "hospitalisation"]);
  });

  it("an ELSM message to a salaried doctor's structure goes to the structure's main mailbox", async () => {
    const s = await signInPs(app, drRoux);
    const { hidden } = await openCompose(s, moreauMsa);
    await postForm(s, "/ps/conversations", { ...hidden, subject: "Posée par le centre", body: "Bonjour", action: "send" });
    await app.notifier.flush();
    smtp.received.length = 0;

    const id = (await conversationBySubject(app, "Posée par le centre")).id;
    await elsmWrites(app, "RHONE", id, "Réponse de l'échelon MSA au sujet de Mme MOREAU.");
    await app.notifier.flush();
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.to).toEqual(["accueil@cds-tilleuls.example"]);
    expectNoMedicalContent(readable(smtp.received[0]!.raw), ["MOREAU", "Jeanne", moreauMsa.nir, "Posée par le centre", "Réponse de l'échelon"]);
  });

  it("a doctor without a notification mailbox gets no mail, and the message confirmed by the agent is still delivered", async () => {
    const martin = (await app.db("practitioners").where({ nam: drMartin.nam }).first("id")).id;
    const ain = await app.db("elsms").where({ code: "ELSM 011" }).first("id");
    const now = new Date().toISOString();
    const [row] = await app
      .db("conversations")
      .insert({
        subject: "Sans boîte",
        patient_id: null,
        ps_practitioner_id: martin,
        elsm_id: ain.id,
        started_by: "ps",
        started_by_practitioner_id: martin,
        state: "a_traiter",
        last_message_at: now,
        last_message_side: "ps",
        created_at: now,
      })
      .returning("id");
    const id = typeof row === "object" ? row.id : row;
    await app.db("messages").insert({ conversation_id: id, side: "ps", author_practitioner_id: martin, body: "Question", sent_at: now });
    // The agent was warned that no mail would announce it, and confirmed (issue 10 §7).
    await elsmWrites(app, "AIN", id, "Réponse", true);
    await app.notifier.flush();
    expect(smtp.received).toHaveLength(0);
    expect(await app.db("messages").where({ conversation_id: id })).toHaveLength(2);
  });

  it("a draft notifies nobody", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    await postForm(s, "/ps/conversations", { ...hidden, subject: "Juste un brouillon", body: "x", action: "draft" });
    await app.notifier.flush();
    expect(smtp.received).toHaveLength(0);
  });

  it("a reminder once an answer is overdue goes to the party that owes it, with no medical content, once", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    await postForm(s, "/ps/conversations", { ...hidden, subject: "Arrêt de travail prolongé", body: "Patient en ALD, reprise incertaine.", action: "send" });
    await app.notifier.flush();
    smtp.received.length = 0;
    const later = new Date(Date.now() + 16 * 86_400_000);
    expect((await deadlinePass(app.db, later)).reminders).toBeGreaterThanOrEqual(1);
    await deadlinePass(app.db, later);
    await app.notifier.flush();
    // The earlier tests' threads are overdue too by then: one reminder each, ours to the échelon's mailbox.
    const c = await conversationBySubject(app, "Arrêt de travail prolongé");
    const ours = await app.db("notifications").where({ conversation_id: c.id, kind: "reminder" });
    expect(ours.map((n) => [n.email, Boolean(n.sent_at)])).toEqual([["elsm011@assurance-maladie.example", true]]);
    const reminders = smtp.received.filter((m) => readable(m.raw).includes("une réponse est attendue"));
    expect(reminders.length).toBe(
      await app
        .db("notifications")
        .where({ kind: "reminder" })
        .count({ n: "*" })
        .then(([r]) => Number(r!.n)),
    );
    expect(reminders.some((m) => m.to.includes("elsm011@assurance-maladie.example"))).toBe(true);
    for (const m of reminders) {
      const text = readable(m.raw);
      expect(text).toContain("Subject: Échanges médicaux sécurisés : une réponse est attendue");
      expect(text).toMatch(/https:\/\/ems\.example\/(bo|ps)\/login/);
      expectNoMedicalContent(text, ["BUNYEL", "Guillaume", bunyel.nir, "Arrêt de travail", "ALD", "reprise", "Lyme", "SOLANA", "MOREAU"]);
    }
  });
});

describe("a reminder the SMTP server refuses (issue 14 §2)", () => {
  let refusing: Awaited<ReturnType<typeof startSmtp>>;
  let local: TestApp;
  beforeAll(async () => {
    refusing = await startSmtp();
    local = await startTestApp({ SMTP_URL: refusing.url });
  });
  afterAll(async () => {
    await local.close();
    await refusing.close();
  });

  it("stays queued and is sent at the next flush, once, still without content", async () => {
    const s = await signInPs(local, drGene);
    const { hidden } = await openCompose(s, bunyel);
    await postForm(s, "/ps/conversations", { ...hidden, subject: "Reprise refusée par le serveur", body: "Patient en ALD.", action: "send" });
    await local.notifier.flush();
    refusing.received.length = 0;
    const c = await conversationBySubject(local, "Reprise refusée par le serveur");

    refusing.state.refuse = true;
    expect((await deadlinePass(local.db, new Date(Date.now() + 16 * 86_400_000))).reminders).toBe(1);
    expect(await local.notifier.flush()).toBe(0);
    expect(refusing.state.refused).toBe(1);
    expect(refusing.received).toHaveLength(0);
    expect(await local.db("notifications").where({ conversation_id: c.id, kind: "reminder" }).first("sent_at", "attempts")).toEqual({ sent_at: null, attempts: 1 });

    refusing.state.refuse = false;
    expect(await local.notifier.flush()).toBe(1);
    expect(await local.notifier.flush()).toBe(0);
    expect(refusing.received.map((m) => m.to)).toEqual([["elsm011@assurance-maladie.example"]]);
    const text = readable(refusing.received[0]!.raw);
    expect(text).toContain("Subject: Échanges médicaux sécurisés : une réponse est attendue");
    expectNoMedicalContent(text, ["BUNYEL", "Guillaume", bunyel.nir, "Reprise refusée", "ALD"]);
    const row = await local.db("notifications").where({ conversation_id: c.id, kind: "reminder" }).first("sent_at", "attempts");
    expect(row.sent_at).not.toBeNull();
    expect(row.attempts).toBe(2);
  });
});

describe("without SMTP", () => {
  let local: TestApp;
  beforeAll(async () => {
    local = await startTestApp();
  });
  afterAll(async () => {
    await local.close();
  });

  it("the mail lands as an .eml file in the outbox folder, with no medical content", async () => {
    const s = await signInPs(local, drGene);
    const { hidden } = await openCompose(s, bunyel);
    await postForm(s, "/ps/conversations", { ...hidden, subject: "Objet confidentiel", body: "Texte confidentiel", action: "send" });
    await local.notifier.flush();

    const outbox = path.join(local.dir, "outbox");
    const files = fs.readdirSync(outbox).filter((f) => f.endsWith(".eml"));
    expect(files).toHaveLength(1);
    const text = readable(fs.readFileSync(path.join(outbox, files[0]!), "utf8"));
    expect(text).toMatch(/^To: elsm011@assurance-maladie\.example$/m);
    expect(text).toContain("Un nouveau message vous attend");
    expectNoMedicalContent(text, ["BUNYEL", "Guillaume", bunyel.nir, "Objet confidentiel", "Texte confidentiel"]);
  });
});

describe("a withdrawn message's mail (issue 15 §1)", () => {
  /** The échelon writes to Dr MEZIN (who has a mailbox), then withdraws it from the back office before he opens it. */
  async function writeThenWithdraw(flushBetween: boolean) {
    const id = (await conversationBySubject(app, "Recherche")).id;
    await elsmWrites(app, "AIN", id, "Message envoyé par erreur à ce médecin.");
    const message = Number((await app.db("messages").where({ conversation_id: id }).orderBy("id", "desc").first("id")).id);
    expect(await app.db("notifications").where({ message_id: message }).whereNull("sent_at")).toHaveLength(1);
    if (flushBetween) await app.notifier.flush();
    const anna = await signInAgent(app, annaAin);
    const res = await anna.agent.post(`/bo/conversations/${id}/messages/${message}/retirer`).type("form").send({ _csrf: anna.csrf });
    expect(res.status).toBe(303);
    await app.notifier.flush();
    return message;
  }

  it("not sent yet: cancelled, the receiver never gets it", async () => {
    const message = await writeThenWithdraw(false);
    expect(smtp.received).toHaveLength(0);
    expect(await app.db("notifications").where({ message_id: message })).toHaveLength(0);
  });

  it("already sent: the withdrawal never sends a second mail", async () => {
    const message = await writeThenWithdraw(true);
    expect(smtp.received.map((m) => m.to)).toEqual([["jl.mezin@medecin.example"]]);
    expect(await app.db("notifications").where({ message_id: message }).whereNotNull("sent_at")).toHaveLength(1);
  });
});
