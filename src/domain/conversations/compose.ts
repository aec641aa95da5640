import crypto from "node:crypto";
import type { Knex } from "knex";
import { audit } from "../audit/audit.js";
import { acceptUploads, attachToDraft, type UploadedFile } from "../attachments/service.js";
import type { Scanner } from "../attachments/antivirus.js";
import type { FileStorage } from "../attachments/storage.js";
import type { Db } from "../../db/connection.js";
import { insertedId, isUniqueViolation } from "../../db/dialect.js";
import { isStorageFault, StorageUnavailable } from "../errors.js";
import type { PatientCard } from "../directory/queries.js";
import { partyWithoutMailbox } from "../directory/recipients.js";
import type { Actor, RequestContext } from "../actor.js";
import { cancelRetentionNotices, elsmMailbox, psMailbox, queueNotification } from "../notifications/mailer.js";
import { holdFiles, type HeldFile } from "./held-files.js";
import { lockedSlot, moveTray, patientNameKey } from "./counters.js";
import { dueAfterMessage } from "./deadlines.js";
import { conversationsOf, draftsOf, replyDraft, type ConversationRow, type DraftRow } from "./scope.js";
import { closerOf } from "./operations.js";
import { markWriting, stopWriting } from "./presence.js";
import { indexText } from "./full-text.js";
import { undoOfSend } from "./recall.js";
import { canWrite, closedWhileTyping, isClosed, sideOf, stateAfterMessage } from "./states.js";

/** The limits of a message (the templates' maxlength and hints come from here). */
export const SUBJECT_MAX = 200;
export const BODY_MAX = 20_000;

/** What a message is written for: a new question (PS about a patient, or ELSM to a recipient) or a reply. */
export type ComposeTarget =
  | { kind: "ps-new"; patient: PatientCard }
  // recipient null: a draft kept while the recipient typed is not valid yet (it can never be sent so).
  | { kind: "elsm-new"; patientId: number | null; recipient: { practitionerId: number } | { structureId: number } | null }
  | { kind: "reply"; conversation: ConversationRow };

export type ComposeInput = {
  action: "send" | "draft";
  subject: string;
  body: string;
  submissionKey: string;
  draft: DraftRow | null;
  /** The version (updated_at) of `draft` the form was shown; a draft changed since is a conflict. */
  draftVersion?: string;
  removeAttachmentIds: number[];
  files: UploadedFile[];
  /** Files accepted by an earlier post of the same form and not attached yet (see held-files.ts). */
  held?: HeldFile[];
  /** The agent confirmed sending a reply that no notification mail will announce (see replyMailWarning). */
  confirmNoMail?: boolean;
  /** false: a refused send writes nothing; what was accepted comes back as held files (the échelon's question). */
  keepRefused?: boolean;
  /** The post was not received whole (a limit of the request broken): nothing is written, the form comes back. */
  notReceived?: NotReceived;
  /**
   * A text rescued from an expired session: there is no form to give it back to, so a text over its limit is saved
   * as it is (the body whole; a subject past 200, which no browser's maxlength lets through, cut to its column).
   */
  rescued?: boolean;
};

/** Which limit a post broke before it was read to its end, said on the field it concerns. */
export type NotReceived = { field: "subject" | "body" | "attachments"; message: string };

export const NOT_RECEIVED_NOTICE =
  "Message non envoyé, rien n'a été enregistré : le formulaire n'a pas été reçu en entier. Ce qui a été reçu de votre texte est repris ci-dessous.";
export const TOO_LONG_NOT_SAVED =
  "Rien n'a été enregistré : un texte dépasse sa longueur maximale (voir ci-dessous). Votre texte est repris en entier ci-dessous : raccourcissez-le, puis enregistrez ou envoyez.";

/** The answer to a post not received whole: the form again, the limit on its field, nothing written. */
export function notReceivedOutcome(input: ComposeInput, notReceived: NotReceived) {
  const errors: FieldErrors = { [notReceived.field]: notReceived.message };
  // About the files: said in the list of refused files (the form shows the "attachments" error there only).
  const fileErrors = notReceived.field === "attachments" ? [notReceived.message] : [];
  return { status: "invalid" as const, draftId: input.draft?.id ?? null, errors, fileErrors, held: input.held ?? [], notice: NOT_RECEIVED_NOTICE };
}

