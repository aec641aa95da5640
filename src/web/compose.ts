import type { Request, Response } from "express";
import type { AppDeps } from "../deps.js";
import { actorKey, type Actor } from "../domain/actor.js";
import { draftAttachments, type AttachmentView } from "../domain/attachments/service.js";
import { colleaguesWriting, writingNotice } from "../domain/conversations/presence.js";
import { replyMailWarning, type ComposeOutcome, type DraftConflict, type FieldErrors } from "../domain/conversations/compose.js";
import type { QuestionOutcome, QuestionState } from "../domain/conversations/elsm-question.js";
import { readContext, signContext, type FormContext } from "../domain/conversations/form-context.js";
import { heldFileViews, readHeldFiles, signHeldFiles, type HeldFile, type HeldFileView } from "../domain/conversations/held-files.js";
import { patientHistory, type PatientHistoryView } from "../domain/conversations/patient-history.js";
import { loadDraft, type ConversationRow, type DraftRow } from "../domain/conversations/scope.js";
import { answeredMessage, type MessageView } from "../domain/conversations/thread.js";
import { patientById, type PatientCard } from "../domain/directory/queries.js";
import { patientView, type PatientCardView } from "../domain/directory/cards.js";
import { modelOptions, type ModelOption } from "../domain/reply-models/models.js";
import { isStorageFault, STORAGE_UNAVAILABLE_NOTICE, StorageUnavailable } from "../domain/errors.js";
import { z } from "zod";
import { errorItems, isAutosave, newSubmissionKey, notReceivedStatus, readComposeForm, type ErrorItem } from "./forms.js";
import { actorOf } from "./middleware/guards.js";
import { flash } from "./middleware/flash.js";
import { routeOf } from "./middleware/request-log.js";
import { uploadProblem } from "./middleware/upload.js";
import type { RenderWorkspace } from "./workspace.js";

/**
 * The compose forms of both sides — a doctor's question about a patient, the échelon's question to a
 * recipient, a reply — and the one way a post of them is answered: Post/Redirect/Get on success; the
 * same form with its errors and everything typed otherwise.
 */
export type ComposeSide = { base: "/ps" | "/bo"; home: string; render: RenderWorkspace };

/** What is being written. */
export type ComposeWhere = { kind: "ps-new"; patient: PatientCard } | { kind: "elsm-new"; state: QuestionState } | { kind: "reply"; conversation: ConversationRow };

export type ComposeFormView = {
  heading: string;
  action: string;
  backHref: string;
  /** Says where the back link goes ("Retour à la conversation", "Retour à la liste"). */
  backLabel: string;
  discardAction: string | null;
  base: string;
  patient: PatientCardView | null;
  thread: string | null;
  /** A reply: the message it answers, quoted above the form. */
  answered: MessageView | null;
  showSubject: boolean;
  subject: string;
  body: string;
  attachments: AttachmentView[];
  /** The ids of those ticked "Retirer" as the form was posted. */
  removing: number[];
  /** Files accepted by an earlier post, not attached to anything yet, and the signed field naming them. */
  held: HeldFileView[];
  heldToken: string;
  errors: FieldErrors;
  fileErrors: string[];
  errorItems: ErrorItem[];
  ctxToken: string;
  submissionKey: string;
  draftId: number | null;
  /** The version of that draft this form shows (posted back: a draft changed since is a conflict). */
  draftVersion: string | null;
  /** The draft someone else wrote or changed since this form was shown: read-only, above the user's own text. */
  conflict: ConflictView | null;
  /** The échelon's question once its NIR OD named a patient: that patient's threads with this échelon. */
  patientHistory: PatientHistoryView | null;
  /** The back office's question: the recipient part of the form, and a notice above it. */
  recipientForm: QuestionState | null;
  /** The beneficiaries offered when the NIR OD has several. */
  beneficiaries: PatientCardView[];
  notice: string | null;
  /** The échelon's reply to a party no notification mail reaches: the warning, and whether sending without mail was ticked. */
  noMailWarning: string | null;
  /** Colleagues writing the same shared reply now (back office), or null. */
  writing: string | null;
  confirmNoMail: boolean;
  /** The back office's "Insérer un modèle": the ELSM's models and the one chosen (null on the doctor's side). */
  models: { options: ModelOption[]; selected: number | null } | null;
};

