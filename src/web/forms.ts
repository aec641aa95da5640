import crypto from "node:crypto";
import type { Request } from "express";
import { z } from "zod";
import type { ComposeInput } from "../domain/conversations/compose.js";
import type { DraftRow } from "../domain/conversations/scope.js";
import { parseId } from "../domain/ids.js";
import { uploadedFiles } from "./middleware/upload.js";

const text = z
  .string()
  .catch("")
  .transform((s) => s.replace(/\r\n?/g, "\n"));
const ids = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]).map(parseId).filter((id) => id !== null));

/** The fields every compose form posts; anything else (elsm_id, state, author…) is ignored. */
const composeFields = z.object({
  // "lookup": the back office's "Afficher le destinataire"; anything unknown only saves.
  action: z.enum(["send", "draft", "lookup"]).catch("draft"),
  subject: text,
  body: text,
  submission_key: z
    .string()
    .regex(/^[a-f0-9]{32}$/)
    .catch(""),
  remove_attachment: ids,
  // The version of the named draft the form was shown (its updated_at): a draft changed since is a conflict.
  draft_version: z.string().max(40).catch(""),
  // The échelon's reply to a party without a notification mailbox: sent only once this is ticked.
  confirm_no_mail: z
    .unknown()
    .optional()
    .transform((v) => v === "1"),
});

export type ComposeIntent = "send" | "draft" | "lookup";

/** A posted compose form, read once: what the user asked for, and what the domain receives. */
export function readComposeForm(req: Request, draft: DraftRow | null): { intent: ComposeIntent; input: ComposeInput } {
  const f = composeFields.parse(req.body ?? {});
  return {
    intent: f.action,
    input: {
      action: f.action === "send" ? "send" : "draft",
      subject: f.subject,
      body: f.body,
      submissionKey: f.submission_key,
      removeAttachmentIds: f.remove_attachment,
      confirmNoMail: f.confirm_no_mail,
      draft,
      ...(draft && f.draft_version ? { draftVersion: f.draft_version } : {}),
      files: uploadedFiles(req),
    },
  };
}

export function newSubmissionKey(): string {
  return crypto.randomBytes(16).toString("hex");
}

export type ErrorItem = { field: string; message: string };

/** The summary at the top of a form: one entry per field, in the order of the form, each refused file its own entry. */
export function errorItems(errors: Partial<Record<string, string>>, fileErrors: string[] = [], order: string[] = []): ErrorItem[] {
  const fields = [...order, ...Object.keys(errors).filter((f) => !order.includes(f))];
  const items = fields.flatMap((field) => (errors[field] ? [{ field, message: errors[field]! }] : []));
  return [...items, ...fileErrors.map((message) => ({ field: "attachments", message }))];
}
