import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, bunyel, hiddenFields, paulHerault, signInAgent, solana, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { conversationBySubject } from "../helpers/ps.js";

/** Issue 13 §5: the patient's other threads with this échelon, on the back office's thread page and new question. */
let app: TestApp;
let anna: Session;
const ferrand = { nir: "1620369387222" }; // a patient of ELSM 011 without any thread

beforeAll(async () => {
  app = await startTestApp();
  anna = await signInAgent(app, annaAin);
});
afterAll(async () => {
  await app.close();
});

type Shown = { subject: string; href: string; state: string; date: string };

function historyOf(html: string): { shown: Shown[]; empty: string; more: string; present: boolean } {
  const page = $(html);
  const block = page(".patient-history");
  return {
    present: block.length === 1 && block.find("h2").text() === "Autres échanges avec ce patient",
    shown: block
      .find("li")
      .toArray()
      .map((li) => ({
        subject: page(li).find("a").text(),
        href: page(li).find("a").attr("href") ?? "",
        state: page(li).find(".tray-tag").text(),
        date: page(li).find(".date").text(),
      })),
    empty: block.find("p").first().text(),
    more: block.find(".patient-history-more").text(),
  };
}

/** A thread written straight into the database (another ELSM's, or many of them for the limit). */
async function insertThread(subject: string, patientId: number, elsmId: number, at: string, extra: Record<string, unknown> = {}) {
  const practitioner = (await app.db("practitioners").first("id")).id;
  const [row] = await app
    .db("conversations")
    .insert({
      subject,
      patient_id: patientId,
      ps_practitioner_id: practitioner,
      elsm_id: elsmId,
      started_by: "ps",
      started_by_practitioner_id: practitioner,
      state: "a_traiter",
      last_message_at: at,
      last_message_side: "ps",
      created_at: at,
      ...extra,
    })
    .returning("id");
  return Number(typeof row === "object" ? row.id : row);
}

describe("on the thread page", () => {
  it("lists the patient's other threads with this ELSM, newest first, with state, date and link, not the current one", async () => {
    const current = await conversationBySubject(app, "Arrêt de travail durée maxi");
    const expected = await app
      .db("conversations")
      .where({ patient_id: current.patient_id, elsm_id: current.elsm_id })
      .whereNot({ id: current.id })
      .orderBy([
        { column: "last_message_at", order: "desc" },
        { column: "id", order: "desc" },
      ]);
    expect(expected.length).toBeGreaterThanOrEqual(2);
    const h = historyOf((await anna.agent.get(`/bo/conversations/${current.id}`)).text);
    expect(h.present).toBe(true);
    expect(h.shown.map((s) => s.subject)).toEqual(expected.map((c) => c.subject));
    expect(h.shown.map((s) => s.href)).toEqual(expected.map((c) => `/bo/conversations/${c.id}`));
    expect(h.shown[0]!.state).toMatch(/^\[(A TRAITER|EN COURS|CLOS)\]$/);
    expect(h.shown[0]!.date).toMatch(/\d{1,2}\/\d{2}\/\d{4} \d{2}:\d{2}/);
    expect(h.more).toBe("");
    // The link opens that thread.
    expect((await anna.agent.get(h.shown[0]!.href)).status).toBe(200);
  });

  it("only this ELSM's threads: the patient's thread with another ELSM is listed there, not here", async () => {
    const current = await conversationBySubject(app, "Arrêt de travail durée maxi");
    const herault = (await app.db("agents").where({ last_name: "HERAULT" }).first()).elsm_id;
    const other = await insertThread("Fil du même patient dans l'Hérault", current.patient_id, herault, "2019-05-01T08:00:00.000Z");
    const h = historyOf((await anna.agent.get(`/bo/conversations/${current.id}`)).text);
    expect(h.shown.map((s) => s.subject)).not.toContain("Fil du même patient dans l'Hérault");
    const paul = await signInAgent(app, paulHerault);
    const there = historyOf((await paul.agent.get(`/bo/conversations/${other}`)).text);
    expect(there.present).toBe(true);
    expect(there.shown).toEqual([]);
    expect(there.empty).toBe("Aucun autre échange pour ce patient.");
  });

  it("a thread the doctor deleted is still listed on the échelon's side", async () => {
    const deleted = await conversationBySubject(app, "info ALD");
    await app.db("conversations").where({ id: deleted.id }).update({ ps_deleted_at: "2019-05-02T08:00:00.000Z" });
    const current = await conversationBySubject(app, "Arrêt de travail durée maxi");
    const h = historyOf((await anna.agent.get(`/bo/conversations/${current.id}`)).text);
    expect(h.shown.map((s) => s.subject)).toContain("info ALD");
  });

  it("ten at most, then how many more there are", async () => {
    const lea = (await app.db("patients").where({ nir: bunyel.nir, first_name: "Léa" }).first()).id;
    const ain = (await app.db("elsms").where({ code: "ELSM 011" }).first()).id;
    const ids: number[] = [];
    for (let i = 0; i < 13; i += 1) ids.push(await insertThread(`Fil de Léa ${String(i).padStart(2, "0")}`, lea, ain, `2019-06-${String(i + 1).padStart(2, "0")}T08:00:00.000Z`));
    const h = historyOf((await anna.agent.get(`/bo/conversations/${ids[0]}`)).text);
    // 12 others: the ten newest, then "… et 2 autres".
    expect(h.shown.map((s) => s.subject)).toEqual(Array.from({ length: 10 }, (_, i) => `Fil de Léa ${String(12 - i).padStart(2, "0")}`));
    expect(h.more).toContain("… et 2 autres échanges plus anciens");
  });

  it("a thread without patient has no such block", async () => {
    const none = await conversationBySubject(app, "RV pour échange confraternel");
    expect(historyOf((await anna.agent.get(`/bo/conversations/${none.id}`)).text).present).toBe(false);
  });
});

describe("on the new question, once the NIR OD names a patient", () => {
  async function lookup(nirOd: string, patient?: string) {
    const blank = await anna.agent.get("/bo/conversations/new");
    expect(historyOf(blank.text).present).toBe(false);
    return anna.agent.post("/bo/conversations").field({ ...hiddenFields(blank.text), nir_od: nirOd, ...(patient ? { patient } : {}), action: "lookup" });
  }

  it("shows the patient's threads with this ELSM", async () => {
    const res = await lookup(solana.nir);
    expect(res.status).toBe(200);
    const h = historyOf(res.text);
    expect(h.present).toBe(true);
    expect(h.shown.map((s) => s.subject)).toEqual(["Recherche"]);
  });

  it("a patient without any thread: « Aucun autre échange pour ce patient. »", async () => {
    const h = historyOf((await lookup(ferrand.nir)).text);
    expect(h.present).toBe(true);
    expect(h.empty).toBe("Aucun autre échange pour ce patient.");
  });

  it("not before a patient is resolved: an N°AM names no patient, a shared NIR waits for the choice", async () => {
    const blank = await anna.agent.get("/bo/conversations/new");
    const byNam = await anna.agent.post("/bo/conversations").field({ ...hiddenFields(blank.text), destinataire: "991101197", action: "lookup" });
    expect(byNam.status).toBe(200);
    expect(historyOf(byNam.text).present).toBe(false);
    expect(historyOf((await lookup(bunyel.nir)).text).present).toBe(false);
  });
});
