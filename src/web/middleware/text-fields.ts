import type { RequestHandler } from "express";

/**
 * A NUL character in a form field (pasted from a binary file, or forged) is dropped before any route reads it: no text
 * of the app can hold one, and PostgreSQL refuses it in a text column (« invalid byte sequence »), which would turn a
 * note, a model or a message into a 500. Runs after the body parsers (urlencoded, and multipart on the file routes).
 */
const NUL = String.fromCharCode(0);

function clean(value: unknown): unknown {
  if (typeof value === "string") return value.includes(NUL) ? value.replaceAll(NUL, "") : value;
  if (Array.isArray(value)) return value.map(clean);
  return value;
}

export const textFields: RequestHandler = (req, _res, next) => {
  const body = req.body as Record<string, unknown> | undefined;
  if (body && typeof body === "object") for (const key of Object.keys(body)) body[key] = clean(body[key]);
  next();
};
