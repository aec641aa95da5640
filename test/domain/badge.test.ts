import { describe, expect, it } from "vitest";
import { badgeFor, type BadgeSource } from "../../src/domain/conversations/badge.js";

const none = {
  has_patient: false,
  starter_first_name: null,
  starter_last_name: null,
  party_first_name: null,
  party_last_name: null,
  structure_raison_sociale: null,
  structure_finess: null,
};
/** The échelon's question to a liberal doctor, with or without a patient. */
const byElsm = (first = "Alain", last = "GENE", has_patient = false): BadgeSource => ({
  ...none,
  started_by: "elsm",
  elsm_code: "ELSM 011",
  party_first_name: first,
  party_last_name: last,
  has_patient,
});
const byDoctor = (first: string | null, last: string | null, has_patient = true): BadgeSource => ({
  ...none,
  started_by: "ps",
  elsm_code: "ELSM 011",
  starter_first_name: first,
  starter_last_name: last,
  party_first_name: first,
  party_last_name: last,
  has_patient,
});
const byStructure = (raison: string, finess: string): BadgeSource => ({
  ...byDoctor("Hélène", "ROUX"),
  party_first_name: null,
  party_last_name: null,
  structure_raison_sociale: raison,
  structure_finess: finess,
});
const toStructure = (raison: string, finess: string, has_patient = false): BadgeSource => ({
  ...byElsm(),
  party_first_name: null,
  party_last_name: null,
  structure_raison_sociale: raison,
  structure_finess: finess,
  has_patient,
});

describe("the doctor's pastille tells who started the thread", () => {
  it("a thread the échelon started shows the ELSM code, dark", () => {
    expect(badgeFor(byElsm(), "ps")).toEqual({ text: "ELSM 011", label: "Conversation ouverte par l'échelon ELSM 011", tone: "incoming" });
    expect(badgeFor(byElsm("Alain", "GENE", true), "ps").text).toBe("ELSM 011");
  });

  it("a liberal doctor's thread shows the doctor's initials, first name then last name, light", () => {
    expect(badgeFor(byDoctor("Alain", "GENE"), "ps")).toEqual({ text: "AG", label: "Conversation ouverte par le Dr Alain GENE", tone: "outgoing" });
  });

  it("initials drop accents and anything that is not a letter", () => {
    expect(badgeFor(byDoctor("Émile", "Öztürk"), "ps").text).toBe("EO");
    expect(badgeFor(byDoctor("jean-luc", "  d'Ornano"), "ps").text).toBe("JD");
    expect(badgeFor(byDoctor("Hélène", "Ñúñez"), "ps").text).toBe("HN");
  });

  it("a structure's thread shows 2 letters of its raison sociale and the first 2 digits of its FINESS", () => {
    expect(badgeFor(byStructure("CENTRE DE SANTE LES TILLEULS", "010012345"), "ps")).toEqual({
      text: "CE01",
      label: "Conversation ouverte par CENTRE DE SANTE LES TILLEULS",
      tone: "outgoing",
    });
    expect(badgeFor(byStructure("CLINIQUE DU PARC", "340098765"), "ps").text).toBe("CL34");
  });

  it("a structure's letters skip accents, spaces and digits, in upper case", () => {
    expect(badgeFor(byStructure("Établissement Saint-Luc", "690001234"), "ps").text).toBe("ET69");
    expect(badgeFor(byStructure("3 Chênes (centre)", "010000001"), "ps").text).toBe("CH01");
  });

  it("a structure's badge wins over the salaried doctor who wrote the first message", () => {
    expect(badgeFor(byStructure("CENTRE DE SANTE LES TILLEULS", "010012345"), "ps").text).toBe("CE01");
  });
});

describe("the back office's pastille (manual §6)", () => {
  it("the échelon's question to a liberal doctor without a patient: light, the doctor's initials", () => {
    expect(badgeFor(byElsm("Alain", "GENE"), "elsm")).toEqual({ text: "AG", label: "Question de l'échelon sans patient, adressée au Dr Alain GENE", tone: "outgoing" });
    expect(badgeFor(byElsm("Xavier", "LUANIKAZUZI"), "elsm").text).toBe("XL");
    expect(badgeFor(byElsm("Émile", "Öztürk"), "elsm").text).toBe("EO");
  });

  it("the échelon's question to a structure without a patient: light, 2 letters of the raison sociale + 2 FINESS digits", () => {
    expect(badgeFor(toStructure("CENTRE DE SANTE LES TILLEULS", "010012345"), "elsm")).toEqual({
      text: "CE01",
      label: "Question de l'échelon sans patient, adressée à CENTRE DE SANTE LES TILLEULS",
      tone: "outgoing",
    });
    expect(badgeFor(toStructure("Établissement Saint-Luc", "690001234"), "elsm").text).toBe("ET69");
  });

  it("the échelon's question about a patient: dark, the code of the échelon", () => {
    expect(badgeFor(byElsm("Jean-Luc", "MEZIN", true), "elsm")).toEqual({ text: "ELSM 011", label: "Conversation adressée à l'échelon ELSM 011", tone: "incoming" });
    expect(badgeFor(toStructure("CLINIQUE DU PARC", "340098765", true), "elsm").text).toBe("ELSM 011");
  });

  it("a thread a doctor or a structure started: dark, the code of the échelon, with or without a patient", () => {
    expect(badgeFor(byDoctor("Alain", "GENE"), "elsm")).toMatchObject({ text: "ELSM 011", tone: "incoming" });
    expect(badgeFor(byDoctor("Alain", "GENE", false), "elsm")).toMatchObject({ text: "ELSM 011", tone: "incoming" });
    expect(badgeFor(byStructure("CENTRE DE SANTE LES TILLEULS", "010012345"), "elsm")).toMatchObject({ text: "ELSM 011", tone: "incoming" });
  });
});
