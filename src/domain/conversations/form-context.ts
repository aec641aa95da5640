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
  const payload = Buffer.from(JSON.stringify({ ...context, iat: Date.now() })).toString("base64url");
  const mac = crypto.createHmac("sha256", secret).update(payload).digest("base64url");
  return `${payload}.${mac}`;
}

export function readContext(secret: string, token: unknown): FormContext | null {
  if (typeof token !== "string" || token.length > 1000) return null;
  const [payload, mac] = token.split(".");
  if (!payload || !mac) return null;
  const expected = crypto.createHmac("sha256", secret).update(payload).digest();
  const given = Buffer.from(mac, "base64url");
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
  try {
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as FormContext;
  } catch {
    return null;
  }
}
