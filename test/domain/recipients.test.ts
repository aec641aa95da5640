import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalizeIdentifier, recipientByIdentifier, recipientByNir, recipientCard, type Resolution } from "../../src/domain/directory/recipients.js";
import { elsmIdOf, finess, nam, nir, patient, seededDomain, type DomainFixture } from "./helpers.js";

let f: DomainFixture;
let ain: number;
let herault: number;
let msa: number;
beforeAll(async () => {
  f = await seededDomain();
  [ain, herault, msa] = await Promise.all([elsmIdOf(f.db, "ELSM 011"), elsmIdOf(f.db, "ELSM 341"), elsmIdOf(f.db, "MSA 069")]);
});
afterAll(async () => {
  await f?.close();
});

function ok(r: Resolution) {
  if (!r.ok) throw new Error(`refused: ${r.message}`);
  return r;
}

describe("the recipient of an échelon's question, by the patient's NIR OD", () => {
  it("under a NIR OD of several beneficiaries takes none by default: the agent is offered them all to choose from", async () => {
    const r = await recipientByNir(f.db, ain, nir.bunyel.nir);
    expect(r).toMatchObject({ ok: false, field: "patient", message: "Choisissez l'un des bénéficiaires proposés." });
    expect(r.ok ? [] : r.beneficiaries?.map((b) => `${b.firstName} ${b.birthDate} rang ${b.rang}`)).toEqual([
      "Guillaume 1970-04-17 rang 1",
      "Léa 2008-06-02 rang 1",
      "Hugo 2008-06-02 rang 2",
    ]);
  });

  it("goes to the médecin traitant of the beneficiary chosen, a twin told apart by the rang", async () => {
    const hugo = await patient(f.db, nir.bunyel.nir, "Hugo");
    const r = ok(await recipientByNir(f.db, ain, nir.bunyel.nir, String(hugo.id)));
    expect(r.recipient.kind).toBe("practitioner");
    expect(recipientCard(r.recipient)).toEqual({ title: "Dr GENE Alain", detail: "N°AM : 991101197 - 34170 CASTELNAU LE LEZ" });
    expect(r.patient).toMatchObject({ firstName: "Hugo", lastName: "BUNYEL", rang: 2 });
    expect(r.beneficiaries).toHaveLength(3);
  });

  it("refuses a choice that is not one of the NIR OD's beneficiaries", async () => {
    const ines = await patient(f.db, nir.solana.nir);
    expect(await recipientByNir(f.db, ain, nir.bunyel.nir, String(ines.id))).toMatchObject({ ok: false, field: "patient", message: "Choisissez l'un des bénéficiaires proposés." });
  });

  it("a NIR OD of a single beneficiary needs no choice", async () => {
    const r = ok(await recipientByNir(f.db, ain, nir.solana.nir));
    expect(r.patient?.firstName).toBe("Inès");
    expect(r.beneficiaries).toEqual([]);
  });

  it("accepts the NIR OD typed with dots, with or without its key", async () => {
    const guillaume = await patient(f.db, nir.bunyel.nir, "Guillaume");
    expect(ok(await recipientByNir(f.db, ain, "1.70.04.69.387.111", String(guillaume.id))).patient).toMatchObject({ lastName: "BUNYEL", firstName: "Guillaume" });
    expect(ok(await recipientByNir(f.db, ain, "1.70.04.69.387.111.72", String(guillaume.id))).patient).toMatchObject({ lastName: "BUNYEL", firstName: "Guillaume" });
  });

  it("accepts the NIR OD typed with spaces and followed by its key", async () => {
    const guillaume = await patient(f.db, nir.bunyel.nir, "Guillaume");
    const r = ok(await recipientByNir(f.db, ain, "1 70 04 69 387 111 72", String(guillaume.id)));
    expect(r.patient?.firstName).toBe("Guillaume");
  });

  it("refuses a NIR OD followed by a wrong key", async () => {
    expect(await recipientByNir(f.db, ain, `${nir.bunyel.nir}73`)).toEqual({ ok: false, field: "nir_od", message: "La clé ne correspond pas au NIR OD saisi." });
  });

  it.each(["170046938711", "17004693871117", "1700469387111722", "3700469387111", "ABCDEFGHIJKLM", ""])("refuses the malformed NIR OD %j on the NIR OD field", async (raw) => {
    expect(await recipientByNir(f.db, ain, raw)).toMatchObject({ ok: false, field: "nir_od", message: expect.stringContaining("13 caractères") });
  });

  it("goes to the structure when the médecin traitant is a salaried doctor", async () => {
    const r = ok(await recipientByNir(f.db, msa, nir.moreauMsa.nir));
    expect(r.recipient.kind).toBe("structure");
    expect(recipientCard(r.recipient)).toEqual({ title: "CENTRE DE SANTE LES TILLEULS", detail: "FINESS : 010012345 - 12 rue des Tilleuls 01000 BOURG EN BRESSE" });
    expect(r.patient?.lastName).toBe("MOREAU");
  });

  it("refuses a patient attached to another échelon", async () => {
    expect(await recipientByNir(f.db, ain, nir.petitNoDoctor.nir)).toEqual({
      ok: false,
      field: "nir_od",
      message: "Aucun patient rattaché à votre échelon ne correspond à ce NIR OD.",
    });
    expect(await recipientByNir(f.db, herault, nir.bunyel.nir)).toMatchObject({ ok: false, message: expect.stringContaining("Aucun patient rattaché") });
  });

  it("refuses a patient without a médecin traitant and points to N°AM or FINESS", async () => {
    expect(await recipientByNir(f.db, herault, nir.petitNoDoctor.nir)).toEqual({
      ok: false,
      field: "nir_od",
      message: "Lucas PETIT n'a pas déclaré de médecin traitant : adressez votre question par N°AM ou FINESS.",
    });
  });

  it("refuses a médecin traitant without a notification mailbox (Corsican NIR typed in lower case)", async () => {
    const r = await recipientByNir(f.db, herault, "278052a012034");
    expect(r).toMatchObject({ ok: false, field: "nir_od" });
    expect(!r.ok && r.message).toContain("Dr Sophie MARTIN n'a pas de boîte mail de notification active");
    expect(!r.ok && r.message).toContain("l'envoi n'est donc pas possible");
  });
});

