import crypto from "node:crypto";
import type { Request } from "express";
import { z } from "zod";
import { draftAttachments, type AttachmentView } from "../domain/attachments/service.js";
import { uploadedFiles } from "./middleware/upload.js";
import type { Db } from "../db/connection.js";
import { formatBirthDate } from "../domain/format.js";
import type { PatientCard } from "../domain/directory/queries.js";
import type { ComposeInput, FieldErrors } from "../domain/conversations/compose.js";
import type { DraftRow } from "../domain/conversations/scope.js";

const text = z.string().catch("").transform((s) => s.replace(/\r\n?/g, "\n"));
const ids = z.union([z.string(), z.array(z.string())]).optional().transform((v) =>
  (v === undefined ? [] : Array.isArray(v) ? v : [v]).filter((s) => /^\d{1,9}$/.test(s)).map(Number));

/** The fields every compose form posts; anything else (elsm_id, state, author…) is ignored. */
const composeFields = z.object({
  action: z.enum(["send", "draft"]).catch("draft"),
  subject: text,
  body: text,
  submission_key: z.string().regex(/^[a-f0-9]{32}$/).catch(""),
  remove_attachment: ids,
});

export function readComposeInput(req: Request, draft: DraftRow | null): ComposeInput {
  const f = composeFields.parse(req.body ?? {});
  return {
    action: f.action, subject: f.subject, body: f.body, submissionKey: f.submission_key,
    removeAttachmentIds: f.remove_attachment, draft, files: uploadedFiles(req),
  };
}

export function newSubmissionKey(): string {
  return crypto.randomBytes(16).toString("hex");
}

export type PatientCardView = PatientCard & { birthDateLabel: string };

export function patientView(p: PatientCard | null): PatientCardView | null {
  return p ? { ...p, birthDateLabel: formatBirthDate(p.birthDate) } : null;
}

export type ComposeFormView = {
  heading: string;
  action: string;
  base: string;
  backHref: string;
  discardAction: string | null;
  patient: PatientCardView | null;
  thread: string | null;
  showSubject: boolean;
  subject: string;
  body: string;
  attachments: AttachmentView[];
  errors: FieldErrors;
  fileErrors: string[];
  errorItems: { field: string; message: string }[];
  ctxToken: string;
  submissionKey: string;
  draftId: number | null;
};

/** The summary at the top of a form: one entry per field, each refused file its own entry. */
export function errorItems(errors: FieldErrors, fileErrors: string[]): { field: string; message: string }[] {
  const items: { field: string; message: string }[] = [];
  if (errors.conversation) items.push({ field: "conversation", message: errors.conversation });
  if (errors.nir_od) items.push({ field: "nir_od", message: errors.nir_od });
  if (errors.destinataire) items.push({ field: "destinataire", message: errors.destinataire });
  if (errors.subject) items.push({ field: "subject", message: errors.subject });
  if (errors.body) items.push({ field: "body", message: errors.body });
  for (const m of fileErrors) items.push({ field: "attachments", message: m });
  return items;
}

export async function composeForm(db: Db, base: Omit<ComposeFormView, "attachments" | "errorItems" | "errors" | "fileErrors" | "submissionKey"> & {
  errors?: FieldErrors; fileErrors?: string[]; submissionKey?: string;
}): Promise<ComposeFormView> {
  const errors = base.errors ?? {};
  const fileErrors = base.fileErrors ?? [];
  return {
    ...base,
    errors,
    fileErrors,
    errorItems: errorItems(errors, fileErrors),
    attachments: base.draftId ? await draftAttachments(db, base.draftId) : [],
    submissionKey: base.submissionKey ?? newSubmissionKey(),
  };
}