export type FieldErrors = Partial<Record<"subject" | "body" | "attachments" | "conversation" | "nir_od" | "destinataire" | "patient" | "confirm_no_mail" | "model_id", string>>;

export type ComposeOutcome =
  | { status: "sent"; conversationId: number }
  | { status: "saved"; draftId: number; fileErrors: string[] }
  /** notice: set when what was typed was kept in a draft anyway (the page must say so). */
  | { status: "invalid"; draftId: number | null; errors: FieldErrors; fileErrors: string[]; held?: HeldFile[]; notice?: string | null }
  /** This form was already sent, into a thread the actor has since deleted: nothing is sent again (the page gives the text back). */
  | { status: "gone"; notice: string }
  /**
   * Nothing written: the draft this form named was changed (or discarded) by someone else since it was shown,
   * or a form naming no draft met a reply draft saved since. `theirs`: that draft as it is now (null: discarded);
   * the files this post accepted come back held.
   */
  | { status: "conflict"; draftId: number | null; theirs: DraftConflict | null; held: HeldFile[]; fileErrors: string[] };

/** The draft a conflicting post met, as it is now: shown read-only beside what the user typed. */
export type DraftConflict = { draftId: number; subject: string; body: string; author: string; updatedAt: string };

export type ComposeDeps = { db: Db; storage: FileStorage; scan?: Scanner };

/** Thrown inside the writing transaction when the thread was closed after the form was loaded (rolls it back). */
class ClosedMeanwhile extends Error {}
/** Thrown inside the writing transaction when the draft slot is not as the form was shown (rolls it back). */
class DraftChanged extends Error {}

/**
 * A post takes only the draft its form names, at the version it was shown: the draft is claimed by a conditional
 * write (a row lock on PostgreSQL, so two posts of one version cannot both pass). A form naming no draft never takes
 * the reply draft of the thread (a colleague's, or another tab's): if one exists, that is a conflict too.
 */
async function claimDraft(trx: Knex, actor: Actor, target: ComposeTarget, draft: DraftRow | null, version: string | undefined, named: boolean): Promise<void> {
  if (draft) {
    if (!named || !version) return;
    const claimed = await trx("drafts").where({ id: draft.id, updated_at: version }).update({ updated_at: version });
    if (!claimed) throw new DraftChanged();
  } else if (target.kind === "reply" && (await replyDraft(trx, actor, target.conversation.id))) {
    throw new DraftChanged();
  }
}

/** Who wrote a draft, as the conflict shows it. */
async function draftAuthor(db: Knex, actor: Actor, draft: DraftRow): Promise<string> {
  if (draft.author_agent_id) {
    const a = await db("agents").where({ id: draft.author_agent_id }).first("first_name", "last_name");
    return a ? `${a.first_name} ${a.last_name}` : "un agent de l'échelon";
  }
  return actor.kind === "ps" ? "vous (dans une autre page)" : "le médecin";
}

/** The conflict answer: the draft of the slot as it is now, and the files this post accepted, held. */
async function conflictOutcome(db: Knex, actor: Actor, target: ComposeTarget, named: DraftRow | null, held: HeldFile[], fileErrors: string[]): Promise<ComposeOutcome> {
  const now = named
    ? (((await draftsOf(db, actor).where({ id: named.id }).first()) as DraftRow | undefined) ?? null)
    : target.kind === "reply"
      ? await replyDraft(db, actor, target.conversation.id)
      : null;
  const theirs = now ? { draftId: now.id, subject: now.subject, body: now.body, author: await draftAuthor(db, actor, now), updatedAt: now.updated_at } : null;
  return { status: "conflict", draftId: now?.id ?? null, theirs, held, fileErrors };
}

function tooLong(input: Pick<ComposeInput, "subject" | "body">): boolean {
  return input.subject.length > SUBJECT_MAX || input.body.length > BODY_MAX;
}

