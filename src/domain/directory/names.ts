/** The search key of a name: no accents, upper case, single spaces ("Inès  Solana" → "INES SOLANA"). */
export function nameKey(value: string): string {
  return value.normalize("NFD").replace(/\p{M}/gu, "").replace(/\s+/g, " ").trim().toUpperCase();
}
