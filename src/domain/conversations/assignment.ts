import type { Knex } from "knex";
import { z } from "zod";
import type { Db } from "../../db/connection.js";
import type { AgentActor, RequestContext } from "../actor.js";
import { audit } from "../audit/audit.js";
import { parseId } from "../ids.js";
import { ownElsmThread, type ConversationRow } from "./scope.js";

/**
 * Who holds a thread (issue 13 §1): one agent of its échelon, or nobody. « Prendre » gives it to oneself,
 * « Attribuer à … » to a colleague of the same ELSM, « Libérer » to nobody. Only these write
 * conversations.assignee_agent_id: a reply, a note or a close leave it (a colleague's reply does not steal a
 * thread), and the Rédacteur line stays the last agent who wrote (manual). Each change is traced by id.
 *
 * The form says which holder it was shown with (`attendu`): the change is made only if the thread still has that
 * holder, so that two agents taking the same thread at once never take it from each other unknowingly.
 */

export type Colleague = { id: number; name: string };

export type AssignmentView = {
  assignee: Colleague | null;
  /** The thread is the signed-in agent's own. */
  mine: boolean;
  /** The agents of the échelon it can be given to (the holder left out), by name. */
  colleagues: Colleague[];
  /** The holder the forms were shown with: an agent id, or "aucun". */
  expected: string;
  /** Why the last change was refused (the page is shown again with it), or null. */
  error: string | null;
};

const nameOf = (r: { first_name: string; last_name: string }) => `${r.first_name} ${r.last_name}`;

/** The échelon's agents, by last then first name. */
export async function colleaguesOf(db: Knex, actor: AgentActor): Promise<Colleague[]> {
  const rows = await db("agents").where({ elsm_id: actor.elsmId }).orderBy(["last_name", "first_name", "id"]).select("id", "first_name", "last_name");
  return rows.map((r) => ({ id: Number(r.id), name: nameOf(r) }));
}

async function holderOf(db: Knex, conversationId: number): Promise<Colleague | null> {
  const row = await db("conversations as c").join("agents as a", "a.id", "c.assignee_agent_id").where("c.id", conversationId).first("a.id", "a.first_name", "a.last_name");
  return row ? { id: Number(row.id), name: nameOf(row) } : null;
}

/** The thread page's « Attribution » block. */
export async function assignmentView(db: Db, actor: AgentActor, c: ConversationRow, error: string | null = null): Promise<AssignmentView> {
  ownElsmThread(actor, c);
  const [assignee, colleagues] = await Promise.all([holderOf(db, c.id), colleaguesOf(db, actor)]);
  return {
    assignee,
    mine: assignee?.id === actor.agentId,
    colleagues: colleagues.filter((a) => a.id !== assignee?.id),
    expected: assignee ? String(assignee.id) : "aucun",
    error,
  };
}

const assignmentFields = z.object({
  action: z.enum(["prendre", "attribuer", "liberer"]).optional().catch(undefined),
  agent_id: z.unknown().optional(),
  attendu: z.string().optional().catch(undefined),
});

export type AssignmentOutcome =
  | { status: "changed"; assignee: Colleague | null; mine: boolean }
  | { status: "unchanged"; assignee: Colleague | null }
  /** A request that cannot be carried out as posted (no action, no colleague chosen, an agent of another échelon). */
  | { status: "refused"; error: string }
  /** Another agent changed the holder since the page was shown: nothing written. */
  | { status: "conflict"; error: string };

/** Prendre / Attribuer à / Libérer, posted from the thread page. */
export async function changeAssignment(db: Db, ctx: RequestContext<AgentActor>, c: ConversationRow, posted: unknown): Promise<AssignmentOutcome> {
  ownElsmThread(ctx.actor, c);
  const form = assignmentFields.parse(posted ?? {});
  if (!form.action) return { status: "refused", error: "Choisissez Prendre, Attribuer ou Libérer." };
  let target: number | null = null;
  if (form.action === "prendre") target = ctx.actor.agentId;
  if (form.action === "attribuer") {
    const id = parseId(form.agent_id);
    if (id === null) return { status: "refused", error: "Choisissez l'agent à qui attribuer ce fil." };
    // Only an agent of the thread's own échelon: any other id is refused alike, saying nothing of who it names.
    const colleague = await db("agents").where({ id, elsm_id: ctx.actor.elsmId }).first("id");
    if (!colleague) return { status: "refused", error: "Cet agent n'appartient pas à votre échelon : choisissez un agent de la liste." };
    target = id;
  }
  const expected = form.attendu === undefined ? undefined : form.attendu === "aucun" ? null : parseId(form.attendu);
  return db.transaction(async (trx) => {
    const update = trx("conversations").where({ id: c.id, elsm_id: ctx.actor.elsmId });
    if (expected === null) update.whereNull("assignee_agent_id");
    else if (expected !== undefined) update.where("assignee_agent_id", expected);
    const current = await holderOf(trx, c.id);
    if (expected !== undefined && (current?.id ?? null) !== expected) {
      return {
        status: "conflict" as const,
        error: current
          ? `Entre-temps, ce fil a été attribué à ${current.name} : rien n'a été changé. Vérifiez avant de le réattribuer.`
          : "Entre-temps, ce fil a été libéré : rien n'a été changé. Vérifiez avant de le réattribuer.",
      };
    }
    if ((current?.id ?? null) === target) return { status: "unchanged" as const, assignee: current };
    const changed = await update.update({ assignee_agent_id: target });
    if (changed !== 1) return { status: "conflict" as const, error: "Entre-temps, l'attribution de ce fil a changé : rien n'a été changé. Vérifiez avant de le réattribuer." };
    if (target === null) await audit(trx, ctx, "conversation.released", { type: "conversation", id: c.id });
    else await audit(trx, ctx, "conversation.assigned", { type: "conversation", id: c.id }, { assigneeAgentId: target });
    const assignee = target === null ? null : await holderOf(trx, c.id);
    return { status: "changed" as const, assignee, mine: target === ctx.actor.agentId };
  });
}

/** The confirmation shown after a change (a status message, read out after the page comes back). */
export function assignmentNotice(outcome: Extract<AssignmentOutcome, { status: "changed" | "unchanged" }>): string {
  if (!outcome.assignee) return outcome.status === "changed" ? "Le fil est libéré : il n'est plus attribué." : "Ce fil n'était attribué à personne.";
  if (outcome.status === "unchanged") return `Ce fil était déjà attribué à ${outcome.assignee.name}.`;
  return outcome.mine ? "Vous avez pris ce fil : il est dans « Mes échanges »." : `Le fil est attribué à ${outcome.assignee.name}.`;
}
