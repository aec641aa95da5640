import { z } from "zod";
import type { Knex } from "knex";
import type { Db } from "../../db/connection.js";
import { insertedId } from "../../db/dialect.js";
import type { Actor, AgentActor, RequestContext } from "../actor.js";
import { audit } from "../audit/audit.js";
import { NotFound } from "../errors.js";
import { parseId } from "../ids.js";

/**
 * The échelon's closure reasons (issue 14 §3): a short list per ELSM, managed by its agents, one of which a close
 * names. A thread keeps the label as it was at its close: editing or deleting a reason later rewrites no history.
 * Another ELSM's reason (or any reason for a doctor) does not exist: NotFound.
 */
export const REASON_LABEL_MAX = 120;
/** The « Précision (facultatif) » of a close. */
export const CLOSE_TEXT_MAX = 500;

export type ClosureReasonRow = { id: number; elsm_id: number; label: string; position: number; created_at: string; updated_at: string; updated_by_agent_id: number | null };
export type ReasonValues = { label: string };
export type ReasonErrors = Partial<Record<keyof ReasonValues, string>>;
export type ReasonOption = { id: number; label: string };

const text = z
  .string()
  .catch("")
  .transform((s) => s.replace(/\r\n?/g, "\n"));

const reasonFields = z.object({
  label: text
    .transform((s) => s.trim())
    .pipe(
      z
        .string()
        .min(1, "Saisissez le libellé du motif : il est proposé à la clôture d'une conversation.")
        .max(REASON_LABEL_MAX, `Le libellé ne peut pas dépasser ${REASON_LABEL_MAX} caractères.`),
    ),
});

/** The ELSM's reasons (the actor's scope): none for a doctor. */
export function reasonsOf(db: Knex, actor: Actor) {
  const q = db("closure_reasons");
  return actor.kind === "agent" ? q.where({ elsm_id: actor.elsmId }) : q.whereRaw("1 = 0");
}

const inOrder = [{ column: "position" }, { column: "id" }];

export async function listReasons(db: Db, actor: Actor): Promise<ClosureReasonRow[]> {
  return (await reasonsOf(db, actor).orderBy(inOrder)) as ClosureReasonRow[];
}

/** The choices of « Motif de clôture ». */
export async function reasonOptions(db: Db, actor: AgentActor): Promise<ReasonOption[]> {
  return (await reasonsOf(db, actor).orderBy(inOrder).select("id", "label")).map((r) => ({ id: Number(r.id), label: r.label }));
}

export async function loadReason(db: Knex, actor: Actor, rawId: unknown): Promise<ClosureReasonRow> {
  const id = parseId(rawId);
  const row = id === null ? undefined : ((await reasonsOf(db, actor).where({ id }).first()) as ClosureReasonRow | undefined);
  if (!row) throw new NotFound();
  return row;
}

export type ReasonOutcome = { ok: true; id: number } | { ok: false; errors: ReasonErrors; values: ReasonValues };

/** Creates (reason null: at the end of the list) or renames a reason of the agent's ELSM; audited by id. */
export async function saveReason(db: Db, ctx: RequestContext<AgentActor>, reason: ClosureReasonRow | null, raw: Record<string, unknown> | undefined): Promise<ReasonOutcome> {
  const values = { label: typeof raw?.label === "string" ? raw.label : "" };
  const parsed = reasonFields.safeParse(values);
  if (!parsed.success) {
    const errors: ReasonErrors = {};
    for (const issue of parsed.error.issues) errors[issue.path[0] as keyof ReasonValues] ??= issue.message;
    return { ok: false, errors, values };
  }
  const now = new Date().toISOString();
  const fields = { label: parsed.data.label, updated_at: now, updated_by_agent_id: ctx.actor.agentId };
  return db.transaction(async (trx) => {
    if (reason) {
      await trx("closure_reasons").where({ id: reason.id, elsm_id: ctx.actor.elsmId }).update(fields);
      await audit(trx, ctx, "closure_reason.updated", { type: "closure_reason", id: reason.id });
      return { ok: true as const, id: reason.id };
    }
    const last = await trx("closure_reasons").where({ elsm_id: ctx.actor.elsmId }).max<{ n: number | null }>({ n: "position" }).first();
    const [row] = await trx("closure_reasons")
      .insert({ ...fields, elsm_id: ctx.actor.elsmId, position: Number(last?.n ?? 0) + 1, created_at: now })
      .returning("id");
    const id = insertedId(row);
    await audit(trx, ctx, "closure_reason.created", { type: "closure_reason", id });
    return { ok: true as const, id };
  });
}

export async function deleteReason(db: Db, ctx: RequestContext<AgentActor>, reason: ClosureReasonRow): Promise<void> {
  await db.transaction(async (trx) => {
    await trx("closure_reasons").where({ id: reason.id, elsm_id: ctx.actor.elsmId }).del();
    await audit(trx, ctx, "closure_reason.deleted", { type: "closure_reason", id: reason.id });
  });
}

// ---- the close form ------------------------------------------------------------------------------

/** What the close form was sent with, as typed (given back with the errors). */
export type CloseValues = { reasonId: string; text: string };
export type CloseErrors = Partial<Record<"reason" | "text", string>>;
export type CloseForm = { values: CloseValues; errors: CloseErrors };
export const EMPTY_CLOSE_FORM: CloseForm = { values: { reasonId: "", text: "" }, errors: {} };

export const REASON_NOT_CHOSEN = "Choisissez le motif de clôture dans la liste.";
export const REASON_NOT_FOUND = "Ce motif de clôture n'existe pas ou plus : choisissez-en un dans la liste.";

const closeFields = z.object({
  reasonId: z.string().refine((s) => s !== "", REASON_NOT_CHOSEN),
  text: z.string().max(CLOSE_TEXT_MAX, `La précision ne peut pas dépasser ${CLOSE_TEXT_MAX} caractères : raccourcissez-la.`),
});

/** The close form read (zod): a reason chosen, a précision within its limit; the reason itself is checked in the close's transaction. */
export function readCloseForm(
  raw: Record<string, unknown> | undefined,
): { ok: true; reasonId: number | null; text: string | null; form: CloseForm } | { ok: false; form: CloseForm } {
  const values = {
    reasonId: typeof raw?.reason_id === "string" ? raw.reason_id.trim() : "",
    text: typeof raw?.reason_text === "string" ? raw.reason_text.replace(/\r\n?/g, "\n") : "",
  };
  const parsed = closeFields.safeParse(values);
  if (!parsed.success) {
    const errors: CloseErrors = {};
    for (const issue of parsed.error.issues) errors[issue.path[0] === "reasonId" ? "reason" : "text"] ??= issue.message;
    return { ok: false, form: { values, errors } };
  }
  const trimmed = values.text.trim();
  return { ok: true, reasonId: parseId(values.reasonId), text: trimmed === "" ? null : trimmed, form: { values, errors: {} } };
}

/** The closure line of a closed thread: « — motif : … » and « — précision : … » when given. */
export function closureDetails(c: { state: string; closed_reason_label?: string | null; closed_reason_text?: string | null }): string {
  if (c.state !== "clos") return "";
  return `${c.closed_reason_label ? ` — motif : ${c.closed_reason_label}` : ""}${c.closed_reason_text ? ` — précision : ${c.closed_reason_text}` : ""}`;
}
