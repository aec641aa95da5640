/** NIR rules (glossary): 13 characters — sex, year, month, département (2A/2B for Corsica), commune, order — and a key. */
const NIR_SHAPE = /^[12][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}$/;

/** What people type (spaces, lower-case 2a) reduced to the stored form: no white space, upper case. */
export function normalizeNir(raw: string): string {
  return raw.replace(/\s+/g, "").toUpperCase();
}

/** The 13 characters of a NIR, without its key. */
export function isNirShape(nir: string): boolean {
  return NIR_SHAPE.test(nir);
}

export type NirCheck = { ok: true; nir: string; key: string } | { ok: false; field: "nir" | "key"; message: string };

/** Accepts what people type (spaces, lower-case 2a) and returns the canonical NIR, or a French message. */
export function checkNir(rawNir: string, rawKey: string): NirCheck {
  const nir = normalizeNir(rawNir);
  const key = rawKey.replace(/\s+/g, "");
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
