import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  $,
  annaAin,
  bunyel,
  drGene,
  hiddenFields,
  marieRhone,
  paulHerault,
  selectPatient,
  signInAgent,
  signInPs,
  startTestApp,
  type Session,
  type TestApp,
} from "../helpers/app.js";

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
    ["patient name", { patient_nom: "bunyel" }, ["info ALD", "ALD - demande d'info critères HAS", "Arrêt de travail durée maxi"]],
    ["patient first name (accents ignored)", { patient_prenom: "ines" }, ["Recherche"]],
    ["patient NIR", { patient_nir: "2851175123045" }, ["Recherche"]],
    ["N°AM", { ps_nam: "971609219" }, ["Sans dossier"]],
    ["postal code", { ps_cp: "38000" }, ["Recherche"]],
    ["city", { ps_ville: "Mamoudzou" }, ["Sans dossier"]],
    ["doctor's name", { ps_nom: "mezin" }, ["Recherche"]],
    ["agent name and first name", { agent_nom: "ain", agent_prenom: "anna", ps_nam: "971609219" }, ["Sans dossier"]],
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
    expect(byName).toEqual(expect.arrayContaining(["Question du jour", "Réponse du service", "info ALD"]));
    const both = (await search(anna, { patient_nom: "bunyel", patient_prenom: "guil" })).map((f) => f.subject);
    expect(both).toEqual(expect.arrayContaining(["Question du jour", "Réponse du service"]));
    expect(await search(anna, { patient_nom: "bunyel", patient_prenom: "ines" })).toEqual([]);
  });

  it("shows each result's tray", async () => {
    const anna = await signInAgent(app, annaAin);
    const found = await search(anna, { ps_nom: "gene" });
    const trays = new Map(found.map((f) => [f.subject, f.tray]));
    expect(trays.get("info ALD")).toBe("[A TRAITER]");
    expect(trays.get("RV pour échange confraternel")).toBe("[EN COURS]");
  });

  it("finds a structure's threads by FINESS typed in N°AM, or by raison sociale typed in Nom", async () => {
    const paul = await signInAgent(app, paulHerault);
    expect((await search(paul, { ps_nam: "340098765" })).map((f) => f.subject).sort()).toEqual(["Chirurgie bariatrique - entente préalable", "Questionnaire pré-opératoire"]);
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

describe("back-office search, as people type", () => {
  it("finds a structure by any word of its raison sociale, whatever the case (tilleuls, LES TILLEULS)", async () => {
    const marie = await signInAgent(app, marieRhone);
    for (const ps_nom of ["tilleuls", "LES TILLEULS", "Centre de santé les Tilleuls"]) {
      expect((await search(marie, { ps_nom })).map((f) => f.subject)).toEqual(["Suivi ALD diabète"]);
    }
  });

  it("finds a city typed with hyphens or by a later word (Castelnau-le-Lez, lez)", async () => {
    const anna = await signInAgent(app, annaAin);
    const all = (await search(anna, { ps_nom: "gene" })).map((f) => f.subject).sort();
    expect(all.length).toBeGreaterThan(0);
    for (const ps_ville of ["Castelnau-le-Lez", "castelnau le lez", "lez"]) {
      expect((await search(anna, { ps_ville })).map((f) => f.subject).sort()).toEqual(all);
    }
  });

  it("finds a patient by any word of a composed name, a hyphen or an apostrophe being a space", async () => {
    const anna = await signInAgent(app, annaAin);
    expect((await search(anna, { patient_nom: "fuentes" })).map((f) => f.subject)).toEqual(["Recherche"]);
    expect((await search(anna, { patient_nom: "Solana-y" })).map((f) => f.subject)).toEqual(["Recherche"]);
    expect((await search(anna, { patient_nom: "y fuent" })).map((f) => f.subject)).toEqual(["Recherche"]);
  });

  it("finds by a NIR typed with spaces or dots, with or without its key, and by an N°AM or a FINESS typed with spaces", async () => {
    const anna = await signInAgent(app, annaAin);
    for (const patient_nir of ["2 85 11 75 123 045", "2.85.11.75.123.045.45", "2 85 11 75 123 045 45"]) {
      expect((await search(anna, { patient_nir })).map((f) => f.subject)).toEqual(["Recherche"]);
    }
    expect((await search(anna, { ps_nam: "971 609 219" })).map((f) => f.subject)).toEqual(["Sans dossier"]);
    const paul = await signInAgent(app, paulHerault);
    expect((await search(paul, { ps_nam: "34 009 876 5" })).length).toBe(2);
  });

  it("its NIR and N°AM fields take a spaced or dotted form whole", async () => {
    const anna = await signInAgent(app, annaAin);
    const page = $((await anna.agent.get("/bo/recherche")).text);
    expect(Number(page("#s-patient-nir").attr("maxlength"))).toBeGreaterThanOrEqual("2 85 11 75 123 045 45".length);
    expect(Number(page("#s-ps-nam").attr("maxlength"))).toBeGreaterThanOrEqual("34 009 876 5".length);
  });

  it("a criterion too short to mean anything gets a message on its field instead of 0 résultat, and what was typed stays", async () => {
    const anna = await signInAgent(app, annaAin);
    const res = await anna.agent.post("/bo/recherche").type("form").send({ _csrf: anna.csrf, patient_nom: "bunyel", patient_nir: "17004", ps_nam: "99110119", ps_cp: "341" });
    expect(res.status).toBe(422);
    const page = $(res.text);
    const error = (id: string) => page(`#${id}-error`).text().trim();
    expect(error("s-patient-nir")).toBe("Le NIR doit comporter 13 caractères, éventuellement suivis de la clé (vous en avez saisi 5).");
    expect(error("s-ps-nam")).toBe("Le N°AM doit comporter 9 chiffres, ou le n° FINESS 9 caractères (vous en avez saisi 8).");
    expect(error("s-ps-cp")).toBe("Le code postal doit comporter 5 chiffres.");
    expect(page("#s-patient-nom-error").length).toBe(0);
    expect(page("#s-patient-nir").attr("aria-invalid")).toBe("true");
    expect(
      page(".error-summary a")
        .map((_, a) => page(a).attr("href"))
        .get(),
    ).toEqual(["#s-patient-nir", "#s-ps-nam", "#s-ps-cp"]);
    expect(page("#s-patient-nom").val()).toBe("bunyel");
    expect(page("#s-patient-nir").val()).toBe("17004");
    expect(page("#s-ps-nam").val()).toBe("99110119");
    expect(page(".results").length).toBe(0);
    expect(page("#search-results").length).toBe(0);
    // Nothing searched, nothing kept: the search page is back to its invitation.
    expect($((await anna.agent.get("/bo/recherche")).text)(".results").length).toBe(0);
  });

  it("a refused search is not traced as a search", async () => {
    const anna = await signInAgent(app, annaAin);
    const before = await app.db("audit_events").where({ action: "search" }).count<{ n: number | string }[]>({ n: "*" });
    await anna.agent.post("/bo/recherche").type("form").send({ _csrf: anna.csrf, patient_nir: "12345" });
    const after = await app.db("audit_events").where({ action: "search" }).count<{ n: number | string }[]>({ n: "*" });
    expect(Number(after[0]!.n)).toBe(Number(before[0]!.n));
  });
});

describe("back-office results beside a tray that lists new-question drafts", () => {
  it("the search results and « Tous mes échanges » show after EN COURS with a draft in it (never a 500; the results' own pager)", async () => {
    const anna = await signInAgent(app, annaAin);
    const blank = await anna.agent.get("/bo/conversations/new");
    const shown = await anna.agent.post("/bo/conversations").field({ ...hiddenFields(blank.text), destinataire: "991101197", action: "lookup" });
    const saved = await anna.agent
      .post("/bo/conversations")
      .field({ ...hiddenFields(shown.text), destinataire: "991101197", subject: "Brouillon à côté des résultats", body: "", action: "draft" });
    expect(saved.status).toBe(303);
    const tray = $((await anna.agent.get("/bo/bannettes/en-cours")).text);
    expect(tray("#list .item.draft").text()).toContain("Brouillon à côté des résultats");

    const found = await search(anna, { patient_nom: "BUNYEL" });
    expect(found.length).toBeGreaterThan(0);
    const page = await anna.agent.get("/bo/recherche");
    expect(page.status).toBe(200);
    // The drafts belong to the tray's column, not to the results.
    expect($(page.text)(".results .item.draft")).toHaveLength(0);
    const mine = await anna.agent.get("/bo/mes-echanges");
    expect(mine.status).toBe(200);
    expect($(mine.text)("h1").text()).toContain("Tous mes échanges");
  });
});
