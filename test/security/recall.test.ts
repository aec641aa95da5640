import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, bunyel, drMezin, fixture, hiddenFields, marcDubois, paulHerault, signInAgent, signInPs, startWithGeneAndAnna, type Session, type TestApp } from "../helpers/app.js";
import { recountDerived } from "../../src/domain/conversations/counters.js";
import { storedFilePath } from "../helpers/s3.js";
import { readPdf } from "../helpers/pdf.js";
import { countRows, download, elsmWrites, postForm, sendPsQuestion, textAll, textOf } from "../helpers/ps.js";

/**
 * Issue 15 §1, « Retirer le message »: the author's side withdraws its latest message while the other side has not opened
 * it. The thread goes back as if it had not been sent (state, counts, trays, last message), the message becomes a
 * tombstone on both sides, its files are deleted, its words leave the search; every refusal is said in French.
 */
let app: TestApp;
let gene: Session;
let anna: Session;
beforeAll(async () => {
  ({ app, gene, anna } = await startWithGeneAndAnna());
});
afterAll(() => app.close());

const withdrawUrl = (base: "/ps" | "/bo", conversation: number, message: number) => `${base}/conversations/${conversation}/messages/${message}/retirer`;
const withdraw = (s: Session, base: "/ps" | "/bo", conversation: number, message: number) =>
  s.agent
    .post(withdrawUrl(base, conversation, message))
    .type("form")
    .send({ _csrf: s.csrf });

/** The doctor replies in a thread (a real post of the reply form), with files; the new message's id. */
async function psReplies(s: Session, conversation: number, body: string, files: string[] = []): Promise<number> {
  const form = await s.agent.get(`/ps/conversations/${conversation}/reply`);
  const sent = await postForm(
    s,
    `/ps/conversations/${conversation}/messages`,
    { ...hiddenFields(form.text), body, action: "send" },
    files.map((f) => ({ path: f })),
  );
  expect(sent.status).toBe(303);
  return latestMessage(conversation);
}
const latestMessage = async (conversation: number) => Number((await app.db("messages").where({ conversation_id: conversation }).orderBy("id", "desc").first("id")).id);

/** Whether a search by words (the doctor's or the échelon's) lists this thread; the search is reset after. */
async function searchFinds(s: Session, texte: string, id: number): Promise<boolean> {
  const bo = s === anna;
  const base = bo ? "/bo" : "/ps";
  const sent = await s.agent
    .post(bo ? "/bo/recherche" : "/ps/search")
    .type("form")
    .send({ _csrf: s.csrf, texte });
  expect(sent.status).toBe(303);
  const page = $((await s.agent.get(bo ? "/bo/recherche" : "/ps/messages")).text);
  await s.agent
    .post(bo ? "/bo/recherche/reinitialiser" : "/ps/search/reset")
    .type("form")
    .send({ _csrf: s.csrf });
  // The échelon's results are in the detail (its list column shows a tray); the doctor's, in the list column.
  return page(`${bo ? "#detail .results" : "#list"} a[href="${base}/conversations/${id}"]`).length > 0;
}

/** What a send changes on the thread and the échelon's trays, to compare before / after. */
async function threadState(conversation: number) {
  const c = await app
    .db("conversations")
    .where({ id: conversation })
    .first("state", "elsm_unread", "ps_unread", "last_message_at", "last_message_side", "redacteur_agent_id", "due_at", "due_side", "first_answer_at", "elsm_id");
  const trays = await app.db("tray_counts").where({ elsm_id: c.elsm_id }).orderBy("state").select("state", "n", "unread", "patient", "patient_unread", "overdue");
  return {
    ...c,
    elsm_unread: Number(c.elsm_unread),
    ps_unread: Number(c.ps_unread),
    trays: trays.map((t) => ({ ...t, n: Number(t.n), unread: Number(t.unread), patient: Number(t.patient), patient_unread: Number(t.patient_unread), overdue: Number(t.overdue) })),
  };
}

/** A thread of Dr GENE the échelon has opened and answered: EN COURS, nothing unread on either side once the doctor read it. */
async function answeredThread(subject: string): Promise<number> {
  const id = await sendPsQuestion(gene, bunyel, subject, "Première question du médecin.");
  await anna.agent.get(`/bo/conversations/${id}`);
  await elsmWrites(app, "AIN", id, "Réponse de l'échelon.");
  await gene.agent.get(`/ps/conversations/${id}`);
  return id;
}

