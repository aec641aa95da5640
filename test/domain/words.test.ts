import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { idsMatchingWords, indexWords, wordKeys } from "../../src/domain/directory/words.js";
import { seededDomain, type DomainFixture } from "./helpers.js";

let f: DomainFixture;
beforeAll(async () => {
  f = await seededDomain();
});
afterAll(async () => {
  await f?.close();
});

async function namesOf(table: string, column: string, ids: Promise<{ entity_id: number }[]>) {
  const found = (await ids).map((r) => r.entity_id);
  return (await f.db(table).whereIn("id", found).orderBy(column).pluck(column)) as string[];
}

describe("the search words of a name, a raison sociale or a city", () => {
  it("ignore case and accents, and split on spaces, hyphens and apostrophes", () => {
    expect(wordKeys("Castelnau-le-Lez")).toEqual(["CASTELNAU", "LE", "LEZ"]);
    expect(wordKeys("CASTELNAU LE LEZ")).toEqual(["CASTELNAU", "LE", "LEZ"]);
    expect(wordKeys("Hôpital d'Érignac")).toEqual(["HOPITAL", "D", "ERIGNAC"]);
    expect(wordKeys("  les  Tilleuls ")).toEqual(["LES", "TILLEULS"]);
  });

  it("keep each word once, and nothing for text without a letter or digit", () => {
    expect(wordKeys("Saint-Jean Saint Jean")).toEqual(["SAINT", "JEAN"]);
    expect(wordKeys(" - ' ")).toEqual([]);
  });
});

describe("a directory row is found by any word, every typed word starting one of its words", () => {
  it("a raison sociale by one of its words, by several, in any case", async () => {
    for (const typed of ["tilleuls", "LES TILLEULS", "centre tilleuls", "Santé les"]) {
      expect(await namesOf("structures", "raison_sociale", idsMatchingWords(f.db, "structure_name", typed))).toEqual(["CENTRE DE SANTE LES TILLEULS"]);
    }
  });

  it("a city typed with hyphens, or by a later word", async () => {
    for (const typed of ["Castelnau-le-Lez", "lez", "castelnau le"]) {
      expect(await namesOf("practitioners", "last_name", idsMatchingWords(f.db, "practitioner_city", typed))).toEqual(["GENE"]);
    }
  });

  it("a patient by any word of a composed name", async () => {
    expect(await namesOf("patients", "last_name", idsMatchingWords(f.db, "patient_last", "fuentes"))).toEqual(["SOLANA Y FUENTES"]);
    expect(await namesOf("patients", "first_name", idsMatchingWords(f.db, "patient_first", "ange"))).toEqual(["Marie-Ange"]);
  });

  it("nothing when one typed word matches no word of the row", async () => {
    expect(await idsMatchingWords(f.db, "structure_name", "tilleuls parc")).toEqual([]);
    expect(await idsMatchingWords(f.db, "structure_name", " - ")).toEqual([]);
  });
});

describe("the search words of a large directory", () => {
  it("are written by batches a single insert of either database accepts (a thousand structures and more)", async () => {
    const rows = Array.from({ length: 1_200 }, (_, i) => ({
      kind: "centre_sante",
      finess: `9${String(i).padStart(8, "0")}`,
      raison_sociale: `CENTRE DE SANTE NUMERO ${i}`,
      raison_sociale_key: `CENTRE DE SANTE NUMERO ${i}`,
      address: "1 rue",
      postal_code: "75001",
      city: "PARIS",
      mailbox: null,
    }));
    for (let i = 0; i < rows.length; i += 100) await f.db("structures").insert(rows.slice(i, i + 100));
    await indexWords(f.db, "structures");
    expect((await idsMatchingWords(f.db, "structure_name", "numero 1199")).length).toBe(1);
    expect(await namesOf("structures", "raison_sociale", idsMatchingWords(f.db, "structure_name", "tilleuls"))).toEqual(["CENTRE DE SANTE LES TILLEULS"]);
  });
});
