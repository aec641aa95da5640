import { z } from "zod";
import type { Knex } from "knex";
import type { Db } from "../../db/connection.js";
import { insertedId } from "../../db/dialect.js";
import type { Actor, AgentActor, RequestContext } from "../actor.js";
import { audit } from "../audit/audit.js";
import { BODY_MAX } from "../conversations/compose.js";
import { practitionerCard, structureCard } from "../directory/cards.js";
import { patientById, practitionerById, structureById } from "../directory/queries.js";
import { NotFound } from "../errors.js";
import { parseId } from "../ids.js";

/**
 * The échelon's saved replies (modèles de réponse): a title and a text, shared by the ELSM's agents, inserted at the
 * end of a message being written. Another ELSM's model (or any model for a doctor) does not exist: NotFound.
 */
export const MODEL_TITLE_MAX = 120;
export const MODEL_BODY_MAX = BODY_MAX;

export type ReplyModelRow = { id: number; elsm_id: number; title: string; body: string; created_at: string; updated_at: string; updated_by_agent_id: number | null };
export type ModelValues = { title: string; body: string };
export type ModelErrors = Partial<Record<keyof ModelValues, string>>;
export type ModelOption = { id: number; title: string };

const text = z
  .string()
  .catch("")
  .transform((s) => s.replace(/\r\n?/g, "\n"));

const modelFields = z.object({
  title: text
    .transform((s) => s.trim())
    .pipe(
      z
        .string()
        .min(1, "Saisissez le titre du modèle : il le nomme dans la liste « Insérer un modèle ».")
        .max(MODEL_TITLE_MAX, `Le titre ne peut pas dépasser ${MODEL_TITLE_MAX} caractères.`),
    ),
  body: text.pipe(
    z
      .string()
      .refine((s) => s.trim() !== "", "Saisissez le texte du modèle.")
      .max(MODEL_BODY_MAX, `Le texte ne peut pas dépasser ${MODEL_BODY_MAX} caractères : raccourcissez-le.`),
  ),
});

/** The ELSM's models (the actor's scope): none for a doctor. */
export function modelsOf(db: Knex, actor: Actor) {
  const q = db("reply_models");
  return actor.kind === "agent" ? q.where({ elsm_id: actor.elsmId }) : q.whereRaw("1 = 0");
}

export async function listModels(db: Db, actor: Actor): Promise<ReplyModelRow[]> {
  return (await modelsOf(db, actor).orderBy([{ column: "title" }, { column: "id" }])) as ReplyModelRow[];
}

/** The choices of "Insérer un modèle". */
export async function modelOptions(db: Db, actor: AgentActor): Promise<ModelOption[]> {
  return (
    await modelsOf(db, actor)
      .orderBy([{ column: "title" }, { column: "id" }])
      .select("id", "title")
  ).map((r) => ({ id: Number(r.id), title: r.title }));
}

export async function loadModel(db: Db, actor: Actor, rawId: unknown): Promise<ReplyModelRow> {
  const id = parseId(rawId);
  const row = id === null ? undefined : ((await modelsOf(db, actor).where({ id }).first()) as ReplyModelRow | undefined);
  if (!row) throw new NotFound();
  return row;
}

export type ModelOutcome = { ok: true; id: number } | { ok: false; errors: ModelErrors; values: ModelValues };

function readModel(raw: Record<string, unknown> | undefined): { ok: true; values: ModelValues } | { ok: false; errors: ModelErrors; values: ModelValues } {
  const values = { title: typeof raw?.title === "string" ? raw.title : "", body: typeof raw?.body === "string" ? raw.body.replace(/\r\n?/g, "\n") : "" };
  const parsed = modelFields.safeParse(values);
  if (parsed.success) return { ok: true, values: parsed.data };
  const errors: ModelErrors = {};
  for (const issue of parsed.error.issues) errors[issue.path[0] as keyof ModelValues] ??= issue.message;
  return { ok: false, errors, values };
}