describe("the doctor withdraws a reply the échelon has not opened", () => {
  let id: number;
  let message: number;
  let before: Awaited<ReturnType<typeof threadState>>;
  let storedFiles: string[];
  let foundBefore: boolean[];
  beforeAll(async () => {
    id = await answeredThread("Retrait d'une relance");
    before = await threadState(id);
    message = await psReplies(gene, id, "Relance envoyée par erreur : zéphyrine confidentielle.", [fixture("valid", "compte-rendu.pdf")]);
    storedFiles = await app.db("attachments").where({ message_id: message }).pluck("storage_key");
    foundBefore = [await searchFinds(gene, "zéphyrine", id), await searchFinds(anna, "zéphyrine", id)];
  });

  it("offers « Retirer le message » under the doctor's own latest message only, then asks first", async () => {
    const page = $((await gene.agent.get(`/ps/conversations/${id}`)).text);
    const links = page(".message-recall a");
    expect(links).toHaveLength(1);
    expect(links.text().trim()).toBe("Retirer le message");
    expect(links.attr("href")).toBe(withdrawUrl("/ps", id, message));
    expect(links.closest("li").attr("id")).toBe(`message-${message}`);
    const confirm = await gene.agent.get(withdrawUrl("/ps", id, message));
    expect(confirm.status).toBe(200);
    const c = $(confirm.text);
    expect(textOf(c, "h1")).toMatch(/^Retirer votre message du .+ \?$/);
    expect(textOf(c, "#withdraw-text")).toContain("et sa pièce jointe seront supprimés définitivement");
    expect(
      c(`form[action="${withdrawUrl("/ps", id, message)}"] button`)
        .text()
        .trim(),
    ).toBe("Retirer le message");
    // Asking changes nothing.
    expect(await countRows(app.db("messages").where({ id: message }).whereNull("withdrawn_at"))).toBe(1);
  });

  it("withdraws it: back on the thread with the notice, a tombstone in its place, the thread as before the send", async () => {
    expect(await threadState(id)).not.toEqual(before);
    const res = await withdraw(gene, "/ps", id, message);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/ps/conversations/${id}`);
    const page = $((await gene.agent.get(res.headers.location)).text);
    expect(textOf(page, "main .notice")).toBe("Le message a été retiré : les deux côtés ne voient plus que la mention « Message retiré ».");
    const li = page(`#message-${message}`);
    expect(li.find(".message-withdrawn").text()).toMatch(/^Message retiré par Dr .+ le .+\d{2}:\d{2}$/);
    expect(li.find(".message-body")).toHaveLength(0);
    expect(li.find(".attachments")).toHaveLength(0);
    expect(page.text()).not.toContain("zéphyrine");
    expect(page(".message-recall")).toHaveLength(0);
    // State, unread counts, last message, due date and the échelon's trays: as if it had not been sent.
    expect(await threadState(id)).toEqual(before);
  });

  it("leaves a tombstone on the échelon's side too, never opened, and the thread back in EN COURS", async () => {
    const page = $((await anna.agent.get(`/bo/conversations/${id}`)).text);
    expect(page(`#message-${message} .message-withdrawn`).text()).toMatch(/^Message retiré par Dr .+ le /);
    expect(page.text()).not.toContain("zéphyrine");
    expect((await app.db("messages").where({ id: message }).first("read_at")).read_at).toBeNull();
    const tray = await anna.agent.get("/bo/bannettes/en-cours");
    expect($(tray.text)(`#list a.item-link[href="/bo/conversations/${id}"]`)).toHaveLength(1);
  });

  it("deletes its text, its attachments' rows and stored files, and its words from the search", async () => {
    expect((await app.db("messages").where({ id: message }).first("body")).body).toBe("");
    expect(await countRows(app.db("attachments").where({ message_id: message }))).toBe(0);
    expect(storedFiles).toHaveLength(1);
    for (const key of storedFiles) expect(fs.existsSync(storedFilePath(app.config, key))).toBe(false);
    expect(foundBefore).toEqual([true, true]);
    expect([await searchFinds(gene, "zéphyrine", id), await searchFinds(anna, "zéphyrine", id)]).toEqual([false, false]);
  });

  it("is filed in the PDF export as its tombstone, its text and file gone", async () => {
    const text = (await readPdf((await download(gene, `/ps/conversations/${id}/pdf`)).body as Buffer)).text.replace(/\s+/g, " ");
    expect(text).toMatch(/Message retiré par Dr .+ le /);
    expect(text).toContain("Réponse de l'échelon.");
    expect(text).not.toContain("zéphyrine");
    expect(text).not.toContain("compte-rendu.pdf");
  });

  it("is traced by ids only", async () => {
    const rows = await app.db("audit_events").where({ action: "message.withdrawn", object_type: "message", object_id: message });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_type: "practitioner" });
  });

  it("cannot be withdrawn twice", async () => {
    const res = await withdraw(gene, "/ps", id, message);
    expect(res.status).toBe(409);
    expect(textOf($(res.text), "#withdraw-refusal")).toBe("Ce message a déjà été retiré.");
  });
});

