/** NIR rules (glossary): 13 characters — sex, year, month, département (2A/2B for Corsica), commune, order — and a key. */
const NIR_SHAPE = /^[12][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}$/;

/**
 * The longest NIR a field takes as typed: 13 characters and the key, with a space or a dot between
 * each group ("1 70 04 69 387 111 72" is 21), and room to spare. Checked after normalisation, never cut.
 */
export const NIR_TYPED_MAX = 30;

/** What people type (spaces, dots, lower-case 2a) reduced to the stored form: nothing between the characters, upper case. */
export function normalizeNir(raw: string): string {
  return raw.replace(/[\s.]+/g, "").toUpperCase();
}

/** A NIR typed in one field, its key after it or not: the 13 characters and the key, or why it cannot be one. */
export type TypedNir = { ok: true; nir: string; key: string | null } | { ok: false; problem: "length" | "shape" | "key"; length: number };

export function readTypedNir(raw: string): TypedNir {
  const value = normalizeNir(raw);
  if (value.length !== 13 && value.length !== 15) return { ok: false, problem: "length", length: value.length };
  const nir = value.slice(0, 13);
  if (!isNirShape(nir)) return { ok: false, problem: "shape", length: value.length };
  const key = value.length === 15 ? value.slice(13) : null;
  if (key !== null && key !== nirKey(nir)) return { ok: false, problem: "key", length: value.length };
  return { ok: true, nir, key };
}

/** The 13 characters of a NIR, without its key. */
export function isNirShape(nir: string): boolean {
  return NIR_SHAPE.test(nir);
}

export type NirCheck = { ok: true; nir: string; key: string } | { ok: false; field: "nir" | "key"; message: string };

/** Accepts what people type (spaces, lower-case 2a) and returns the canonical NIR, or a French message. */
export function checkNir(rawNir: string, rawKey: string): NirCheck {
  let nir = normalizeNir(rawNir);
  let key = normalizeNir(rawKey);
  // The key typed after the NIR in the NIR field (the Clé field left empty or holding the same key).
  if (nir.length === 15 && (key === "" || key === nir.slice(13))) [nir, key] = [nir.slice(0, 13), nir.slice(13)];
  if (nir === "") return { ok: false, field: "nir", message: "Saisissez le NIR du patient (13 caractères)." };
  if (!isNirShape(nir)) {
    return {
      ok: false,
      field: "nir",
      message:
        nir.length !== 13
          ? `Le NIR doit comporter 13 caractères (vous en avez saisi ${nir.length}).`
          : "Le NIR ne peut contenir que des chiffres (et 2A ou 2B pour la Corse) : vérifiez la saisie.",
    };
  }
  if (!/^[0-9]{2}$/.test(key)) return { ok: false, field: "key", message: "La clé du NIR doit comporter 2 chiffres." };
  if (nirKey(nir) !== key) {
    return { ok: false, field: "key", message: "La clé ne correspond pas au NIR saisi : vérifiez le NIR et la clé." };
  }
  return { ok: true, nir, key };
}

/** key = 97 − (NIR mod 97), with 2A → 19 and 2B → 18 for the computation. */
export function nirKey(nir: string): string {
  const numeric = BigInt(nir.replace("2A", "19").replace("2B", "18"));
  return String(97n - (numeric % 97n)).padStart(2, "0");
}
