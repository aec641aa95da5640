import { describe, expect, it } from "vitest";
import { badgeFor, type BadgeSource } from "../../src/domain/conversations/badge.js";

const byElsm: BadgeSource = {
  started_by: "elsm",
  elsm_code: "ELSM 011",
  starter_first_name: null,
  starter_last_name: null,
  structure_raison_sociale: null,
  structure_finess: null,
};
const byDoctor = (first: string | null, last: string | null): BadgeSource => ({
  started_by: "ps",
  elsm_code: "ELSM 011",
  starter_first_name: first,
  starter_last_name: last,
  structure_raison_sociale: null,
  structure_finess: null,
});
const byStructure = (raison: string, finess: string): BadgeSource => ({ ...byDoctor("Hélène", "ROUX"), structure_raison_sociale: raison, structure_finess: finess });

describe("the badge telling who started a thread", () => {
  it("a thread the échelon started shows the ELSM code", () => {
    expect(badgeFor(byElsm, "ps")).toEqual({ text: "ELSM 011", label: "Conversation ouverte par l'échelon ELSM 011", tone: "incoming" });
  });

  it("a liberal doctor's thread shows the doctor's initials, first name then last name", () => {
    expect(badgeFor(byDoctor("Alain", "GENE"), "elsm")).toEqual({ text: "AG", label: "Conversation ouverte par le Dr Alain GENE", tone: "incoming" });
  });

  it("initials drop accents and anything that is not a letter", () => {
    expect(badgeFor(byDoctor("Émile", "Öztürk"), "elsm").text).toBe("EO");
    expect(badgeFor(byDoctor("jean-luc", "  d'Ornano"), "elsm").text).toBe("JD");
    expect(badgeFor(byDoctor("Hélène", "Ñúñez"), "elsm").text).toBe("HN");
  });

  it("a structure's thread shows 2 letters of its raison sociale and the first 2 digits of its FINESS", () => {
    expect(badgeFor(byStructure("CENTRE DE SANTE LES TILLEULS", "010012345"), "elsm")).toEqual({
      text: "CE01",
      label: "Conversation ouverte par CENTRE DE SANTE LES TILLEULS",
      tone: "incoming",
    });
    expect(badgeFor(byStructure("CLINIQUE DU PARC", "340098765"), "elsm").text).toBe("CL34");
  });

  it("a structure's letters skip accents, spaces and digits, in upper case", () => {
    expect(badgeFor(byStructure("Établissement Saint-Luc", "690001234"), "elsm").text).toBe("ET69");
    expect(badgeFor(byStructure("3 Chênes (centre)", "010000001"), "elsm").text).toBe("CH01");
  });

  it("a structure's badge wins over the salaried doctor who wrote the first message", () => {
    expect(badgeFor(byStructure("CENTRE DE SANTE LES TILLEULS", "010012345"), "ps").text).toBe("CE01");
  });

  it("the tone is incoming when the other side started the thread, outgoing when the viewer's side did", () => {
    expect(badgeFor(byElsm, "ps").tone).toBe("incoming");
    expect(badgeFor(byElsm, "elsm").tone).toBe("outgoing");
    expect(badgeFor(byDoctor("Alain", "GENE"), "elsm").tone).toBe("incoming");
    expect(badgeFor(byDoctor("Alain", "GENE"), "ps").tone).toBe("outgoing");
    expect(badgeFor(byStructure("CLINIQUE DU PARC", "340098765"), "ps").tone).toBe("outgoing");
  });
});