export type ConflictView = { author: string; at: string; subject: string; body: string; showSubject: boolean } | { discarded: true };

const CONFLICT_NOTICE =
  "Rien n'a été envoyé ni enregistré : le brouillon de cette réponse a changé depuis l'ouverture de ce formulaire. Votre texte est ci-dessous, le brouillon actuel au-dessus. Relisez-les : ENVOYER ou ENREGISTRER remplacera désormais le brouillon actuel par votre texte (ses pièces jointes restent listées).";
const DISCARDED_NOTICE =
  "Rien n'a été envoyé ni enregistré : le brouillon que ce formulaire reprenait a été supprimé entre-temps. Votre texte est ci-dessous ; ENVOYER ou ENREGISTRER le reprend dans un nouveau brouillon.";

function conflictView(theirs: DraftConflict | null, reply: boolean): ConflictView {
  if (!theirs) return { discarded: true };
  const at = new Date(theirs.updatedAt).toLocaleString("fr-FR", { timeZone: "Europe/Paris", dateStyle: "short", timeStyle: "short" });
  return { author: theirs.author, at, subject: theirs.subject, body: theirs.body, showSubject: !reply };
}

type Typed = {
  conflict?: ConflictView;
  subject?: string;
  body?: string;
  submissionKey?: string;
  confirmNoMail?: boolean;
  errors?: FieldErrors;
  fileErrors?: string[];
  notice?: string | null;
  held?: HeldFile[];
  /** The draft's version as the posted form showed it (an insert writes nothing: a change since stays a conflict). */
  versionShown?: string;
  modelId?: number | null;
  /** Draft attachments ticked "Retirer" in the posted form (an insert gives the form back as it was). */
  removing?: number[];
};

const ERROR_ORDER = ["conversation", "nir_od", "patient", "destinataire", "subject", "body", "model_id"];

const keys = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .catch(undefined)
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));

/** The files an earlier post of this actor's form held (signed field `_files`), minus those ticked "Retirer". */
function heldFilesOf(deps: AppDeps, res: Response, body: Record<string, unknown> | undefined): HeldFile[] {
  return readHeldFiles(deps.config.sessionSecret, actorKey(actorOf(res)), body?._files, keys.parse(body?.remove_held));
}

/** A compose post, read once: what was typed and asked (readComposeForm), and the files an earlier post of the form held. */
export function readComposePost(deps: AppDeps, req: Request, res: Response, draft: DraftRow | null) {
  const read = readComposeForm(req, draft);
  read.input.held = heldFilesOf(deps, res, req.body);
  return read;
}

/** The signed context of a posted form, if it is this actor's form of this kind (else null). */
export function formContextOf(deps: AppDeps, res: Response, token: unknown, kind: FormContext["t"]): FormContext | null {
  const context = readContext(deps.config.sessionSecret, token);
  return context && context.a === actorKey(actorOf(res)) && context.t === kind ? context : null;
}

function signedContext(secret: string, actor: Actor, where: ComposeWhere): string {
  const a = actorKey(actor);
  if (where.kind === "reply") return signContext(secret, { a, t: "reply", c: where.conversation.id });
  if (where.kind === "ps-new") return signContext(secret, { a, t: "ps-new", p: where.patient.id });
  return signContext(secret, { a, t: "elsm-new", p: where.state.patientId, ...(where.state.recipientIds ?? {}) });
}