/** Creates (model null) or changes a model of the agent's ELSM; audited by id. */
export async function saveModel(db: Db, ctx: RequestContext<AgentActor>, model: ReplyModelRow | null, raw: Record<string, unknown> | undefined): Promise<ModelOutcome> {
  const read = readModel(raw);
  if (!read.ok) return read;
  const now = new Date().toISOString();
  const fields = { ...read.values, updated_at: now, updated_by_agent_id: ctx.actor.agentId };
  return db.transaction(async (trx) => {
    if (model) {
      await trx("reply_models").where({ id: model.id, elsm_id: ctx.actor.elsmId }).update(fields);
      await audit(trx, ctx, "reply_model.updated", { type: "reply_model", id: model.id });
      return { ok: true as const, id: model.id };
    }
    const [row] = await trx("reply_models")
      .insert({ ...fields, elsm_id: ctx.actor.elsmId, created_at: now })
      .returning("id");
    const id = insertedId(row);
    await audit(trx, ctx, "reply_model.created", { type: "reply_model", id });
    return { ok: true as const, id };
  });
}

export async function deleteModel(db: Db, ctx: RequestContext<AgentActor>, model: ReplyModelRow): Promise<void> {
  await db.transaction(async (trx) => {
    await trx("reply_models").where({ id: model.id, elsm_id: ctx.actor.elsmId }).del();
    await audit(trx, ctx, "reply_model.deleted", { type: "reply_model", id: model.id });
  });
}

/** Who a message being written is about: the thread's patient and PS party, or the question's resolved ones (null: not known yet). */
export type ModelParties = { patientId: number | null; practitionerId: number | null; structureId: number | null };

/** What each placeholder says: the patient as the app shows them, the PS party as the app names it, the agent. */
async function placeholderValues(db: Db, actor: AgentActor, parties: ModelParties): Promise<Record<string, string | null>> {
  const [patient, structure, practitioner, agent] = await Promise.all([
    parties.patientId ? patientById(db, parties.patientId) : null,
    parties.structureId ? structureById(db, parties.structureId) : null,
    parties.practitionerId ? practitionerById(db, parties.practitionerId) : null,
    db("agents").where({ id: actor.agentId }).first("first_name", "last_name"),
  ]);
  return {
    patient: patient ? `${patient.firstName} ${patient.lastName}` : null,
    medecin: structure ? structureCard(structure).title : practitioner ? practitionerCard(practitioner).title : null,
    agent: agent ? `${agent.first_name} ${agent.last_name}` : null,
  };
}

/** A model's text with its placeholders filled; one that cannot be filled yet stays as typed. */
export function fillPlaceholders(text: string, values: Record<string, string | null>): string {
  return text.replace(/\{(patient|medecin|agent)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** The message with the text added at its end, on a paragraph of its own. */
export function appendText(body: string, text: string): string {
  if (body.trim() === "") return text;
  return body + (body.endsWith("\n\n") ? "" : body.endsWith("\n") ? "\n" : "\n\n") + text;
}

export const MODEL_NOT_FOUND = "Ce modèle n'existe pas ou plus : choisissez-en un dans la liste « Insérer un modèle ».";
export const MODEL_NOT_CHOSEN = "Choisissez le modèle à insérer dans la liste « Insérer un modèle ».";

/** A model's text, filled for this message: only a model of the agent's ELSM (else a French error, never its text). */
export async function filledModel(db: Db, actor: AgentActor, rawId: unknown, parties: ModelParties): Promise<{ ok: true; text: string } | { ok: false; error: string }> {
  if (rawId === undefined || rawId === "") return { ok: false, error: MODEL_NOT_CHOSEN };
  let model: ReplyModelRow;
  try {
    model = await loadModel(db, actor, rawId);
  } catch (err) {
    if (err instanceof NotFound) return { ok: false, error: MODEL_NOT_FOUND };
    throw err;
  }
  return { ok: true, text: fillPlaceholders(model.body, await placeholderValues(db, actor, parties)) };
}