describe("refusals, each said in French, nothing changed", () => {
  it("too late: the échelon opened it — « Trop tard » with when", async () => {
    const id = await answeredThread("Retrait trop tard");
    const message = await psReplies(gene, id, "Message lu avant le retrait.");
    await anna.agent.get(`/bo/conversations/${id}`);
    const res = await withdraw(gene, "/ps", id, message);
    expect(res.status).toBe(409);
    expect(textOf($(res.text), "#withdraw-refusal")).toMatch(/^Trop tard : le message a été ouvert par l'échelon le .+ ; il ne peut plus être retiré\.$/);
    expect((await app.db("messages").where({ id: message }).first("body", "withdrawn_at")).body).toBe("Message lu avant le retrait.");
    // Shown without its link once opened.
    expect($((await gene.agent.get(`/ps/conversations/${id}`)).text)(".message-recall")).toHaveLength(0);
  });

  it("an older message, another side's message, a closed thread: refused; another thread's message id or garbage: 404", async () => {
    const id = await answeredThread("Retrait refusé");
    const first = await psReplies(gene, id, "Premier message non lu.");
    const second = await psReplies(gene, id, "Second message non lu.");
    const older = await withdraw(gene, "/ps", id, first);
    expect(older.status).toBe(409);
    expect(textOf($(older.text), "#withdraw-refusal")).toBe("Seul le dernier message de la conversation peut être retiré, tant que son destinataire ne l'a pas ouvert.");
    const elsmMessage = Number((await app.db("messages").where({ conversation_id: id, side: "elsm" }).first("id")).id);
    const notYours = await withdraw(gene, "/ps", id, elsmMessage);
    expect(notYours.status).toBe(409);
    expect(textOf($(notYours.text), "#withdraw-refusal")).toBe("Vous ne pouvez retirer que vos propres messages.");
    // The échelon cannot withdraw the doctor's message either.
    const agentTries = await withdraw(anna, "/bo", id, second);
    expect(agentTries.status).toBe(409);
    expect(textOf($(agentTries.text), "#withdraw-refusal")).toBe("Vous ne pouvez retirer que vos propres messages.");
    // Another thread's message under this thread's URL, and ids that are none.
    const elsewhere = await answeredThread("Retrait ailleurs");
    const foreign = await psReplies(gene, elsewhere, "Message d'un autre fil.");
    for (const bad of [String(foreign), "abc", "0", "-1", "99999999"]) {
      expect((await gene.agent.post(`/ps/conversations/${id}/messages/${bad}/retirer`).type("form").send({ _csrf: gene.csrf })).status).toBe(404);
      expect((await gene.agent.get(`/ps/conversations/${id}/messages/${bad}/retirer`)).status).toBe(404);
    }
    // Closed by the échelon (from its confirmation page, which does not open the thread): too late.
    const reason = (await app.db("closure_reasons").first("id")).id;
    const closed = await anna.agent
      .post(`/bo/conversations/${id}/close`)
      .type("form")
      .send({ _csrf: anna.csrf, reason_id: String(reason) });
    expect(closed.status).toBe(303);
    const afterClose = await withdraw(gene, "/ps", id, second);
    expect(afterClose.status).toBe(409);
    expect(textOf($(afterClose.text), "#withdraw-refusal")).toBe("La conversation est close : ses messages ne peuvent plus être retirés.");
    expect(await countRows(app.db("messages").where({ conversation_id: id }).whereNotNull("withdrawn_at"))).toBe(0);
  });

  it("outside the scope: another doctor, another échelon, a thread the doctor deleted — 404", async () => {
    const id = await answeredThread("Retrait hors champ");
    const message = await psReplies(gene, id, "Message hors champ.");
    const mezin = await signInPs(app, drMezin);
    const paul = await signInAgent(app, paulHerault);
    for (const [s, base] of [
      [mezin, "/ps"],
      [paul, "/bo"],
    ] as const) {
      expect((await s.agent.get(withdrawUrl(base, id, message))).status).toBe(404);
      expect((await withdraw(s, base, id, message)).status).toBe(404);
    }
    await gene.agent.post(`/ps/conversations/${id}/delete`).type("form").send({ _csrf: gene.csrf });
    expect((await withdraw(gene, "/ps", id, message)).status).toBe(404);
    expect((await app.db("messages").where({ id: message }).first("withdrawn_at")).withdrawn_at).toBeNull();
  });
});

describe("the same form posted again after its message was withdrawn (Back, corrected)", () => {
  it("is sent as a new message, its text not swallowed as « already sent »", async () => {
    const id = await answeredThread("Retrait puis renvoi");
    const form = await gene.agent.get(`/ps/conversations/${id}/reply`);
    const fields = { ...hiddenFields(form.text), body: "Texte avec une erreur.", action: "send" };
    expect((await postForm(gene, `/ps/conversations/${id}/messages`, fields)).status).toBe(303);
    const first = await latestMessage(id);
    expect((await withdraw(gene, "/ps", id, first)).status).toBe(303);
    const again = await postForm(gene, `/ps/conversations/${id}/messages`, { ...fields, body: "Texte corrigé." });
    expect(again.status).toBe(303);
    const second = await latestMessage(id);
    expect(second).not.toBe(first);
    expect((await app.db("messages").where({ id: second }).first("body")).body).toBe("Texte corrigé.");
  });
});

describe("the échelon withdraws its own message", () => {
  it("any agent of the échelon may; the doctor's side reads « retiré par » the échelon, the back office the agent", async () => {
    const id = await answeredThread("Retrait par l'échelon");
    const before = await threadState(id);
    await elsmWrites(app, "AIN", id, "Réponse envoyée au mauvais médecin : xylophage.");
    const message = await latestMessage(id);
    expect((await threadState(id)).ps_unread).toBe(before.ps_unread + 1);
    const marc = await signInAgent(app, marcDubois);
    const page = $((await marc.agent.get(`/bo/conversations/${id}`)).text);
    expect(page(`#message-${message} .message-recall a`).attr("href")).toBe(withdrawUrl("/bo", id, message));
    const res = await withdraw(marc, "/bo", id, message);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/bo/conversations/${id}`);
    expect(await threadState(id)).toEqual(before);
    const bo = $((await marc.agent.get(`/bo/conversations/${id}`)).text);
    expect(bo(`#message-${message} .message-withdrawn`).text()).toMatch(/^Message retiré par Marc DUBOIS le /);
    const ps = $((await gene.agent.get(`/ps/conversations/${id}`)).text);
    expect(ps(`#message-${message} .message-withdrawn`).text()).toMatch(/^Message retiré par ELSM .+ le /);
    expect(ps.text()).not.toContain("xylophage");
    expect(ps.text()).not.toContain("DUBOIS");
  });
});

describe("a withdrawn first message takes its thread away", () => {
  it("the doctor's new question: gone from the échelon's tray and a 404 there, the doctor back on the list with why", async () => {
    const elsmId = (await app.db("elsms").where({ code: "ELSM 011" }).first("id")).id;
    const traysBefore = await app.db("tray_counts").where({ elsm_id: elsmId }).orderBy("state").select("state", "n", "unread");
    const id = await sendPsQuestion(gene, bunyel, "Question envoyée par erreur", "Mauvais patient.");
    const message = await latestMessage(id);
    const res = await withdraw(gene, "/ps", id, message);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/ps/messages");
    const list = await gene.agent.get(res.headers.location);
    expect(textOf($(list.text), "main .notice")).toBe("Le message a été retiré et la conversation supprimée : personne d'autre ne l'avait ouverte.");
    expect(textAll(list.text, "#list")).not.toContain("Question envoyée par erreur");
    expect((await anna.agent.get(`/bo/conversations/${id}`)).status).toBe(404);
    expect((await gene.agent.get(`/ps/conversations/${id}`)).status).toBe(404);
    expect(await app.db("tray_counts").where({ elsm_id: elsmId }).orderBy("state").select("state", "n", "unread")).toEqual(traysBefore);
    expect(await countRows(app.db("conversations").where({ id }))).toBe(0);
    expect(await app.db("audit_events").where({ action: "conversation.withdrawn", object_id: id }).pluck("object_type")).toEqual(["conversation"]);
  });
});

describe("withdrawing races an opening", () => {
  it("one of them wins, never both: withdrawn and unread, or opened and refused", async () => {
    for (let round = 0; round < 6; round += 1) {
      const id = await answeredThread(`Course ${round}`);
      const message = await psReplies(gene, id, `Course ${round}`);
      // Each starts first in turn.
      const open = () => anna.agent.get(`/bo/conversations/${id}`);
      const take = () => withdraw(gene, "/ps", id, message);
      const [opened, withdrawn] = round % 2 ? await Promise.all([open(), take()]) : (await Promise.all([take(), open()])).reverse();
      const row = await app.db("messages").where({ id: message }).first("read_at", "withdrawn_at");
      if (withdrawn.status === 303) {
        expect(row.withdrawn_at).not.toBeNull();
        expect(row.read_at).toBeNull();
      } else {
        expect(withdrawn.status).toBe(409);
        expect(row.read_at).not.toBeNull();
        expect(row.withdrawn_at).toBeNull();
      }
      expect(opened.status).toBe(200);
      const c = await app.db("conversations").where({ id }).first("elsm_unread");
      expect(Number(c.elsm_unread)).toBe(0);
    }
  });

  it("the échelon withdrawing while the doctor opens (no row lock on the doctor's side): the conditional update decides", async () => {
    for (let round = 0; round < 6; round += 1) {
      const id = await answeredThread(`Course inverse ${round}`);
      await elsmWrites(app, "AIN", id, `Course inverse ${round}`);
      const message = await latestMessage(id);
      const open = () => gene.agent.get(`/ps/conversations/${id}`);
      const take = () => withdraw(anna, "/bo", id, message);
      const [opened, withdrawn] = round % 2 ? await Promise.all([open(), take()]) : (await Promise.all([take(), open()])).reverse();
      const row = await app.db("messages").where({ id: message }).first("read_at", "withdrawn_at");
      expect(opened.status).toBe(200);
      expect(withdrawn.status === 303 ? row.withdrawn_at !== null && row.read_at === null : row.read_at !== null && row.withdrawn_at === null).toBe(true);
      expect(Number((await app.db("conversations").where({ id }).first("ps_unread")).ps_unread)).toBe(0);
    }
  });
});

describe("the counts the operations keep", () => {
  it("after all those withdrawals (tombstones, removed threads, races) equal a full recount", async () => {
    const counts = async () => ({
      trays: (await app.db("tray_counts").orderBy(["elsm_id", "state"]).select("elsm_id", "state", "n", "unread", "patient", "patient_unread", "overdue"))
        .map((r) => ({ ...r, n: Number(r.n), unread: Number(r.unread), patient: Number(r.patient), patient_unread: Number(r.patient_unread), overdue: Number(r.overdue) }))
        .filter((r) => r.n > 0),
      unread: (await app.db("conversations").orderBy("id").select("id", "ps_unread", "elsm_unread")).map((r) => ({
        ...r,
        ps_unread: Number(r.ps_unread),
        elsm_unread: Number(r.elsm_unread),
      })),
    });
    expect(await countRows(app.db("messages").whereNotNull("withdrawn_at"))).toBeGreaterThanOrEqual(2);
    const kept = await counts();
    await recountDerived(app.db);
    expect(await counts()).toEqual(kept);
  });
});