function fieldErrors(input: ComposeInput, sending: boolean, target: ComposeTarget): FieldErrors {
  const errors: FieldErrors = {};
  if (input.subject.length > SUBJECT_MAX) errors.subject = `L'objet ne peut pas dépasser ${SUBJECT_MAX} caractères (${input.subject.length} saisis).`;
  if (input.body.length > BODY_MAX) errors.body = `Le message ne peut pas dépasser ${BODY_MAX} caractères (${input.body.length} saisis).`;
  if (sending) {
    if (target.kind !== "reply" && input.subject.trim() === "") errors.subject ??= "Saisissez l'objet du message : il est obligatoire pour l'envoyer.";
    if (input.body.trim() === "") errors.body ??= "Saisissez le texte du message : il est obligatoire pour l'envoyer.";
  }
  return errors;
}

/**
 * The échelon replying to a doctor or structure that has no notification mailbox is told before sending
 * that no mail will announce the reply; null when a mail will (or when a doctor replies: échelons have one).
 */
export async function replyMailWarning(db: Db, actor: Actor, conversation: ConversationRow): Promise<string | null> {
  if (actor.kind !== "agent") return null;
  const name = await partyWithoutMailbox(db, conversation.ps_practitioner_id, conversation.ps_structure_id);
  return name ? `${name} n'a pas de boîte mail de notification : la réponse sera visible à sa prochaine connexion, sans courriel.` : null;
}

const CONFIRM_NO_MAIL = "Cochez « Envoyer sans courriel de notification » pour envoyer quand même.";

/** The rows an actor wrote (messages, drafts): a submission key is unique per author (and side). */
function byAuthor(actor: Actor, alias: string): Record<string, unknown> {
  return actor.kind === "ps"
    ? { [`${alias}.side`]: "ps", [`${alias}.author_practitioner_id`]: actor.practitionerId }
    : { [`${alias}.side`]: "elsm", [`${alias}.author_agent_id`]: actor.agentId };
}

/**
 * The message this actor already sent with this form's key, if it was sent for the same target: the same
 * conversation for a reply; the opening message of a thread this actor started, for a new question.
 * "elsewhere": the key went with a message of another target (a forged or copied form), so it cannot
 * stand for this one.
 */
async function existingSend(db: Knex, actor: Actor, target: ComposeTarget, submissionKey: string): Promise<number | "elsewhere" | null> {
  if (!submissionKey) return null;
  const row = await conversationsOf(db, actor, "c")
    .join("messages as m", "m.conversation_id", "c.id")
    .where(byAuthor(actor, "m"))
    .where("m.submission_key", submissionKey)
    .first("c.id", "m.id as message_id", "c.started_by");
  if (!row) return null;
  const conversationId = Number(row.id);
  if (target.kind === "reply") return conversationId === target.conversation.id ? conversationId : "elsewhere";
  const first = await db("messages").where({ conversation_id: conversationId }).min<{ id: number }[]>({ id: "id" });
  return row.started_by === sideOf(actor) && Number(first[0]?.id) === Number(row.message_id) ? conversationId : "elsewhere";
}

/** This actor's draft saved earlier by the same form (same key, same target), and whether the key went with another draft. */
async function draftOfKey(db: Knex, actor: Actor, target: ComposeTarget, submissionKey: string): Promise<{ draft: DraftRow | null; elsewhere: boolean }> {
  if (!submissionKey) return { draft: null, elsewhere: false };
  const same = (row: DraftRow) => (target.kind === "reply" ? row.conversation_id === target.conversation.id : row.conversation_id === null);
  const mine = (await db("drafts as d").where(byAuthor(actor, "d")).where("d.submission_key", submissionKey).first("d.*")) as DraftRow | undefined;
  if (mine && !same(mine)) return { draft: null, elsewhere: true };
  const draft = (await draftsOf(db, actor).where({ submission_key: submissionKey }).first()) as DraftRow | undefined;
  return { draft: draft && same(draft) ? draft : null, elsewhere: false };
}

export const SENT_THEN_DELETED =
  "Cette conversation a été supprimée de votre liste : ce message y avait déjà été envoyé et n'a pas été envoyé une seconde fois. Votre texte est repris ci-dessous ; ENVOYER le pose comme une nouvelle question.";

