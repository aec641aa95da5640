import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { annaAin, bunyel, drGene, hiddenFields, selectPatient, signInAgent, signInPs, solana, startTestApp, type TestApp } from "../helpers/app.js";

/**
 * Issue 11 §6: every display of a patient's identity or of a thread's subject is one audit row — the patient
 * look-ups (NIR, Carte Vitale, the échelon's NIR OD) and the pages that show a thread without opening it.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const rows = (action: string, type: string) => app.db("audit_events").where({ action, object_type: type }).orderBy("id").select("object_id", "actor_type");
const patientIds = async (nir: string) => (await app.db("patients").where({ nir }).orderBy("id").select("id")).map((p) => Number(p.id));

describe("a patient's identity shown", () => {
  it("the doctor's NIR look-up: one row for the patient found; one per beneficiary offered, then the one chosen", async () => {
    const gene = await signInPs(app, drGene);
    const before = (await rows("patient.displayed", "patient")).length;
    await selectPatient(gene, solana);
    const afterSolana = await rows("patient.displayed", "patient");
    expect(afterSolana.slice(before).map((r) => Number(r.object_id))).toEqual(await patientIds(solana.nir));
    await selectPatient(gene, bunyel);
    const bunyels = await patientIds(bunyel.nir);
    expect(bunyels.length).toBeGreaterThan(1);
    const shown = (await rows("patient.displayed", "patient")).slice(afterSolana.length).map((r) => Number(r.object_id));
    // The beneficiaries offered, then Guillaume's selection.
    expect(shown.slice(0, bunyels.length).sort()).toEqual([...bunyels].sort());
    expect(shown).toHaveLength(bunyels.length + 1);
  });

  it("a Carte Vitale read: one row for its patient", async () => {
    const gene = await signInPs(app, drGene);
    const page = await gene.agent.get("/ps/patient");
    const option = /<option value="(\d+)">/.exec(page.text.slice(page.text.indexOf('id="vitale"')));
    expect(option, "a demo Carte Vitale to read").toBeTruthy();
    const before = (await rows("patient.displayed", "patient")).length;
    const res = await gene.agent.post("/ps/patient/vitale").type("form").send({ _csrf: gene.csrf, patient: option![1] });
    expect(res.status).toBe(303);
    const after = await rows("patient.displayed", "patient");
    expect(after.slice(before).map((r) => Number(r.object_id))).toEqual([Number(option![1])]);
  });

  it("the échelon's NIR OD look-up: one row for the patient shown with their médecin traitant", async () => {
    const anna = await signInAgent(app, annaAin);
    const blank = await anna.agent.get("/bo/conversations/new");
    const before = (await rows("patient.displayed", "patient")).length;
    const res = await anna.agent.post("/bo/conversations").field({ ...hiddenFields(blank.text), nir_od: solana.nir, action: "lookup" });
    expect(res.status).toBe(200);
    const after = await rows("patient.displayed", "patient");
    expect(after.slice(before).map((r) => [Number(r.object_id), r.actor_type])).toEqual([[(await patientIds(solana.nir))[0], "agent"]]);
  });
});

describe("a thread's subject shown without opening it", () => {
  it("the reply form, the delete confirmation and the close confirmation: one row each", async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const c = await app
      .db("conversations as c")
      .join("practitioners as p", "p.id", "c.ps_practitioner_id")
      .where("p.nam", drGene.nam)
      .whereNot("c.state", "clos")
      .whereNull("c.ps_deleted_at")
      .first("c.id");
    const displayed = async () => (await app.db("audit_events").where({ action: "conversation.displayed", object_id: c.id })).length;
    expect(await displayed()).toBe(0);
    await gene.agent.get(`/ps/conversations/${c.id}/reply`).expect(200);
    expect(await displayed()).toBe(1);
    await gene.agent.get(`/ps/conversations/${c.id}/delete`).expect(200);
    expect(await displayed()).toBe(2);
    await anna.agent.get(`/bo/conversations/${c.id}/close`).expect(200);
    expect(await displayed()).toBe(3);
  });
});