async function composeForm(deps: AppDeps, side: ComposeSide, actor: Actor, where: ComposeWhere, draft: DraftRow | null, typed: Typed): Promise<ComposeFormView> {
  const { base } = side;
  const reply = where.kind === "reply";
  const patient = where.kind === "ps-new" ? where.patient : where.kind === "elsm-new" && where.state.patientId ? await patientById(deps.db, where.state.patientId) : null;
  const errors = typed.errors ?? {};
  const fileErrors = typed.fileErrors ?? [];
  const { attachments: _summaryOnly, patient: choiceError, ...fieldErrors } = errors;
  const beneficiaries = where.kind === "elsm-new" ? where.state.beneficiaries.map((b) => patientView(b)!) : [];
  // The summary links a refused choice to the first beneficiary's radio button.
  const choice = choiceError && beneficiaries[0] ? { [`patient-${beneficiaries[0].id}`]: choiceError } : {};
  const held = typed.held ?? [];
  return {
    // Upper case on screen by CSS (.caps): a screen reader reads the words, it does not spell them.
    heading: reply ? "Répondre" : "Poser une question médicale",
    action: reply ? `${base}/conversations/${where.conversation.id}/messages` : draft ? `${base}/drafts/${draft.id}` : `${base}/conversations`,
    backHref: reply ? `${base}/conversations/${where.conversation.id}` : side.home,
    backLabel: reply ? "Retour à la conversation" : "Retour à la liste",
    discardAction: draft ? `${base}/drafts/${draft.id}/delete` : null,
    base,
    patient: patientView(patient),
    thread: reply ? where.conversation.subject : null,
    answered: reply ? await answeredMessage(deps.db, actor, where.conversation) : null,
    showSubject: !reply,
    subject: typed.subject ?? draft?.subject ?? "",
    body: typed.body ?? draft?.body ?? "",
    attachments: draft ? await draftAttachments(deps.db, draft.id) : [],
    removing: typed.removing ?? [],
    errors,
    fileErrors,
    held: heldFileViews(held),
    heldToken: signHeldFiles(deps.config.sessionSecret, actorKey(actor), held),
    errorItems: errorItems({ ...choice, ...fieldErrors }, fileErrors, ERROR_ORDER),
    ctxToken: signedContext(deps.config.sessionSecret, actor, where),
    submissionKey: typed.submissionKey ?? newSubmissionKey(),
    draftId: draft?.id ?? null,
    draftVersion: draft ? (typed.versionShown ?? draft.updated_at) : null,
    conflict: typed.conflict ?? null,
    recipientForm: where.kind === "elsm-new" ? where.state : null,
    patientHistory: where.kind === "elsm-new" && actor.kind === "agent" ? await patientHistory(deps.db, actor, where.state.patientId, null) : null,
    beneficiaries,
    notice: typed.notice ?? null,
    noMailWarning: reply ? await replyMailWarning(deps.db, actor, where.conversation) : null,
    // « Marc DUBOIS rédige une réponse depuis 14:02 » (issue 13 §4): a colleague on the same shared reply.
    writing: reply && actor.kind === "agent" ? writingNotice(await colleaguesWriting(deps.db, actor, where.conversation.id)) : null,
    confirmNoMail: typed.confirmNoMail ?? false,
    models: actor.kind === "agent" ? { options: await modelOptions(deps.db, actor), selected: typed.modelId ?? null } : null,
  };
}

function pageTitle(where: ComposeWhere, draft: DraftRow | null): string {
  if (where.kind === "reply") return `Répondre : ${where.conversation.subject}`;
  return draft ? `Brouillon : ${draft.subject || "sans objet"}` : "Poser une question";
}

/** Where a draft of this form is written on: the reply page, or the draft's own page. */
function draftHref(side: ComposeSide, where: ComposeWhere, draftId: number): string {
  return where.kind === "reply" ? `${side.base}/conversations/${where.conversation.id}/reply` : `${side.base}/drafts/${draftId}`;
}

/** Errors that say the recipient of the échelon's question is not known yet: its draft is saved all the same. */
const RECIPIENT_ERRORS = new Set(["nir_od", "destinataire", "patient"]);

/** The draft an autosave wrote, or null when nothing was written (the échelon's question: saved without its recipient). */
function autosavedDraft(outcome: ComposeOutcome | QuestionOutcome): number | null {
  if (outcome.status === "saved") return outcome.draftId;
  if (outcome.status !== "form" || !outcome.draftId) return null;
  return Object.keys(outcome.errors).every((k) => RECIPIENT_ERRORS.has(k)) ? outcome.draftId : null;
}

const AUTOSAVE_CONFLICT_NOTICE =
  "Rien n'a été écrasé : le brouillon enregistré a été modifié depuis l'ouverture de ce formulaire (dans une autre page, ou par un collègue). L'enregistrement automatique est suspendu. « Garder mon texte » remplacera le brouillon enregistré par votre texte ; « Reprendre le brouillon enregistré » remettra le sien dans le formulaire.";