/** A message this actor sent with this submission key, in a thread no longer in their scope (the PS side deleted it). */
async function sentOutOfSight(db: Knex, actor: Actor, submissionKey: string): Promise<boolean> {
  if (!submissionKey) return false;
  const author = actor.kind === "ps" ? { author_practitioner_id: actor.practitionerId } : { author_agent_id: actor.agentId };
  return Boolean(
    await db("messages")
      .where({ submission_key: submissionKey, ...author })
      .first("id"),
  );
}

/**
 * What the page says when a post was refused but its text and valid attachments were kept in a draft:
 * nothing is ever saved without telling.
 */
export function keptDraftNotice(sending: boolean, errors: FieldErrors, fileErrors: string[]): string {
  const reasons: string[] = [];
  if (fileErrors.length) reasons.push(fileErrors.length === 1 ? "un fichier a été refusé" : `${fileErrors.length} fichiers ont été refusés`);
  const fields = Object.keys(errors).filter((k) => k !== "attachments").length;
  if (fields) reasons.push(fields === 1 ? "un champ est à corriger" : "des champs sont à corriger");
  const why = reasons.join(" et ") || "vérifiez le formulaire";
  if (sending) return `Message non envoyé : ${why}. Votre texte et vos pièces jointes valides sont conservés dans un brouillon.`;
  return `Brouillon enregistré avec votre texte et vos pièces jointes valides, mais ${why}.`;
}

/** Whether a form holds anything worth keeping as a draft. */
export function hasContent(draft: DraftRow | null, subject: string, body: string, fileCount: number): boolean {
  return Boolean(draft || subject.trim() || body.trim() || fileCount);
}

/**
 * Saves or sends what a compose form posted. Whatever is valid is kept: if the send is refused,
 * the typed text and the accepted attachments are saved as a draft, so nothing is lost (or, with
 * `keepRefused: false`, handed back as held files for the form to carry, and no draft is written).
 * A storage or database that cannot take the write throws StorageUnavailable: nothing written, this post's files removed.
 */
