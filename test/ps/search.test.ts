import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, drGene, drMezin, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { listRows, textOf } from "../helpers/ps.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const BUNYEL = ["info ALD", "ALD - demande d'info critères HAS", "Arrêt de travail durée maxi"];

async function searchPs(s: Session, fields: { nom?: string; nir?: string }) {
  return s.agent
    .post("/ps/search")
    .type("form")
    .send({ _csrf: s.csrf, nom: "", nir: "", ...fields });
}

async function subjects(s: Session) {
  return listRows((await s.agent.get("/ps/messages")).text)
    .filter((r) => !r.draft)
    .map((r) => r.subject);
}

describe("the doctor's search panel, as people type", () => {
  it("finds by a NIR typed with dots, or with spaces and its key, that the field takes whole", async () => {
    const s = await signInPs(app, drGene);
    const page = $((await s.agent.get("/ps/messages")).text);
    expect(Number(page("#search-nir").attr("maxlength"))).toBeGreaterThanOrEqual("1 70 04 69 387 111 72".length);
    for (const nir of ["1.70.04.69.387.111", "1 70 04 69 387 111 72", "1.70.04.69.387.111.72"]) {
      expect((await searchPs(s, { nir })).status).toBe(303);
      expect((await subjects(s)).sort()).toEqual([...BUNYEL].sort());
    }
  });

  it("finds a patient by any word of a composed name (fuentes for SOLANA Y FUENTES)", async () => {
    const s = await signInPs(app, drMezin);
    await searchPs(s, { nom: "fuentes" });
    expect(await subjects(s)).toEqual(["Recherche"]);
    await searchPs(s, { nom: "Solana-y" });
    expect(await subjects(s)).toEqual(["Recherche"]);
  });

  it("a NIR too short to mean anything gets a message on its field instead of 0 résultat, and what was typed stays", async () => {
    const s = await signInPs(app, drGene);
    const res = await searchPs(s, { nom: "bunyel", nir: "17004" });
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(textOf(page, "#search-nir-error")).toBe("Le NIR doit comporter 13 caractères, éventuellement suivis de la clé (vous en avez saisi 5).");
    expect(page("#search-nir").attr("aria-invalid")).toBe("true");
    expect(page(".error-summary a[href='#search-nir']").text()).toContain("13 caractères");
    expect(page("#search-nir").val()).toBe("17004");
    expect(page("#search-nom").val()).toBe("bunyel");
    expect(page("details.search").attr("open")).toBeDefined();
    expect(page("#search-results").length).toBe(0);
    // Nothing was searched: the list is the whole list, and no search is kept for the next page.
    expect(await subjects(s)).toContain("Durée arrêt de travail Lombalgie");
  });

  it("a NIR whose key does not match is refused on the field", async () => {
    const s = await signInPs(app, drGene);
    const res = await searchPs(s, { nir: "1 70 04 69 387 111 73" });
    expect(res.status).toBe(422);
    expect(textOf($(res.text), "#search-nir-error")).toContain("La clé ne correspond pas au NIR saisi");
  });
});
