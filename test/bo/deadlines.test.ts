import knex from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPostgres } from "../../src/db/dialect.js";
import { deadlinePass } from "../../src/domain/conversations/deadlines.js";
import { addParisDays, parisInstant, parisWallClock } from "../../src/domain/paris-time.js";
import { $, annaAin, bunyel, drGene, drMezin, hiddenFields, paulHerault, signInAgent, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { elsmWrites, listRows, postForm, sendPsQuestion, textOf } from "../helpers/ps.js";

/**
 * Issue 14 §1–2: answer-due dates on both sides, the échelon's delays, the « En retard » filters and counts, and the
 * deadline pass that flags and reminds each due date once. The clock is the pass's `now`: a date some days ahead.
 */
const DAY = 86_400_000;
let app: TestApp;
let anna: Session;
let gene: Session;

beforeAll(async () => {
  app = await startTestApp();
  anna = await signInAgent(app, annaAin);
  gene = await signInPs(app, drGene);
});
afterAll(async () => {
  await app.close();
});

const psQuestion = (subject: string) => sendPsQuestion(gene, bunyel, subject, "Bonjour, votre avis sur la reprise ?");

async function boQuestion(subject: string, destinataire: string = drGene.nam): Promise<number> {
  const blank = await anna.agent.get("/bo/conversations/new");
  const fields = { destinataire, subject, body: "Merci de nous transmettre le compte rendu." };
  const shown = await anna.agent.post("/bo/conversations").field({ ...hiddenFields(blank.text), ...fields, action: "lookup" });
  const sent = await anna.agent.post("/bo/conversations").field({ ...hiddenFields(shown.text), ...fields, action: "send" });
  expect(sent.status).toBe(303);
  return Number(sent.headers.location.split("/").pop());
}

const row = (id: number) => app.db("conversations").where({ id }).first("due_at", "due_side", "overdue", "state", "elsm_id");
const daysFromNow = (iso: string) => (Date.parse(iso) - Date.now()) / DAY;
const dueLine = async (s: Session, href: string) => textOf($((await s.agent.get(href)).text), "#thread-due");

describe("answer-due dates", () => {
  it("a doctor's question is due for the échelon 15 days later, said on both sides; the échelon's answer waits for nobody", async () => {
    const id = await psQuestion("Reprise après arrêt");
    const c = await row(id);
    expect(c.due_side).toBe("elsm");
    // 15 Paris days later, at the same Paris time (a change of hour in between moves it by an hour in UTC).
    expect(Math.abs(Date.parse(c.due_at) - Date.parse(addParisDays(new Date().toISOString(), 15)))).toBeLessThan(60_000);
    expect(await dueLine(anna, `/bo/conversations/${id}`)).toMatch(/^Réponse attendue avant le \d\d\/\d\d\/\d{4} à \d\d:\d\d — à l'échelon de répondre\.$/);
    expect(await dueLine(gene, `/ps/conversations/${id}`)).toMatch(/— à l'échelon de répondre\.$/);
    // Not close yet: the list rows say nothing.
    expect(
      listRows((await gene.agent.get("/ps/messages")).text)
        .find((r) => r.subject === "Reprise après arrêt")!
        .lines.join(" "),
    ).not.toMatch(/attendue|retard/i);

    // A second doctor's message while it waits keeps the first due date.
    await app
      .db("conversations")
      .where({ id })
      .update({ due_at: new Date(Date.now() + 2 * DAY).toISOString() });
    const form = await gene.agent.get(`/ps/conversations/${id}/reply`);
    expect((await postForm(gene, `/ps/conversations/${id}/messages`, { ...hiddenFields(form.text), body: "Un élément de plus.", action: "send" })).status).toBe(303);
    expect(daysFromNow((await row(id)).due_at)).toBeLessThan(2.01);
    // Due within 3 days: the row says so.
    const close = listRows((await gene.agent.get("/ps/messages")).text).find((r) => r.subject === "Reprise après arrêt")!;
    expect(close.lines.join(" ")).toMatch(/Réponse attendue avant le/);

    await elsmWrites(app, "AIN", id, "Reprise possible à mi-temps.");
    expect(await row(id)).toMatchObject({ due_at: null, due_side: null });
    expect(await dueLine(gene, `/ps/conversations/${id}`)).toBe("");
  });

  it("an échelon question is due for the doctor 21 days later (« à vous de répondre »); his reply makes it due for the échelon; closing clears it", async () => {
    const id = await boQuestion("Compte rendu attendu");
    const c = await row(id);
    expect(c.due_side).toBe("ps");
    expect(Math.round(daysFromNow(c.due_at))).toBe(21);
    expect(await dueLine(gene, `/ps/conversations/${id}`)).toMatch(/— à vous de répondre\.$/);
    expect(await dueLine(anna, `/bo/conversations/${id}`)).toMatch(/— au professionnel de santé de répondre\.$/);

    const form = await gene.agent.get(`/ps/conversations/${id}/reply`);
    expect((await postForm(gene, `/ps/conversations/${id}/messages`, { ...hiddenFields(form.text), body: "Le voici.", action: "send" })).status).toBe(303);
    expect((await row(id)).due_side).toBe("elsm");

    const confirm = $((await anna.agent.get(`/bo/conversations/${id}/close`)).text);
    const reason = String(confirm('select[name="reason_id"] option[value!=""]').first().val());
    expect((await anna.agent.post(`/bo/conversations/${id}/close`).type("form").send({ _csrf: anna.csrf, reason_id: reason })).status).toBe(303);
    expect(await row(id)).toMatchObject({ due_at: null, due_side: null });
    expect(await dueLine(gene, `/ps/conversations/${id}`)).toBe("");

    // The doctor writes into the closed thread: back in A TRAITER, due for the échelon 15 days later again.
    const again = await gene.agent.get(`/ps/conversations/${id}/reply`);
    expect((await postForm(gene, `/ps/conversations/${id}/messages`, { ...hiddenFields(again.text), body: "Une dernière pièce.", action: "send" })).status).toBe(303);
    const reopened = await row(id);
    expect(reopened).toMatchObject({ state: "a_traiter", due_side: "elsm" });
    expect(Math.round(daysFromNow(reopened.due_at))).toBe(15);
    expect(await dueLine(anna, `/bo/conversations/${id}`)).toMatch(/^Réponse attendue avant le .* — à l'échelon de répondre\.$/);
  });
});

describe("the échelon's delays (/bo/delais)", () => {
  const post = (s: Session, fields: Record<string, string>) =>
    s.agent
      .post("/bo/delais")
      .type("form")
      .send({ _csrf: s.csrf, ...fields });

  it("refuses 0, a negative number, 10,000 days, words and nothing, each in French on its field, what was typed kept", async () => {
    for (const [elsm, ps] of [
      ["0", "21"],
      ["15", "-3"],
      ["10000", "21"],
      ["quinze", "21"],
      ["", ""],
      ["1.5", "21"],
      ["366", "21"],
      ["15", "+5"],
      ["15 jours", "21"],
      ["１５", "21"],
      ["1e1", "21"],
      ["0x0F", "21"],
    ]) {
      const res = await post(anna, { elsm_days: elsm!, ps_days: ps! });
      expect(res.status, `${elsm}/${ps}`).toBe(422);
      const page = $(res.text);
      expect(page("#elsm-days").val()).toBe(elsm);
      expect(page("#ps-days").val()).toBe(ps);
      expect(textOf(page, ".errors-summary, .error-summary") + textOf(page, "#elsm-days-error") + textOf(page, "#ps-days-error")).toContain(
        "Saisissez un nombre entier de jours, de 1 à 365.",
      );
    }
    // A field sent twice (a forged form) is no number either: refused, never a 500.
    const twice = await anna.agent
      .post("/bo/delais")
      .type("form")
      .send(`_csrf=${encodeURIComponent(anna.csrf)}&elsm_days=5&elsm_days=6&ps_days=21`);
    expect(twice.status).toBe(422);
    expect(textOf($(twice.text), "#elsm-days-error")).toContain("Saisissez un nombre entier de jours, de 1 à 365.");
    expect(await app.db("elsms").where({ code: "ELSM 011" }).first("elsm_answer_days", "ps_answer_days")).toEqual({ elsm_answer_days: 15, ps_answer_days: 21 });
  });

  it("sets the échelon's own delays for the due dates set from then on; another échelon's stay; a doctor gets a 404", async () => {
    const page = $((await anna.agent.get("/bo/delais")).text);
    expect(page("#elsm-days").val()).toBe("15");
    const saved = await post(anna, { elsm_days: "5", ps_days: "30" });
    expect(saved.status).toBe(303);
    expect(textOf($((await anna.agent.get("/bo/delais")).text), ".notice")).toContain("Les délais de réponse ont été enregistrés.");
    const id = await psQuestion("Avec le nouveau délai");
    expect(Math.round(daysFromNow((await row(id)).due_at))).toBe(5);
    expect(await app.db("elsms").where({ code: "ELSM 341" }).first("elsm_answer_days")).toEqual({ elsm_answer_days: 15 });
    const audited = await app.db("audit_events").where({ action: "elsm.answer_days_changed" }).first("object_type", "object_id");
    expect(audited.object_type).toBe("elsm");
    expect((await gene.agent.get("/bo/delais")).status).toBe(404);
    expect((await gene.agent.post("/bo/delais").type("form").send({ _csrf: gene.csrf, elsm_days: "1", ps_days: "1" })).status).toBe(404);
    await post(anna, { elsm_days: "15", ps_days: "21" });
  });
});

describe("the deadline pass", () => {
  it("flags an overdue thread once, counts it in its tray, lists it under « En retard seulement » and reminds the échelon once", async () => {
    const id = await psQuestion("En attente depuis longtemps");
    const other = await psQuestion("Pas encore en retard");
    await app
      .db("conversations")
      .where({ id: other })
      .update({ due_at: new Date(Date.now() + 30 * DAY).toISOString() });
    const later = new Date(Date.now() + 16 * DAY);
    const first = await deadlinePass(app.db, later);
    expect(first.flagged).toBeGreaterThanOrEqual(1);
    expect((await row(id)).overdue).toBeTruthy();
    expect((await row(other)).overdue).toBeFalsy();
    expect(await deadlinePass(app.db, later)).toEqual({ flagged: 0, reminders: 0 });
    expect(await app.db("notifications").where({ conversation_id: id, kind: "reminder" }).pluck("email")).toEqual(["elsm011@assurance-maladie.example"]);

    const overdueInTray = Number(
      (
        await app
          .db("conversations")
          .where({ elsm_id: (await row(id)).elsm_id, state: "a_traiter", overdue: true })
          .count({ n: "*" })
      )[0]!.n,
    );
    const tray = $((await anna.agent.get("/bo/bannettes/a-traiter?retard=1")).text);
    expect(textOf(tray, "#list-title")).toContain(`(${overdueInTray})`);
    const subjects = tray("#list .item-subject")
      .map((_, el) => tray(el).text().trim())
      .get();
    expect(subjects).toContain("En attente depuis longtemps");
    expect(subjects).not.toContain("Pas encore en retard");
    expect(tray("#tray-retard").attr("checked")).toBeDefined();
    expect(tray('a[href*="retard=1"]').length).toBeGreaterThan(0);

    // The doctor's side: « En retard (n) », then only those; the rows say by how much (computed at each page), in
    // Paris calendar days: due at noon in Paris three days ago, it is 3 days late at any hour today.
    const today = parisWallClock(new Date());
    await app
      .db("conversations")
      .where({ id })
      .update({ due_at: parisInstant(today.year, today.month, today.day - 3, 12).toISOString() });
    const list = $((await gene.agent.get("/ps/messages")).text);
    expect(textOf(list, "#overdue-filter")).toMatch(/En retard \(\d+\)/);
    const only = listRows((await gene.agent.get("/ps/messages?retard=1")).text);
    expect(only.map((r) => r.subject)).toContain("En attente depuis longtemps");
    expect(only.map((r) => r.subject)).not.toContain("Pas encore en retard");
    expect(only.find((r) => r.subject === "En attente depuis longtemps")!.lines.join(" ")).toContain("En retard de 3 jours");
    expect(await dueLine(anna, `/bo/conversations/${id}`)).toMatch(/— en retard de 3 jours — à l'échelon de répondre\.$/);
    // The back office's row says it too, in its tray and under « En retard seulement ».
    for (const href of ["/bo/bannettes/a-traiter", "/bo/bannettes/a-traiter?retard=1"]) {
      const boRow = $((await anna.agent.get(href)).text)(`.item-link[href="/bo/conversations/${id}"]`);
      expect(boRow.find(".item-due.late").text().trim(), href).toBe("En retard de 3 jours");
      expect(boRow.attr("aria-describedby"), href).toContain(`row-c${id}-due`);
    }
    // Due yesterday evening in Paris: « 1 jour », in the singular.
    await app
      .db("conversations")
      .where({ id })
      .update({ due_at: parisInstant(today.year, today.month, today.day - 1, 20).toISOString() });
    expect(listRows((await gene.agent.get("/ps/messages?retard=1")).text).find((r) => r.subject === "En attente depuis longtemps")!.lines).toContain("En retard de 1 jour");

    // Answered: no longer overdue, the tray count follows.
    await elsmWrites(app, "AIN", id, "Voici notre réponse.");
    expect((await row(id)).overdue).toBeFalsy();
    const after = $((await anna.agent.get("/bo/bannettes/a-traiter?retard=1")).text);
    expect(textOf(after, "#list-title")).toContain(`(${overdueInTray - 1})`);
  });

  it("a new due date is reminded again, once; the doctor is reminded at his own mailbox for an échelon question", async () => {
    const id = await boQuestion("Relance du médecin");
    await deadlinePass(app.db, new Date(Date.now() + 22 * DAY));
    expect(await app.db("notifications").where({ conversation_id: id, kind: "reminder" }).pluck("email")).toEqual(["alain.gene@medecin.example"]);
    await elsmWrites(app, "AIN", id, "Nous relançons notre demande.");
    expect((await row(id)).overdue).toBeFalsy();
    await deadlinePass(app.db, new Date(Date.now() + 44 * DAY));
    await deadlinePass(app.db, new Date(Date.now() + 45 * DAY));
    expect(await app.db("notifications").where({ conversation_id: id, kind: "reminder" }).count({ n: "*" })).toEqual([{ n: isPostgres(app.db) ? "2" : 2 }]);

    // A question to a health centre (its FINESS): the reminder goes to the structure's main mailbox.
    const centre = await boQuestion("Relance du centre", "010012345");
    expect((await row(centre)).due_side).toBe("ps");
    await deadlinePass(app.db, new Date(Date.now() + 22 * DAY));
    expect(await app.db("notifications").where({ conversation_id: centre, kind: "reminder" }).pluck("email")).toEqual(["accueil@cds-tilleuls.example"]);
  });

  it("two processes racing remind a due date once", async () => {
    const ids = [await psQuestion("Course 1"), await psQuestion("Course 2"), await psQuestion("Course 3")];
    const later = new Date(Date.now() + 16 * DAY);
    // A second connection pool, as a second app process has (on SQLite, a second connection to the same file, waiting
    // for the write lock); test/cli/reminders.test.ts races two real processes.
    const second = knex(app.db.client.config);
    try {
      await Promise.all([deadlinePass(app.db, later), deadlinePass(second, later), deadlinePass(app.db, later)]);
    } finally {
      await second.destroy();
    }
    for (const id of ids)
      expect(await app.db("notifications").where({ conversation_id: id, kind: "reminder" }).count({ n: "*" }), String(id)).toEqual([{ n: isPostgres(app.db) ? "1" : 1 }]);
    const c = await row(ids[0]!);
    const counted = await app.db("tray_counts").where({ elsm_id: c.elsm_id, state: "a_traiter" }).first("overdue");
    const actual = await app.db("conversations").where({ elsm_id: c.elsm_id, state: "a_traiter", overdue: true }).count({ n: "*" });
    expect(Number(counted.overdue)).toBe(Number(actual[0]!.n));
  });

  it("another échelon's agent never sees these due dates' threads; a doctor cannot reach the back office's filter", async () => {
    const paul = await signInAgent(app, paulHerault);
    const tray = $((await paul.agent.get("/bo/bannettes/a-traiter?retard=1")).text);
    expect(tray("#list .item-subject").text()).not.toContain("En attente depuis longtemps");
    expect((await gene.agent.get("/bo/bannettes/a-traiter?retard=1")).status).toBe(404);
    const mezin = await signInPs(app, drMezin);
    expect(listRows((await mezin.agent.get("/ps/messages?retard=1")).text).map((r) => r.subject)).not.toContain("En attente depuis longtemps");
  });
});