export async function submitCompose(deps: ComposeDeps, ctx: RequestContext, target: ComposeTarget, input: ComposeInput): Promise<ComposeOutcome> {
  const { db, storage, scan } = deps;
  const side = sideOf(ctx.actor);
  const sending = input.action === "send";
  if (input.notReceived) return notReceivedOutcome(input, input.notReceived);

  // A key that already went with another message or draft of this actor is spent: this post is written under a fresh one.
  const already = await existingSend(db, ctx.actor, target, input.submissionKey);
  if (sending && typeof already === "number") return { status: "sent", conversationId: already };
  // Sent already, in a thread the doctor has since deleted (Back, then ENVOYER): said, never sent twice.
  if (sending && already === null && (await sentOutOfSight(db, ctx.actor, input.submissionKey))) return { status: "gone", notice: SENT_THEN_DELETED };
  const keyed = await draftOfKey(db, ctx.actor, target, input.submissionKey);
  if (already === "elsewhere" || keyed.elsewhere) input = { ...input, submissionKey: crypto.randomBytes(16).toString("hex") };

  const errors = fieldErrors(input, sending, target);
  if (sending && target.kind === "reply" && !input.confirmNoMail) {
    const warning = await replyMailWarning(db, ctx.actor, target.conversation);
    if (warning) errors.confirm_no_mail = `${warning} ${CONFIRM_NO_MAIL}`;
  }

  // Only the draft the form names (or the one this very form saved before): never the thread's reply draft implicitly.
  const draft = input.draft ?? keyed.draft;

  const kept = draft ? await db("attachments").where({ draft_id: draft.id }).whereNotIn("id", input.removeAttachmentIds).count<{ n: number }[]>({ n: "*" }) : [{ n: 0 }];
  const held = input.held ?? [];
  const { stored: uploaded, errors: fileErrors } = await acceptUploads(input.files, Number(kept[0]?.n ?? 0) + held.length, storage, scan);
  const stored = [...held, ...holdFiles(uploaded)];
  if (fileErrors.length) errors.attachments = fileErrors.length === 1 ? fileErrors[0] : `${fileErrors.length} fichiers n'ont pas été joints.`;

  // The échelon may not write in a closed thread: refused, nothing written, the text and valid files handed back.
  const closedRefusal = async (): Promise<ComposeOutcome> => {
    const closer = target.kind === "reply" ? await closerOf(db, target.conversation.id) : null;
    return { status: "invalid", draftId: null, errors: { ...errors, conversation: closedWhileTyping(sending, closer) }, fileErrors, held: stored };
  };
  if (target.kind === "reply" && !canWrite(side, target.conversation.state)) return closedRefusal();

  const keep = hasContent(draft, input.subject, input.body, stored.length);
  const canSend = sending && Object.keys(errors).length === 0;
  if (sending && !canSend && input.keepRefused === false) return { status: "invalid", draftId: draft?.id ?? null, errors, fileErrors, held: stored };
  // A text over its limit is never cut into a draft: nothing is written, the whole text and the valid files come back.
  if (tooLong(input) && !input.rescued) return { status: "invalid", draftId: draft?.id ?? null, errors, fileErrors, held: stored, notice: TOO_LONG_NOT_SAVED };

  const removedKeys: string[] = [];
  try {
    const outcome = await db.transaction(async (trx): Promise<ComposeOutcome> => {
      // The state as it is now, read under the row lock (PostgreSQL; SQLite runs one transaction at a time):
      // a close committed since the form was loaded refuses the reply; a close waiting on the lock comes after it.
      if (target.kind === "reply" && side === "elsm" && !canWrite(side, (await lockedSlot(trx, target.conversation.id)).state)) throw new ClosedMeanwhile();
      await claimDraft(trx, ctx.actor, target, draft, input.draftVersion, draft !== null && draft === input.draft);
      let draftId: number | null = draft?.id ?? null;
      if (keep) draftId = await saveDraft(trx, ctx, target, draft, input, stored, removedKeys);
      if (!canSend) {
        if (!draftId) {
          if (!sending) {
            const empty = "Le brouillon est vide : saisissez un objet, un message ou joignez un fichier.";
            if (target.kind === "reply") errors.body ??= empty;
            else errors.subject ??= empty;
          }
          return { status: "invalid", draftId, errors, fileErrors } as const;
        }
        await audit(trx, ctx, "draft.saved", { type: "draft", id: draftId });
        // The échelon's shared reply draft changed: its colleagues are told who is writing it (issue 13 §4).
        if (target.kind === "reply" && ctx.actor.kind === "agent") await markWriting(trx, ctx.actor, target.conversation.id);
        if (Object.keys(errors).length || sending) return { status: "invalid", draftId, errors, fileErrors, notice: keptDraftNotice(sending, errors, fileErrors) } as const;
        return { status: "saved", draftId, fileErrors } as const;
      }
      const conversationId = await deliver(trx, ctx, target, draftId!, input);
      if (target.kind === "reply" && ctx.actor.kind === "agent") await stopWriting(trx, ctx.actor, target.conversation.id);
      return { status: "sent", conversationId } as const;
    });
    await Promise.all(removedKeys.map((k) => storage.remove(k).catch(() => undefined)));
    return outcome;
  } catch (err) {
    if (isStorageFault(err)) {
      // Rolled back: the files this post stored point nowhere; those held by an earlier post stay held.
      await Promise.all(uploaded.map((f) => storage.remove(f.storageKey).catch(() => undefined)));
      throw err instanceof StorageUnavailable ? err : new StorageUnavailable(err);
    }
    if (err instanceof ClosedMeanwhile) return closedRefusal();
    if (err instanceof DraftChanged) return conflictOutcome(db, ctx.actor, target, input.draft, stored, fileErrors);
    if (!isUniqueViolation(err)) throw err;
    // A concurrent double submit won the race: answer as it did.
    const twice = await existingSend(db, ctx.actor, target, input.submissionKey);
    if (typeof twice === "number") return { status: "sent", conversationId: twice };
    const twin = (await draftOfKey(db, ctx.actor, target, input.submissionKey)).draft;
    if (twin) return { status: "saved", draftId: twin.id, fileErrors: [] };
    throw err;
  }
}

