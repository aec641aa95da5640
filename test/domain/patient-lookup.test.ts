import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nirKey } from "../../src/domain/directory/nir.js";
import { patientFromChoice, patientFromNir, patientFromVitale } from "../../src/domain/directory/patient-lookup.js";
import { nir, patient, seededDomain, type DomainFixture } from "./helpers.js";

let f: DomainFixture;
beforeAll(async () => {
  f = await seededDomain();
});
afterAll(async () => {
  await f?.close();
});

describe("choosing the patient of a doctor's question", () => {
  it("a NIR shared by a parent and two children offers the three beneficiaries, by birth date then rang", async () => {
    const r = await patientFromNir(f.db, nir.bunyel.nir, nir.bunyel.key);
    expect(r.status).toBe("several");
    expect(r.status === "several" && r.candidates.map((c) => c.firstName)).toEqual(["Guillaume", "Léa", "Hugo"]);
  });

  it("a NIR of one beneficiary finds them, typed with spaces", async () => {
    const r = await patientFromNir(f.db, "2 85 11 75 123 045", "45");
    expect(r).toMatchObject({ status: "found", patient: { firstName: "Inès", lastName: "SOLANA Y FUENTES", nirKey: "45", regime: "general" } });
  });

  it("a Corsican NIR typed in lower case finds the patient", async () => {
    expect(await patientFromNir(f.db, "278052a012034", "04")).toMatchObject({ status: "found", patient: { lastName: "CASANOVA", nir: "278052A012034" } });
  });

  it("a wrong key is refused on the key field", async () => {
    expect(await patientFromNir(f.db, nir.bunyel.nir, "71")).toMatchObject({ status: "refused", field: "key" });
  });

  it("a valid NIR nobody is known under is refused on the NIR field", async () => {
    const unknown = "1999999999999";
    expect(await patientFromNir(f.db, unknown, nirKey(unknown))).toEqual({
      status: "refused",
      field: "nir",
      message: "Aucun patient n'est connu sous ce NIR : vérifiez la saisie ou lisez la carte Vitale.",
    });
  });

  it("a Carte Vitale read finds its patient; a patient without a demo card or no card at all is refused", async () => {
    const guillaume = await patient(f.db, nir.bunyel.nir, "Guillaume");
    const lea = await patient(f.db, nir.bunyel.nir, "Léa");
    expect(await patientFromVitale(f.db, String(guillaume.id))).toMatchObject({ status: "found", patient: { id: guillaume.id } });
    const refused = { status: "refused", field: "vitale", message: "Aucune carte Vitale n'a été lue : choisissez une carte." };
    expect(await patientFromVitale(f.db, String(lea.id))).toEqual(refused);
    expect(await patientFromVitale(f.db, undefined)).toEqual(refused);
    expect(await patientFromVitale(f.db, "1e3")).toEqual(refused);
  });

  it("the beneficiary chosen among those offered is the patient", async () => {
    const offered = (await Promise.all(["Guillaume", "Léa", "Hugo"].map((n) => patient(f.db, nir.bunyel.nir, n)))).map((p) => p.id);
    expect(await patientFromChoice(f.db, offered, String(offered[1]))).toMatchObject({ status: "found", patient: { firstName: "Léa" } });
  });

  it("a patient that was not offered, or no choice, offers the beneficiaries again with the error on the first", async () => {
    const offered = (await Promise.all(["Guillaume", "Léa", "Hugo"].map((n) => patient(f.db, nir.bunyel.nir, n)))).map((p) => p.id);
    const solana = await patient(f.db, nir.solana.nir);
    for (const raw of [String(solana.id), undefined, "", "abc"]) {
      const r = await patientFromChoice(f.db, offered, raw);
      expect(r).toMatchObject({ status: "refused", field: `patient-${offered[0]}`, message: "Choisissez l'un des bénéficiaires proposés." });
      expect(r.status === "refused" && r.candidates?.map((c) => c.id)).toEqual(offered);
    }
  });

  it("with nothing offered any more, the NIR is asked again", async () => {
    const solana = await patient(f.db, nir.solana.nir);
    expect(await patientFromChoice(f.db, [], String(solana.id))).toEqual({ status: "refused", field: "nir", message: "Saisissez de nouveau le NIR du patient." });
    expect(await patientFromChoice(f.db, [2_000_000_000], "2000000000")).toMatchObject({ status: "refused", field: "nir" });
  });
});
