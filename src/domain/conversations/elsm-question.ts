import { z } from "zod";
import type { Db } from "../../db/connection.js";
import type { AgentActor, RequestContext } from "../actor.js";
import { patientById, practitionerById, structureById } from "../directory/queries.js";
import { NIR_TYPED_MAX } from "../directory/nir.js";
import { recipientByIdentifier, recipientByNir, recipientCard, type Recipient, type Resolution } from "../directory/recipients.js";
import type { ProfessionalCard } from "../directory/cards.js";
import { hasContent, submitCompose, type ComposeDeps, type ComposeInput, type ComposeOutcome, type ComposeTarget, type FieldErrors } from "./compose.js";
import type { DraftRow } from "./scope.js";

/**
 * The échelon's new question (manual §7–8): the recipient is found from the patient's NIR OD (their
 * médecin traitant, or the structure where they work) or from an N°AM / FINESS, and must have been
 * shown to the agent before a send goes out. Nothing typed is lost on the way: text and valid
 * attachments wait in a draft while the recipient is not settled.
 */
/** Room for a NIR OD typed with spaces or dots and its key (an N°AM / FINESS is shorter): normalised, then checked. */
export const RECIPIENT_MAX = NIR_TYPED_MAX;

const trimmed = z
  .string()
  .catch("")
  .transform((s) => s.trim().slice(0, RECIPIENT_MAX));
export const recipientFields = z.object({ nir_od: trimmed, destinataire: trimmed });
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
};

export const EMPTY_QUESTION: QuestionState = { nirOd: "", destinataire: "", recipient: null, patientId: null, recipientIds: null };

/** The recipient the agent was shown on the previous post (read from the signed form context), if any. */
export type ShownRecipient = { patientId: number | null } & RecipientIds;

export type QuestionOutcome =
  | (ComposeOutcome & { state: QuestionState })
  /** Not sent: the form again, with the recipient found (or the error), a notice, and the draft that keeps the text. */
  | { status: "form"; state: QuestionState; draftId: number | null; errors: FieldErrors; fileErrors: string[]; notice: string | null; refused: boolean };

function recipientIds(r: Recipient): RecipientIds {
  return r.kind === "structure" ? { rs: r.structure.id } : { rp: r.practitioner.id };
}

function targetOf(state: QuestionState): ComposeTarget {
  const ids = state.recipientIds;
  const recipient = ids?.rs ? { structureId: ids.rs } : ids?.rp ? { practitionerId: ids.rp } : null;
  return { kind: "elsm-new", patientId: state.patientId, recipient };
}

async function resolve(db: Db, actor: AgentActor, fields: RecipientFields): Promise<Resolution | null> {
  if (fields.nir_od) return recipientByNir(db, actor.elsmId, fields.nir_od);
  if (fields.destinataire) return recipientByIdentifier(db, fields.destinataire);
  return null;
}

/** Keeps what was typed in a draft (when there is anything to keep) while the question cannot be sent yet. */
async function keepAsDraft(deps: ComposeDeps, ctx: RequestContext<AgentActor>, state: QuestionState, input: ComposeInput) {
  if (!hasContent(input.draft, input.subject, input.body, input.files.length)) return { draftId: input.draft?.id ?? null, fileErrors: [] };
  const outcome = await submitCompose(deps, ctx, targetOf(state), { ...input, action: "draft" });
  return outcome.status === "sent" ? { draftId: null, fileErrors: [] } : { draftId: outcome.draftId ?? input.draft?.id ?? null, fileErrors: outcome.fileErrors };
}

const NO_RECIPIENT = "Indiquez le destinataire : le NIR OD du patient, ou le N°AM du médecin ou le FINESS de la structure.";
const CHECK_RECIPIENT = "Vérifiez le destinataire affiché ci-dessous, puis cliquez à nouveau sur ENVOYER.";

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
  const resolution = await resolve(deps.db, ctx.actor, fields);
  const typed: QuestionState = { ...EMPTY_QUESTION, nirOd: fields.nir_od, destinataire: fields.destinataire };
  if (!resolution?.ok) {
    const errors: FieldErrors = resolution ? { [resolution.field]: resolution.message } : { nir_od: NO_RECIPIENT };
    const kept = await keepAsDraft(deps, ctx, typed, input);
    return { status: "form", state: typed, ...kept, errors, notice: null, refused: true };
  }
  const state: QuestionState = {
    ...typed,
    recipient: recipientCard(resolution.recipient),
    patientId: resolution.patient?.id ?? null,
    recipientIds: recipientIds(resolution.recipient),
  };
  const confirmed = shown !== null && shown.patientId === state.patientId && shown.rp === state.recipientIds?.rp && shown.rs === state.recipientIds?.rs;
  if (intent === "lookup" || (intent === "send" && !confirmed)) {
    const kept = await keepAsDraft(deps, ctx, state, input);
    const refused = intent === "send";
    return { status: "form", state, ...kept, errors: {}, notice: refused ? CHECK_RECIPIENT : null, refused };
  }
  const outcome = await submitCompose(deps, ctx, targetOf(state), { ...input, action: intent });
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
  return {
    nirOd: patient ? patient.nir : "",
    destinataire: !patient && recipient ? (recipient.kind === "structure" ? recipient.structure.finess : recipient.practitioner.nam) : "",
    recipient: recipient ? recipientCard(recipient) : null,
    patientId: patient?.id ?? null,
    recipientIds: recipient ? recipientIds(recipient) : null,
  };
}
