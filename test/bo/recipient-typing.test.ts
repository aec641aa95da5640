import { textAll } from "../helpers/ps.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, bunyel, hiddenFields, signInAgent, startTestApp, type TestApp } from "../helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const text = textAll;

async function lookUp(recipient: { nir_od?: string; destinataire?: string; patient?: string }) {
  const anna = await signInAgent(app, annaAin);
  const blank = await anna.agent.get("/bo/conversations/new");
  return { blank, shown: await anna.agent.post("/bo/conversations").field({ ...hiddenFields(blank.text), ...recipient, action: "lookup" }) };
}

describe("the question's recipient, as people type it", () => {
  it("the NIR OD and N°AM / FINESS fields take a spaced or dotted form with its key whole", async () => {
    const { blank } = await lookUp({});
    const page = $(blank.text);
    expect(Number(page("#nir_od").attr("maxlength"))).toBeGreaterThanOrEqual("1 70 04 69 387 111 72".length);
    expect(Number(page("#destinataire").attr("maxlength"))).toBeGreaterThanOrEqual("01 0 01 234 5".length);
  });

  it("a NIR OD typed with spaces and its key, or with dots, finds the médecin traitant", async () => {
    // BUNYEL's NIR has several beneficiaries: the agent chooses Guillaume, whose médecin traitant is Dr GENE.
    const guillaume = await app.db("patients").where({ nir: bunyel.nir, first_name: "Guillaume" }).first("id");
    for (const nir_od of ["1 70 04 69 387 111 72", "1.70.04.69.387.111"]) {
      const { shown } = await lookUp({ nir_od, patient: String(guillaume.id) });
      expect(shown.status).toBe(200);
      expect(text(shown.text, ".recipient")).toContain("Dr GENE Alain");
    }
  });

  it("an N°AM or a FINESS typed with spaces or dots finds the doctor or the structure", async () => {
    expect(text((await lookUp({ destinataire: "991 101 197" })).shown.text, ".recipient")).toContain("Dr GENE Alain");
    expect(text((await lookUp({ destinataire: "01.00.1234.5" })).shown.text, ".recipient")).toContain("CENTRE DE SANTE LES TILLEULS");
  });
});
