import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, bunyel, drGene, hiddenFields, paulHerault, selectPatient, signInAgent, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

async function search(s: Session, fields: Record<string, string>) {
  const posted = await s.agent
    .post("/bo/recherche")
    .type("form")
    .send({ _csrf: s.csrf, ...fields });
  expect(posted.status).toBe(303);
  expect(posted.headers.location).toBe("/bo/recherche");
  const page = $((await s.agent.get("/bo/recherche")).text);
  return page(".results .item")
    .map((_, el) => ({
      subject: page(el).find(".item-subject").text().trim(),
      tray: page(el).find(".tray-tag").text().trim(),
    }))
    .get();
}

describe("back-office search", () => {
  const cases: [string, Record<string, string>, string[]][] = [
    ["patient name", { patient_nom: "bunyel" }, ["INFO ALD", "ALD - DEMANDE D'INFO CRITÈRES HAS", "ARRÊT DE TRAVAIL DURÉE MAXI"]],
    ["patient first name (accents ignored)", { patient_prenom: "ines" }, ["RECHERCHE"]],
    ["patient NIR", { patient_nir: "2851175123045" }, ["RECHERCHE"]],
    ["N°AM", { ps_nam: "971609219" }, ["SANS DOSSIER"]],
    ["postal code", { ps_cp: "38000" }, ["RECHERCHE"]],
    ["city", { ps_ville: "Mamoudzou" }, ["SANS DOSSIER"]],
    ["doctor's name", { ps_nom: "mezin" }, ["RECHERCHE"]],
    ["agent name and first name", { agent_nom: "ain", agent_prenom: "anna", ps_nam: "971609219" }, ["SANS DOSSIER"]],
  ];
  for (const [label, fields, expected] of cases) {
    it(`finds threads by ${label}, across the three trays`, async () => {
      const anna = await signInAgent(app, annaAin);
      const found = await search(anna, fields);
      expect(found.map((f) => f.subject).sort()).toEqual([...expected].sort());
    });
  }

  it("finds by patient name the threads started today, by the doctor and by the ELSM, and combines name and first name", async () => {
    const gene = await signInPs(app, drGene);
    await selectPatient(gene, bunyel);
    const form = await gene.agent.get("/ps/conversations/new");
    const sent = await gene.agent.post("/ps/conversations").field({ ...hiddenFields(form.text), subject: "Question du jour", body: "Texte", action: "send" });
    expect(sent.status).toBe(303);
    const anna = await signInAgent(app, annaAin);
    const blank = await anna.agent.get("/bo/conversations/new");
    // Bunyel's NIR has three beneficiaries: the agent chooses Guillaume.
    const guillaume = String((await app.db("patients").where({ nir: bunyel.nir, first_name: "Guillaume" }).first("id")).id);
    const shown = await anna.agent.post("/bo/conversations").field({ ...hiddenFields(blank.text), nir_od: bunyel.nir, patient: guillaume, action: "lookup" });
    const written = await anna.agent
      .post("/bo/conversations")
      .field({ ...hiddenFields(shown.text), nir_od: bunyel.nir, patient: guillaume, subject: "Réponse du service", body: "Texte", action: "send" });
    expect(written.status).toBe(303);

    const byName = (await search(anna, { patient_nom: "buny" })).map((f) => f.subject);
    expect(byName).toEqual(expect.arrayContaining(["QUESTION DU JOUR", "RÉPONSE DU SERVICE", "INFO ALD"]));
    const both = (await search(anna, { patient_nom: "bunyel", patient_prenom: "guil" })).map((f) => f.subject);
    expect(both).toEqual(expect.arrayContaining(["QUESTION DU JOUR", "RÉPONSE DU SERVICE"]));
    expect(await search(anna, { patient_nom: "bunyel", patient_prenom: "ines" })).toEqual([]);
  });

  it("shows each result's tray", async () => {
    const anna = await signInAgent(app, annaAin);
    const found = await search(anna, { ps_nom: "gene" });
    const trays = new Map(found.map((f) => [f.subject, f.tray]));
    expect(trays.get("INFO ALD")).toBe("[A TRAITER]");
    expect(trays.get("RV POUR ÉCHANGE CONFRATERNEL")).toBe("[EN COURS]");
  });

  it("finds a structure's threads by FINESS typed in N°AM, or by raison sociale typed in Nom", async () => {
    const paul = await signInAgent(app, paulHerault);
    expect((await search(paul, { ps_nam: "340098765" })).map((f) => f.subject).sort()).toEqual(["CHIRURGIE BARIATRIQUE - ENTENTE PRÉALABLE", "QUESTIONNAIRE PRÉ-OPÉRATOIRE"]);
    expect((await search(paul, { ps_nom: "clinique du" })).length).toBe(2);
  });

  it("never finds another ELSM's threads", async () => {
    const paul = await signInAgent(app, paulHerault);
    expect(await search(paul, { patient_nom: "BUNYEL" })).toEqual([]);
  });

  it("keeps NIR and names out of every URL, and RÉINITIALISER clears the criteria", async () => {
    const anna = await signInAgent(app, annaAin);
    await search(anna, { patient_nir: "1700469387111" });
    const page = (await anna.agent.get("/bo/recherche")).text;
    expect(
      $(page)("a")
        .map((_, a) => $(page)(a).attr("href"))
        .get()
        .join(" "),
    ).not.toContain("1700469387111");
    expect($(page)("#s-patient-nir").val()).toBe("1700469387111");
    await anna.agent.post("/bo/recherche/reinitialiser").type("form").send({ _csrf: anna.csrf });
    const cleared = $((await anna.agent.get("/bo/recherche")).text);
    expect(cleared("#s-patient-nir").val()).toBe("");
    expect(cleared(".results").length).toBe(0);
  });

  it("is traced without its terms", async () => {
    const anna = await signInAgent(app, annaAin);
    await search(anna, { patient_nom: "SOLANA" });
    const rows = await app.db("audit_events").where({ action: "search" });
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain("SOLANA");
  });
});
