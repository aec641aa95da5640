import crypto from "node:crypto";
import type { Request } from "express";
import { z } from "zod";
import { FIELD_MAX_LABEL, MAX_FILE_LABEL, MAX_FILES_PER_MESSAGE, PART_HEADER_MAX_LABEL, REQUEST_MAX_LABEL } from "../domain/attachments/rules.js";
import { BODY_MAX, SUBJECT_MAX, type ComposeInput, type NotReceived } from "../domain/conversations/compose.js";
import type { DraftRow } from "../domain/conversations/scope.js";
import { parseId } from "../domain/ids.js";
import { uploadProblem, uploadedFiles, type UploadProblem } from "./middleware/upload.js";

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
  // "lookup": the back office's "Afficher le destinataire"; "insert_model": its "Insérer le modèle"; anything unknown only saves.
  action: z.enum(["send", "draft", "lookup", "insert_model"]).catch("draft"),
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

export type ComposeIntent = "send" | "draft" | "lookup" | "insert_model";

/** A compose post made in the background by autosave.js (`X-Autosave: 1`): it only ever saves the draft, never sends. */
export function isAutosave(req: Request): boolean {
  return req.get("X-Autosave") === "1";
}

/** A posted compose form, read once: what the user asked for, and what the domain receives. */
export function readComposeForm(req: Request, draft: DraftRow | null): { intent: ComposeIntent; input: ComposeInput } {
  const f = composeFields.parse(req.body ?? {});
  // An autosave never sends, never looks up nor inserts: whatever its body says, it saves the draft.
  if (isAutosave(req)) f.action = "draft";
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
      ...notReceived(uploadProblem(req), f),
    },
  };
}

const AGAIN = `Joignez de nouveau vos fichiers : ${MAX_FILES_PER_MESSAGE} au plus, ${MAX_FILE_LABEL} chacun.`;

type Typed = { subject: string; body: string };

/**
 * Each limit a post can break before it is read whole: its status, and its words on the field it concerns (nothing
 * of the post is written). Not here: a CSRF or sign-in stop (the guard answers) and a temporary folder that cannot be
 * written (a storage fault: answerSubmission, 503).
 */
const NOT_RECEIVED: Partial<Record<UploadProblem["kind"], { status: number; say(problem: UploadProblem, f: Typed): NotReceived }>> = {
  "too-large": {
    status: 413,
    say: () => ({
      field: "attachments",
      message: `L'envoi dépasse ${REQUEST_MAX_LABEL} au total (${MAX_FILES_PER_MESSAGE} pièces jointes de ${MAX_FILE_LABEL} au plus et le texte) : sa lecture a été arrêtée. ${AGAIN}`,
    }),
  },
  field: {
    status: 413,
    say(problem, f) {
      const field = problem.kind === "field" && problem.field === "subject" ? "subject" : "body";
      const [what, max] = field === "subject" ? ["L'objet", SUBJECT_MAX] : ["Le message", BODY_MAX];
      return {
        field,
        message: `${what} envoyé dépasse ${FIELD_MAX_LABEL} : seuls ses ${f[field].length} premiers caractères ont été reçus, repris ci-dessous. ${max} caractères au plus : raccourcissez-le.`,
      };
    },
  },
  header: {
    status: 400,
    say: () => ({
      field: "attachments",
      message: `Une pièce jointe n'a pas pu être lue : l'en-tête de sa partie (son nom de fichier…) dépasse ${PART_HEADER_MAX_LABEL} ou est mal formé. ${AGAIN}`,
    }),
  },
  busy: {
    status: 429,
    say: () => ({
      field: "attachments",
      message: `Vos autres envois en cours occupent déjà l'espace de réception qui vous est réservé : celui-ci n'a pas été reçu. Attendez qu'ils se terminent, puis réessayez. ${AGAIN}`,
    }),
  },
};

function notReceived(problem: UploadProblem | null, f: Typed): { notReceived?: NotReceived } {
  const limit = problem && NOT_RECEIVED[problem.kind];
  return limit ? { notReceived: limit.say(problem, f) } : {};
}

/** The status of a compose post not received whole. */
export function notReceivedStatus(req: Request): number | null {
  const problem = uploadProblem(req);
  return (problem && NOT_RECEIVED[problem.kind]?.status) ?? null;
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
