import { z } from "zod";
import type { Db } from "../../db/connection.js";
import type { AgentActor, RequestContext } from "../actor.js";
import { patientById, patientsByNir, practitionerById, structureById, type PatientCard } from "../directory/queries.js";
import { NIR_TYPED_MAX } from "../directory/nir.js";
import { traceShown } from "../directory/patient-lookup.js";
import { recipientByIdentifier, recipientByNir, recipientCard, type Recipient, type Resolution } from "../directory/recipients.js";
import type { ProfessionalCard } from "../directory/cards.js";
import { acceptUploads } from "../attachments/service.js";
import { holdFiles, type HeldFile } from "./held-files.js";
import { notReceivedOutcome, submitCompose, type ComposeDeps, type ComposeInput, type ComposeOutcome, type ComposeTarget, type FieldErrors } from "./compose.js";
import type { DraftRow } from "./scope.js";

/**
 * The échelon's new question (manual §7–8): the recipient is found from the patient's NIR OD (their
 * médecin traitant, or the structure where they work) or from an N°AM / FINESS, and must have been
 * shown to the agent before a send goes out. A question that cannot be sent yet (recipient refused,
 * ambiguous, or not shown yet) comes back with everything typed and the valid files held (held-files.ts):
 * only "Enregistrer comme brouillon" (or the expired-session rescue) writes a draft colleagues see.
 */
/** Room for a NIR OD typed with spaces or dots and its key (an N°AM / FINESS is shorter): normalised, then checked. */
export const RECIPIENT_MAX = NIR_TYPED_MAX;

const trimmed = z
  .string()
  .catch("")
  .transform((s) => s.trim().slice(0, RECIPIENT_MAX));
/** `patient`: the beneficiary chosen when the NIR OD has several (an id, checked against them). */
export const recipientFields = z.object({ nir_od: trimmed, destinataire: trimmed, patient: trimmed });
export type RecipientFields = z.infer<typeof recipientFields>;

/** Who the question goes to, by id: what the signed form context carries between two posts. */
export type RecipientIds = { rp?: number; rs?: number };

/** What the recipient part of the form shows. */
export type QuestionState = {
  nirOd: string;
  destinataire: string;
  recipient: ProfessionalCard | null;
  patientId: number | null;
  recipientIds: RecipientIds | null;
  /** The beneficiaries offered when the NIR OD has several (the chosen one is `patientId`). */
  beneficiaries: PatientCard[];
};

export const EMPTY_QUESTION: QuestionState = { nirOd: "", destinataire: "", recipient: null, patientId: null, recipientIds: null, beneficiaries: [] };

/** The recipient the agent was shown on the previous post (read from the signed form context), if any. */
export type ShownRecipient = { patientId: number | null } & RecipientIds;

export type QuestionOutcome =
  | (ComposeOutcome & { state: QuestionState })
  /**
   * Not sent: the form again, with the recipient found (or the error), a notice, the files held for the
   * next post, and the draft id only when one exists (opened from a draft, or saved by this post).
   */
  | { status: "form"; state: QuestionState; draftId: number | null; held: HeldFile[]; errors: FieldErrors; fileErrors: string[]; notice: string | null; refused: boolean };

function recipientIds(r: Recipient): RecipientIds {
  return r.kind === "structure" ? { rs: r.structure.id } : { rp: r.practitioner.id };
}

function targetOf(state: QuestionState): ComposeTarget {
  const ids = state.recipientIds;
  const recipient = ids?.rs ? { structureId: ids.rs } : ids?.rp ? { practitionerId: ids.rp } : null;
  return { kind: "elsm-new", patientId: state.patientId, recipient };
}

const NO_RECIPIENT = "Indiquez le destinataire : le NIR OD du patient, ou le N°AM du médecin ou le FINESS de la structure.";
const CHECK_RECIPIENT = "Vérifiez le destinataire affiché ci-dessous, puis cliquez à nouveau sur ENVOYER.";
const SAVED_WITHOUT_RECIPIENT = "Le brouillon a été enregistré sans destinataire : corrigez le destinataire pour pouvoir l'envoyer.";
/** Both ways of naming the recipient typed: the agent says which one, nothing is guessed. */
const BOTH_TYPED: FieldErrors = {
  nir_od: "Un N°AM ou FINESS est aussi saisi : gardez le NIR OD (le médecin traitant du patient) ou le N°AM / FINESS, et effacez l'autre.",
  destinataire: "Un NIR OD est aussi saisi : gardez le N°AM / FINESS ou le NIR OD (le médecin traitant du patient), et effacez l'autre.",
};

type Resolved = { ok: true; resolution: Extract<Resolution, { ok: true }> } | { ok: false; errors: FieldErrors; beneficiaries: PatientCard[] };

async function resolve(db: Db, actor: AgentActor, fields: RecipientFields): Promise<Resolved> {
  if (fields.nir_od && fields.destinataire) return { ok: false, errors: BOTH_TYPED, beneficiaries: [] };
  if (!fields.nir_od && !fields.destinataire) return { ok: false, errors: { nir_od: NO_RECIPIENT }, beneficiaries: [] };
  const r = fields.nir_od ? await recipientByNir(db, actor.elsmId, fields.nir_od, fields.patient) : await recipientByIdentifier(db, fields.destinataire);
  if (r.ok) return { ok: true, resolution: r };
  return { ok: false, errors: { [r.field]: r.message }, beneficiaries: r.beneficiaries ?? [] };
}

