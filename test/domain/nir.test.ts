import { describe, expect, it } from "vitest";
import { NIR_TYPED_MAX, checkNir, isNirShape, nirKey, normalizeNir, readTypedNir } from "../../src/domain/directory/nir.js";

/** The demo patients' NIR and keys (db/seeds/demo.ts, test/helpers/app.ts). */
const demo = {
  bunyel: ["1700469387111", "72"],
  solana: ["2851175123045", "45"],
  ferrand: ["1620369387222", "46"],
  moreau: ["2450201053456", "19"],
  petit: ["1900534172789", "05"],
  casanova2A: ["278052A012034", "04"],
  arnaud: ["1660538185099", "15"],
} as const;

describe("NIR rules", () => {
  it.each(Object.entries(demo))("the key of every demo NIR (%s) is 97 − (NIR mod 97)", (_name, [value, key]) => {
    expect(nirKey(value)).toBe(key);
  });

  it("a key below 10 is written with its leading zero", () => {
    expect(nirKey("1900534172789")).toBe("05");
    expect(nirKey("278052A012034")).toBe("04");
  });

  it("Corsica counts 2A as 19 and 2B as 18, so the two départements never share a key", () => {
    expect(nirKey("185052A012345")).toBe("79");
    expect(nirKey("185052B012345")).toBe("09");
    expect(nirKey("1850520012345")).toBe("52");
  });

  it("what people type (spaces, lower-case 2a) is reduced to the stored form", () => {
    expect(normalizeNir(" 2 78 05 2a 012 034 ")).toBe("278052A012034");
    expect(normalizeNir("1\t700469387111\n")).toBe("1700469387111");
  });

  it("a NIR has 13 characters: sex 1 or 2, digits, and 2A/2B only as the département", () => {
    expect(isNirShape("1700469387111")).toBe(true);
    expect(isNirShape("278052A012034")).toBe(true);
    expect(isNirShape("278052B012034")).toBe(true);
    expect(isNirShape("278052C012034")).toBe(false);
    expect(isNirShape("278052a012034")).toBe(false); // only after normalisation
    expect(isNirShape("2A8052A012034")).toBe(false);
    expect(isNirShape("3700469387111")).toBe(false);
    expect(isNirShape("170046938711")).toBe(false);
    expect(isNirShape("17004693871112")).toBe(false);
    expect(isNirShape("1700469387111 ")).toBe(false);
  });

  it("a NIR typed with spaces and its key is accepted in its canonical form", () => {
    expect(checkNir("1 70 04 69 387 111", " 72 ")).toEqual({ ok: true, nir: "1700469387111", key: "72" });
  });

  it("a Corsican NIR typed in lower case is accepted", () => {
    expect(checkNir("278052a012034", "04")).toEqual({ ok: true, nir: "278052A012034", key: "04" });
  });

  it("an empty NIR asks for the NIR", () => {
    expect(checkNir("  ", "72")).toEqual({ ok: false, field: "nir", message: "Saisissez le NIR du patient (13 caractères)." });
  });

  it("a NIR of the wrong length says how many characters were typed", () => {
    expect(checkNir("170046938711", "72")).toEqual({ ok: false, field: "nir", message: "Le NIR doit comporter 13 caractères (vous en avez saisi 12)." });
    expect(checkNir("17004693871112", "72")).toMatchObject({ field: "nir", message: expect.stringContaining("vous en avez saisi 14") });
  });

  it("a 13-character NIR with letters outside 2A/2B is refused on the NIR field", () => {
    expect(checkNir("17004693871AB", "72")).toEqual({
      ok: false,
      field: "nir",
      message: "Le NIR ne peut contenir que des chiffres (et 2A ou 2B pour la Corse) : vérifiez la saisie.",
    });
  });

  it("a key that is not 2 digits is refused on the key field", () => {
    expect(checkNir("1700469387111", "7")).toEqual({ ok: false, field: "key", message: "La clé du NIR doit comporter 2 chiffres." });
    expect(checkNir("1700469387111", "")).toMatchObject({ ok: false, field: "key" });
    expect(checkNir("1700469387111", "7a")).toMatchObject({ ok: false, field: "key" });
  });

  it("a key that does not match the NIR is refused on the key field", () => {
    expect(checkNir("1700469387111", "73")).toEqual({ ok: false, field: "key", message: "La clé ne correspond pas au NIR saisi : vérifiez le NIR et la clé." });
    // The 2B key is not accepted for the same NIR in 2A.
    expect(checkNir("185052A012345", "09")).toMatchObject({ ok: false, field: "key" });
  });

  it("a NIR typed with dots, or with spaces and its key, is reduced to the stored form", () => {
    expect(normalizeNir("1.70.04.69.387.111")).toBe("1700469387111");
    expect(normalizeNir("1 70 04 69 387 111 72")).toBe("170046938711172");
  });

  it("the NIR fields take a NIR and its key with a space or a dot between each group", () => {
    expect("1 70 04 69 387 111 72".length).toBeLessThanOrEqual(NIR_TYPED_MAX);
    expect("1.70.04.69.387.111.72".length).toBeLessThanOrEqual(NIR_TYPED_MAX);
    expect(" 1 . 70 . 04 . 69 . 387 . 111 ".length).toBeLessThanOrEqual(NIR_TYPED_MAX);
  });

  it("a NIR typed with dots is accepted in its canonical form", () => {
    expect(checkNir("1.70.04.69.387.111", "72")).toEqual({ ok: true, nir: "1700469387111", key: "72" });
  });

  it("a NIR typed with its key in the NIR field is accepted when the Clé field is empty or repeats it", () => {
    expect(checkNir("1 70 04 69 387 111 72", "")).toEqual({ ok: true, nir: "1700469387111", key: "72" });
    expect(checkNir("1.70.04.69.387.111.72", "72")).toEqual({ ok: true, nir: "1700469387111", key: "72" });
    expect(checkNir("1 70 04 69 387 111 73", "")).toMatchObject({ ok: false, field: "key" });
  });

  it("a NIR typed in one field, key or not: its 13 characters and key, or why not", () => {
    expect(readTypedNir("1 70 04 69 387 111")).toEqual({ ok: true, nir: "1700469387111", key: null });
    expect(readTypedNir("1.70.04.69.387.111.72")).toEqual({ ok: true, nir: "1700469387111", key: "72" });
    expect(readTypedNir("17004")).toEqual({ ok: false, problem: "length", length: 5 });
    expect(readTypedNir("17004693871AB")).toEqual({ ok: false, problem: "shape", length: 13 });
    expect(readTypedNir("170046938711173")).toEqual({ ok: false, problem: "key", length: 15 });
  });
});