describe("the recipient of an échelon's question, by N°AM or FINESS", () => {
  it("an N°AM typed with spaces reaches the liberal doctor, with no patient", async () => {
    const r = ok(await recipientByIdentifier(f.db, " 991 101 197 "));
    expect(r.patient).toBeNull();
    expect(recipientCard(r.recipient).title).toBe("Dr GENE Alain");
  });

  it("a salaried doctor's N°AM is refused and points to the structure's FINESS", async () => {
    expect(await recipientByIdentifier(f.db, nam.roux)).toEqual({
      ok: false,
      field: "destinataire",
      message:
        "Ce N°AM est celui d'un médecin salarié : on ne peut pas écrire à un médecin salarié en particulier. Adressez-vous à sa structure, CENTRE DE SANTE LES TILLEULS, par son FINESS 010012345.",
    });
    expect(await recipientByIdentifier(f.db, nam.leroy)).toMatchObject({ ok: false, message: expect.stringContaining("CLINIQUE DU PARC, par son FINESS 340098765") });
  });

  it("a FINESS reaches the structure", async () => {
    const r = ok(await recipientByIdentifier(f.db, finess.parc));
    expect(r.recipient.kind).toBe("structure");
    expect(recipientCard(r.recipient)).toEqual({ title: "CLINIQUE DU PARC", detail: "FINESS : 340098765 - 50 avenue du Parc 34000 MONTPELLIER" });
  });

  it("a liberal doctor without a notification mailbox is refused", async () => {
    const r = await recipientByIdentifier(f.db, nam.martin);
    expect(r).toMatchObject({ ok: false, field: "destinataire", message: expect.stringContaining("Dr Sophie MARTIN n'a pas de boîte mail") });
  });

  it("a structure without a notification mailbox is refused", async () => {
    await f.db("structures").insert({
      kind: "centre_sante",
      finess: "2A0000001",
      raison_sociale: "CENTRE SANS BOITE",
      raison_sociale_key: "CENTRE SANS BOITE",
      address: "1 place",
      postal_code: "20000",
      city: "AJACCIO",
      mailbox: null,
    });
    const r = await recipientByIdentifier(f.db, "2a0000001");
    expect(r).toMatchObject({ ok: false, field: "destinataire" });
    expect(!r.ok && r.message).toContain("CENTRE SANS BOITE n'a pas de boîte mail de notification active dans son compte amelipro principal");
    expect(!r.ok && r.message).toContain("la structure ne peut pas être prévenue d'un message");
    expect(!r.ok && r.message).not.toContain("prévenu(e)");
  });

  it("an unknown N°AM or FINESS is refused, naming what was typed", async () => {
    expect(await recipientByIdentifier(f.db, "019999999")).toEqual({
      ok: false,
      field: "destinataire",
      message: "Aucun médecin (N°AM) ni aucune structure (FINESS) ne correspond à « 019999999 ».",
    });
  });

  it.each(["12345", "9911011970", "99110119!", "", "991-101-197"])("the malformed identifier %j is refused on the destinataire field", async (raw) => {
    expect(await recipientByIdentifier(f.db, raw)).toEqual({
      ok: false,
      field: "destinataire",
      message: "Le destinataire doit être un N°AM (9 chiffres) ou un n° FINESS (9 caractères).",
    });
  });

  it("identifiers are compared without spaces and in upper case", () => {
    expect(normalizeIdentifier(" 2a 000 0001 ")).toBe("2A0000001");
  });

  it("an N°AM typed with spaces or dots finds the doctor, a FINESS typed so finds the structure", async () => {
    expect(ok(await recipientByIdentifier(f.db, "99 1 10119 7")).recipient).toMatchObject({ kind: "practitioner", practitioner: { nam: "991101197" } });
    expect(ok(await recipientByIdentifier(f.db, "01.00.1234.5")).recipient).toMatchObject({ kind: "structure", structure: { finess: "010012345" } });
  });
});