async function saveDraft(
  trx: Knex,
  ctx: RequestContext,
  target: ComposeTarget,
  draft: DraftRow | null,
  input: ComposeInput,
  stored: Awaited<ReturnType<typeof acceptUploads>>["stored"],
  removedKeys: string[],
): Promise<number> {
  const now = new Date().toISOString();
  const fields = { subject: input.rescued ? input.subject.slice(0, SUBJECT_MAX) : input.subject, body: input.body, updated_at: now };
  let draftId: number;
  if (draft) {
    draftId = draft.id;
    const recipient =
      target.kind === "elsm-new"
        ? {
            patient_id: target.patientId,
            recipient_practitioner_id: target.recipient && "practitionerId" in target.recipient ? target.recipient.practitionerId : null,
            recipient_structure_id: target.recipient && "structureId" in target.recipient ? target.recipient.structureId : null,
          }
        : {};
    await trx("drafts")
      .where({ id: draftId })
      .update({ ...fields, ...recipient });
    if (input.removeAttachmentIds.length) {
      const removed = trx("attachments").where({ draft_id: draftId }).whereIn("id", input.removeAttachmentIds);
      removedKeys.push(...((await removed.clone().pluck("storage_key")) as string[]));
      await removed.del();
    }
  } else {
    const actor = ctx.actor;
    const row: Record<string, unknown> = {
      ...fields,
      side: sideOf(actor),
      created_at: now,
      submission_key: input.submissionKey || null,
      author_practitioner_id: actor.kind === "ps" ? actor.practitionerId : null,
      author_agent_id: actor.kind === "agent" ? actor.agentId : null,
      elsm_id: actor.kind === "agent" ? actor.elsmId : target.kind === "ps-new" ? target.patient.elsmId : null,
    };
    if (target.kind === "reply") row.conversation_id = target.conversation.id;
    if (target.kind === "ps-new") row.patient_id = target.patient.id;
    if (target.kind === "elsm-new") {
      row.patient_id = target.patientId;
      row.recipient_practitioner_id = target.recipient && "practitionerId" in target.recipient ? target.recipient.practitionerId : null;
      row.recipient_structure_id = target.recipient && "structureId" in target.recipient ? target.recipient.structureId : null;
    }
    const [inserted] = await trx("drafts").insert(row).returning("id");
    draftId = insertedId(inserted);
  }
  // A held file already attached (the same form posted twice) is not attached a second time.
  const taken = stored.length
    ? new Set<string>(
        await trx("attachments")
          .whereIn(
            "storage_key",
            stored.map((f) => f.storageKey),
          )
          .pluck("storage_key"),
      )
    : new Set<string>();
  await attachToDraft(
    trx,
    draftId,
    stored.filter((f) => !taken.has(f.storageKey)),
  );
  return draftId;
}