/** The files of this post held for the next one (no draft is written). */
export async function holdUploads(deps: ComposeDeps, input: ComposeInput) {
  const held = input.held ?? [];
  const kept = input.draft
    ? await deps.db("attachments").where({ draft_id: input.draft.id }).whereNotIn("id", input.removeAttachmentIds).count<{ n: number }[]>({ n: "*" })
    : [{ n: 0 }];
  const { stored, errors } = await acceptUploads(input.files, Number(kept[0]?.n ?? 0) + held.length, deps.storage, deps.scan);
  return { held: [...held, ...holdFiles(stored)], fileErrors: errors, draftId: input.draft?.id ?? null };
}

/**
 * One post of the question form: `intent` "lookup" shows the recipient, "draft" saves, "send" sends —
 * only when the recipient now found is the one shown before (`shown`).
 */
export async function submitElsmQuestion(
  deps: ComposeDeps,
  ctx: RequestContext<AgentActor>,
  fields: RecipientFields,
  intent: "send" | "draft" | "lookup",
  input: ComposeInput,
  shown: ShownRecipient | null,
): Promise<QuestionOutcome> {
  if (input.notReceived) {
    const { draftId, errors, fileErrors, held, notice } = notReceivedOutcome(input, input.notReceived);
    const state = { ...EMPTY_QUESTION, nirOd: fields.nir_od, destinataire: fields.destinataire };
    return { status: "form", state, draftId, held, errors, fileErrors, notice, refused: true };
  }
  const resolved = await resolve(deps.db, ctx.actor, fields);
  // The patient (and their médecin traitant) or the beneficiaries the form is about to show: traced.
  await traceShown(
    deps.db,
    ctx,
    resolved.ok
      ? [...(resolved.resolution.patient ? [resolved.resolution.patient] : []), ...resolved.resolution.beneficiaries.filter((b) => b.id !== resolved.resolution.patient?.id)]
      : resolved.beneficiaries,
  );
  const typed: QuestionState = { ...EMPTY_QUESTION, nirOd: fields.nir_od, destinataire: fields.destinataire };
  if (!resolved.ok) {
    const state = { ...typed, beneficiaries: resolved.beneficiaries };
    // A NIR OD of several beneficiaries looked up: the choice is offered, nothing is wrong yet.
    const errors = intent === "lookup" && resolved.errors.patient ? {} : resolved.errors;
    if (intent === "draft") {
      const outcome = await submitCompose(deps, ctx, targetOf(state), { ...input, action: "draft" });
      if (outcome.status === "sent" || outcome.status === "gone" || outcome.status === "conflict") return { ...outcome, state };
      const saved = outcome.status === "saved";
      const fileErrors = outcome.fileErrors;
      return {
        status: "form",
        state,
        draftId: outcome.draftId,
        held: [],
        errors: saved ? errors : { ...outcome.errors, ...errors },
        fileErrors,
        notice: saved ? SAVED_WITHOUT_RECIPIENT : null,
        refused: true,
      };
    }
    return { status: "form", state, ...(await holdUploads(deps, input)), errors, notice: null, refused: Object.keys(errors).length > 0 };
  }
  const { resolution } = resolved;
  const state: QuestionState = {
    ...typed,
    recipient: recipientCard(resolution.recipient),
    patientId: resolution.patient?.id ?? null,
    recipientIds: recipientIds(resolution.recipient),
    beneficiaries: resolution.beneficiaries,
  };
  const confirmed = shown !== null && shown.patientId === state.patientId && shown.rp === state.recipientIds?.rp && shown.rs === state.recipientIds?.rs;
  if (intent === "lookup" || (intent === "send" && !confirmed)) {
    const refused = intent === "send";
    return { status: "form", state, ...(await holdUploads(deps, input)), errors: {}, notice: refused ? CHECK_RECIPIENT : null, refused };
  }
  const outcome = await submitCompose(deps, ctx, targetOf(state), { ...input, action: intent, keepRefused: false });
  return { ...outcome, state };
}

/** The recipient part of the form for a saved question draft. */
export async function questionStateOfDraft(db: Db, draft: DraftRow): Promise<QuestionState> {
  const [patient, practitioner, structure] = await Promise.all([
    draft.patient_id ? patientById(db, draft.patient_id) : null,
    draft.recipient_practitioner_id ? practitionerById(db, draft.recipient_practitioner_id) : null,
    draft.recipient_structure_id ? structureById(db, draft.recipient_structure_id) : null,
  ]);
  const recipient: Recipient | null = structure ? { kind: "structure", structure } : practitioner ? { kind: "practitioner", practitioner } : null;
  const underNir = patient ? (await patientsByNir(db, patient.nir)).filter((b) => b.elsmId === patient.elsmId) : [];
  return {
    nirOd: patient ? patient.nir : "",
    destinataire: !patient && recipient ? (recipient.kind === "structure" ? recipient.structure.finess : recipient.practitioner.nam) : "",
    recipient: recipient ? recipientCard(recipient) : null,
    patientId: patient?.id ?? null,
    recipientIds: recipient ? recipientIds(recipient) : null,
    beneficiaries: underNir.length > 1 ? underNir : [],
  };
}
