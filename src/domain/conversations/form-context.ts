import crypto from "node:crypto";

/**
 * What a compose form is about (who typed it, which patient / conversation / recipient), signed by
 * the server and carried in a hidden field. It lets a form posted after the session expired be kept
 * for the same person only, and a new question name its patient without trusting a client id.
 */
export type FormContext = {
  a: string; // actor key
  t: "ps-new" | "reply" | "elsm-new";
  p?: number | null; // patient id
  c?: number; // conversation id
  rp?: number; // recipient practitioner id (ELSM new question)
  rs?: number; // recipient structure id
  iat?: number; // when the form was served (ms)
};

/** How long a served form may be kept, posted after its session expired, and restored as a draft. */
export const FORM_MAX_AGE_MS = 24 * 3_600_000;

/** What a form posted with an expired session held, kept for the same person's next login. */
export type RescuedForm = { context: FormContext; subject: string; body: string; at: number };

export function signContext(secret: string, context: FormContext): string {
  return signPayload(secret, { ...context, iat: Date.now() });
}

export function readContext(secret: string, token: unknown): FormContext | null {
  return readPayload<FormContext>(secret, token, 1000);
}

/** Any plain value, signed by the server (HMAC-SHA256) for a hidden field. */
export function signPayload(secret: string, value: unknown): string {
  const payload = Buffer.from(JSON.stringify(value)).toString("base64url");
  const mac = crypto.createHmac("sha256", secret).update(payload).digest("base64url");
  return `${payload}.${mac}`;
}

/** The value a hidden field carries if the server signed it (else null). */
export function readPayload<T>(secret: string, token: unknown, maxLength: number): T | null {
  if (typeof token !== "string" || token.length > maxLength) return null;
  const [payload, mac] = token.split(".");
  if (!payload || !mac) return null;
  const expected = crypto.createHmac("sha256", secret).update(payload).digest();
  const given = Buffer.from(mac, "base64url");
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
  try {
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as T;
  } catch {
    return null;
  }
}