const AUTOSAVE_DISCARDED_NOTICE =
  "Rien n'a été écrasé : le brouillon que ce formulaire reprenait a été supprimé entre-temps. L'enregistrement automatique est suspendu. « Garder mon texte » l'enregistrera dans un nouveau brouillon.";

/** Why an autosave wrote nothing, in one French sentence the script announces (the text stays in the form). */
function autosaveRefusal(messages: (string | null | undefined)[]): string {
  const said = messages.filter((m): m is string => Boolean(m));
  return `Brouillon non enregistré automatiquement. ${said.join(" ")} Votre texte reste dans le formulaire.`.replace(/\s+/g, " ");
}

/**
 * A background save (autosave.js, and its save before the session ends): no page, so nothing replaces the form being
 * typed in. Saved → 204, the draft named in headers, which the script copies into that form (draft_id, draft_version,
 * action) so that its next post takes this draft at this version. A newer version met → 409 and both texts (partials/
 * autosave-conflict), nothing written. Refused (too long, a closed thread…) → its status and the French reason as text.
 */
async function answerAutosave(req: Request, res: Response, deps: AppDeps, side: ComposeSide, where: ComposeWhere, outcome: ComposeOutcome | QuestionOutcome, typed: Posted) {
  const draftId = autosavedDraft(outcome);
  if (draftId) {
    const draft = await loadDraft(deps.db, actorOf(res), String(draftId));
    res.set({
      "X-Draft-Id": String(draft.id),
      "X-Draft-Version": draft.updated_at,
      "X-Draft-Action": where.kind === "reply" ? `${side.base}/conversations/${where.conversation.id}/messages` : `${side.base}/drafts/${draft.id}`,
      "X-Draft-Href": draftHref(side, where, draft.id),
    });
    return res.status(204).end();
  }
  if (outcome.status === "conflict") {
    const reply = where.kind === "reply";
    return res.status(409).render("partials/autosave-conflict", {
      conflict: conflictView(outcome.theirs, reply),
      draftId: outcome.theirs?.draftId ?? null,
      draftVersion: outcome.theirs?.updatedAt ?? null,
      notice: outcome.theirs ? AUTOSAVE_CONFLICT_NOTICE : AUTOSAVE_DISCARDED_NOTICE,
      showSubject: !reply,
      subject: typed.subject,
      body: typed.body,
    });
  }
  const why: (string | undefined)[] = outcome.status === "gone" ? [outcome.notice] : "errors" in outcome ? Object.values(outcome.errors) : [];
  return res
    .status(notReceivedStatus(req) ?? (outcome.status === "gone" || ("errors" in outcome && outcome.errors.conversation) ? 409 : 422))
    .type("text/plain")
    .send(autosaveRefusal(why));
}

/** The compose page: the form, in the workspace (the list beside it). */
export async function composePage(req: Request, res: Response, deps: AppDeps, side: ComposeSide, where: ComposeWhere, draft: DraftRow | null, typed: Typed = {}, status = 200) {
  const form = await composeForm(deps, side, actorOf(res), where, draft, typed);
  const current = where.kind === "reply" ? { current: where.conversation.id } : draft ? { currentDraft: draft.id } : {};
  return side.render(req, res, "conversations/compose", { title: pageTitle(where, draft), form, ...current }, status);
}