/** Turns the draft into a sent message: conversation state, attachments, notification and audit in one transaction. */
async function deliver(trx: Knex, ctx: RequestContext, target: ComposeTarget, draftId: number, input: ComposeInput): Promise<number> {
  const now = new Date().toISOString();
  const actor = ctx.actor;
  const side = sideOf(actor);
  let conversationId: number;
  let psPractitionerId: number | null;
  let psStructureId: number | null;
  let elsmId: number;
  // The thread as it was before this message, for its withdrawal (recall.ts): read under the row lock, before any change.
  let undo = await undoOfSend(trx, null);

  if (target.kind === "reply") {
    const c = target.conversation;
    conversationId = c.id;
    psPractitionerId = c.ps_practitioner_id;
    psStructureId = c.ps_structure_id;
    elsmId = c.elsm_id;
    const slot = await lockedSlot(trx, c.id);
    undo = await undoOfSend(trx, c.id);
    const before = slot.state;
    const after = stateAfterMessage(side);
    // The answer-due date the message sets (deadlines.ts), read under the row lock with the state it changes.
    const due = await dueAfterMessage(trx, { elsmId: c.elsm_id, startedBy: c.started_by, before: { state: before, due_side: slot.dueSide ?? null } }, side, now);
    const moved =
      side === "ps"
        ? { state: after, closed_at: null, closed_reason_label: null, closed_reason_text: null, last_message_at: now, last_message_side: "ps", ...due }
        : // An ELSM message relaunches a thread the PS side had deleted (manual §4).
          {
            state: after,
            last_message_at: now,
            last_message_side: "elsm",
            redacteur_agent_id: (actor as { agentId: number }).agentId,
            ps_deleted_at: null,
            // The échelon's first answer to a doctor's question: when (the dashboard's time to the first answer).
            ...(c.started_by === "ps" ? { first_answer_at: trx.raw("COALESCE(first_answer_at, ?)", [now]) } : {}),
            ...due,
          };
    // A new message cancels a retention notice (retention.ts): the thread is active again.
    const changed = await trx("conversations")
      .where({ id: c.id })
      .where("last_message_at", "<=", now)
      .update({ ...moved, purge_notice_at: null, purge_at: null });
    if (changed && c.purge_at) await cancelRetentionNotices(trx, c.id);
    await trx("conversations")
      .where({ id: c.id })
      .increment(side === "ps" ? "elsm_unread" : "ps_unread", 1);
    // A doctor's message is unread by the ELSM, in whichever tray the thread now is; a new due date is not past.
    await moveTray(trx, c.elsm_id, slot, {
      state: changed ? after : before,
      unread: slot.unread || side === "ps",
      patient: slot.patient,
      overdue: changed && due ? due.overdue : slot.overdue,
    });
    if (side === "ps" && isClosed(before) && changed) await audit(trx, ctx, "conversation.reopened", { type: "conversation", id: c.id });
  } else {
    if (actor.kind === "ps" && target.kind === "ps-new") {
      psPractitionerId = actor.structureId ? null : actor.practitionerId;
      psStructureId = actor.structureId;
      elsmId = target.patient.elsmId;
    } else if (actor.kind === "agent" && target.kind === "elsm-new" && target.recipient) {
      psPractitionerId = "practitionerId" in target.recipient ? target.recipient.practitionerId : null;
      psStructureId = "structureId" in target.recipient ? target.recipient.structureId : null;
      elsmId = actor.elsmId;
    } else {
      throw new Error("compose target does not match the actor");
    }
    const patientId = target.kind === "ps-new" ? target.patient.id : target.patientId;
    const [row] = await trx("conversations")
      .insert({
        subject: input.subject.trim(),
        patient_id: patientId,
        patient_last_name_key: patientNameKey(trx, patientId),
        ps_practitioner_id: psPractitionerId,
        ps_structure_id: psStructureId,
        elsm_id: elsmId,
        started_by: side,
        started_by_practitioner_id: actor.kind === "ps" ? actor.practitionerId : null,
        started_by_agent_id: actor.kind === "agent" ? actor.agentId : null,
        state: stateAfterMessage(side),
        redacteur_agent_id: actor.kind === "agent" ? actor.agentId : null,
        last_message_at: now,
        last_message_side: side,
        created_at: now,
        ps_unread: side === "elsm" ? 1 : 0,
        elsm_unread: side === "ps" ? 1 : 0,
        ...(await dueAfterMessage(trx, { elsmId, startedBy: side, before: null }, side, now)),
      })
      .returning("id");
    conversationId = insertedId(row);
    await indexText(trx, { kind: "subject", conversationId, elsmId, text: input.subject.trim() });
    await moveTray(trx, elsmId, null, { state: stateAfterMessage(side), unread: side === "ps", patient: patientId !== null, overdue: false });
  }

  const [msg] = await trx("messages")
    .insert({
      conversation_id: conversationId,
      side,
      body: input.body,
      author_practitioner_id: actor.kind === "ps" ? actor.practitionerId : null,
      author_agent_id: actor.kind === "agent" ? actor.agentId : null,
      sent_at: now,
      submission_key: input.submissionKey || null,
      undo,
    })
    .returning("id");
  const messageId = insertedId(msg);
  await indexText(trx, { kind: "message", conversationId, elsmId, text: input.body });
  await trx("attachments").where({ draft_id: draftId }).update({ message_id: messageId, draft_id: null });
  await trx("drafts").where({ id: draftId }).del();

  const notify = side === "ps" ? await elsmMailbox(trx, elsmId) : await psMailbox(trx, psPractitionerId, psStructureId);
  if (notify) await queueNotification(trx, conversationId, notify, "message", messageId);
  await audit(trx, ctx, "message.sent", { type: "message", id: messageId });
  return conversationId;
}
