import crypto from "node:crypto";

/** A CPS card PIN: 4 to 8 digits. */
export const PIN_DIGITS = { min: 4, max: 8 } as const;

export function isPinShape(pin: string): boolean {
  return new RegExp(`^[0-9]{${PIN_DIGITS.min},${PIN_DIGITS.max}}$`).test(pin);
}

// Low cost on purpose: a 4-digit PIN is protected by the 3-attempt card block, not by hashing cost.
const PARAMS = { N: 1024, r: 8, p: 1 };

export function hashPin(pin: string): string {
  const salt = crypto.randomBytes(16);
  const hash = crypto.scryptSync(pin, salt, 32, PARAMS);
  return `scrypt$${salt.toString("base64")}$${hash.toString("base64")}`;
}

export function pinMatches(pin: string, stored: string): boolean {
  const [, salt, hash] = stored.split("$");
  if (!salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const actual = crypto.scryptSync(pin, Buffer.from(salt, "base64"), expected.length, PARAMS);
  return crypto.timingSafeEqual(expected, actual);
}