/** Answers a post of a compose form. */
export async function answerCompose(
  req: Request,
  res: Response,
  deps: AppDeps,
  side: ComposeSide,
  where: ComposeWhere,
  outcome: ComposeOutcome | QuestionOutcome,
  typed: { subject: string; body: string; submissionKey: string; confirmNoMail?: boolean },
) {
  if (isAutosave(req)) return answerAutosave(req, res, deps, side, where, outcome, typed);
  if (outcome.status === "sent") {
    void deps.notifier.flush().catch(() => undefined);
    flash(req, "Votre message a été envoyé.");
    return res.redirect(303, `${side.base}/conversations/${outcome.conversationId}`);
  }
  if (outcome.status === "saved" && outcome.fileErrors.length === 0) {
    flash(req, "Le brouillon a été enregistré.");
    return res.redirect(303, draftHref(side, where, outcome.draftId));
  }
  if (outcome.status === "gone") {
    // Sent before, into a thread since deleted: the text comes back under a fresh submission key.
    return composePage(req, res, deps, side, where, null, { subject: typed.subject, body: typed.body, notice: outcome.notice }, 409);
  }
  if (outcome.status === "conflict") {
    // Nothing written: the user's text and files back, the draft as it is now shown beside them (and named by the form).
    const settledConflict: ComposeWhere = where.kind === "elsm-new" && "state" in outcome ? { kind: "elsm-new", state: outcome.state } : where;
    const current = outcome.draftId ? await loadDraft(deps.db, actorOf(res), String(outcome.draftId)) : null;
    const conflict = conflictView(outcome.theirs, where.kind === "reply");
    const notice = outcome.theirs ? CONFLICT_NOTICE : DISCARDED_NOTICE;
    return composePage(req, res, deps, side, settledConflict, current, { ...typed, conflict, notice, held: outcome.held, fileErrors: outcome.fileErrors }, 409);
  }
  const settled: ComposeWhere = where.kind === "elsm-new" && "state" in outcome ? { kind: "elsm-new", state: outcome.state } : where;
  const draft = outcome.draftId ? await loadDraft(deps.db, actorOf(res), String(outcome.draftId)) : null;
  const errors = outcome.status === "saved" ? {} : outcome.errors;
  // The refused send was kept as a draft: a reload (htmx history) shows that draft, not an empty form.
  if (draft) res.set("HX-Replace-Url", draftHref(side, settled, draft.id));
  const notice = outcome.status === "form" || outcome.status === "invalid" ? (outcome.notice ?? null) : null;
  const held = outcome.status === "form" ? outcome.held : outcome.status === "invalid" ? (outcome.held ?? []) : [];
  const status = notReceivedStatus(req) ?? (outcome.status === "form" && !outcome.refused ? 200 : errors.conversation ? 409 : 422);
  return composePage(req, res, deps, side, settled, draft, { ...typed, errors, fileErrors: outcome.fileErrors, notice, held }, status);
}

/** What a compose post typed, as the form gives it back. */
type Posted = { subject: string; body: string; submissionKey: string; confirmNoMail?: boolean; held?: HeldFile[] };

/**
 * A compose post: its domain operation, then its answer (answerCompose). The one place where a storage that cannot
 * take the write (StorageUnavailable, or a storage fault met on the way: a trace, a read) is answered: 503, the form
 * as it was shown with what was typed and STORAGE_UNAVAILABLE_NOTICE; nothing was sent or saved (the domain rolled
 * back and removed this post's files); the cause logged at error level by its facts only.
 */
export async function answerSubmission<O extends ComposeOutcome | QuestionOutcome>(
  req: Request,
  res: Response,
  deps: AppDeps,
  side: ComposeSide,
  shown: { where: ComposeWhere; draft: DraftRow | null },
  typed: Posted,
  submit: () => Promise<O>,
  whereOf: (outcome: O) => ComposeWhere = () => shown.where,
) {
  let outcome: O;
  try {
    // The temporary folder refused this post's files while it was received: the same answer, nothing submitted.
    const problem = uploadProblem(req);
    if (problem?.kind === "storage") throw new StorageUnavailable(problem.cause);
    outcome = await submit();
  } catch (err) {
    if (!isStorageFault(err)) throw err;
    const fault = err instanceof StorageUnavailable ? err : new StorageUnavailable(err);
    deps.logger.error({ method: req.method, route: routeOf(req, res), code: fault.code, err: fault.cause }, "storage unavailable: compose form given back");
    if (isAutosave(req))
      return res
        .status(503)
        .type("text/plain")
        .send(autosaveRefusal([STORAGE_UNAVAILABLE_NOTICE]));
    const { held, ...text } = typed;
    return composePage(req, res, deps, side, shown.where, shown.draft, { ...text, held: held ?? [], notice: STORAGE_UNAVAILABLE_NOTICE }, 503);
  }
  return answerCompose(req, res, deps, side, whereOf(outcome), outcome, typed);
}
