import { z } from "zod";
import type { Db } from "../../db/connection.js";

export const FEEDBACK_LIMITS = { name: 100, email: 254, page: 300, message: 4000 } as const;

const trimmed = z
  .string()
  .catch("")
  .transform((s) => s.replace(/\r\n?/g, "\n").trim());

/** The contact form of the accessibility statement: an address to answer, the problem met, optionally a name and a page. */
const feedbackFields = z.object({
  name: trimmed.pipe(z.string().max(FEEDBACK_LIMITS.name, `Le nom ne doit pas dépasser ${FEEDBACK_LIMITS.name} caractères.`)),
  email: trimmed.pipe(
    z
      .string()
      .min(1, "Indiquez votre adresse électronique, pour que nous puissions vous répondre.")
      .max(FEEDBACK_LIMITS.email, `L'adresse électronique ne doit pas dépasser ${FEEDBACK_LIMITS.email} caractères.`)
      .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, "L'adresse électronique doit être de la forme nom@domaine.fr."),
  ),
  page: trimmed.pipe(z.string().max(FEEDBACK_LIMITS.page, `La page concernée ne doit pas dépasser ${FEEDBACK_LIMITS.page} caractères.`)),
  message: trimmed.pipe(
    z.string().min(1, "Décrivez le problème rencontré.").max(FEEDBACK_LIMITS.message, `Le message ne doit pas dépasser ${FEEDBACK_LIMITS.message} caractères.`),
  ),
});

export type FeedbackValues = { name: string; email: string; page: string; message: string };
export type FeedbackResult = { ok: true } | { ok: false; errors: Partial<Record<keyof FeedbackValues, string>>; values: FeedbackValues };

function asText(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** Records a message sent from the statement's contact form (no account: anyone may write; no medical data asked). */
export async function recordFeedback(db: Db, body: Record<string, unknown>): Promise<FeedbackResult> {
  const values: FeedbackValues = { name: asText(body.name), email: asText(body.email), page: asText(body.page), message: asText(body.message) };
  const parsed = feedbackFields.safeParse(values);
  if (!parsed.success) {
    const errors: Partial<Record<keyof FeedbackValues, string>> = {};
    for (const issue of parsed.error.issues) {
      const field = issue.path[0] as keyof FeedbackValues;
      errors[field] ??= issue.message;
    }
    return { ok: false, errors, values };
  }
  const f = parsed.data;
  await db("accessibility_feedback").insert({
    name: f.name || null,
    email: f.email,
    page: f.page || null,
    message: f.message,
    created_at: new Date().toISOString(),
  });
  return { ok: true };
}
