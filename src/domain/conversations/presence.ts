import type { Knex } from "knex";
import type { AgentActor } from "../actor.js";
import { formatTime } from "../format.js";

/**
 * « Marc DUBOIS rédige une réponse depuis 14:02 » (issue 13 §4). An agent is writing a thread's reply while they have
 * its reply form open or changed its shared draft within the last PRESENCE_WINDOW_MS: the form opened, a draft saved
 * or autosaved, each marks it (markWriting); their send, their discard of the draft, or the thread's close ends it.
 * Saying so is the warning; the draft's version (compose.ts) is the guarantee: a post on a draft changed since it was
 * shown is a conflict, both texts kept, so two agents never overwrite each other.
 */
export const PRESENCE_WINDOW_MS = 5 * 60_000;

export type Writer = { name: string; since: string };

/** The agent has the reply form open, or saved its draft, now. Kept since the first mark of an unbroken stretch. */
export async function markWriting(db: Knex, actor: AgentActor, conversationId: number, now = new Date()): Promise<void> {
  const at = now.toISOString();
  const stale = new Date(now.getTime() - PRESENCE_WINDOW_MS).toISOString();
  await db("reply_presence")
    .insert({ conversation_id: conversationId, agent_id: actor.agentId, started_at: at, seen_at: at })
    .onConflict(["conversation_id", "agent_id"])
    .merge({
      // A mark after a pause longer than the window starts a new stretch.
      started_at: db.raw("CASE WHEN ?? >= ? THEN ?? ELSE ? END", ["reply_presence.seen_at", stale, "reply_presence.started_at", at]),
      seen_at: at,
    });
}

/** The agent is no longer writing this reply (sent it, discarded the draft). */
export async function stopWriting(db: Knex, actor: AgentActor, conversationId: number): Promise<void> {
  await db("reply_presence").where({ conversation_id: conversationId, agent_id: actor.agentId }).delete();
}

/** Nobody writes a reply in a closed thread. */
export async function stopAllWriting(db: Knex, conversationId: number): Promise<void> {
  await db("reply_presence").where({ conversation_id: conversationId }).delete();
}

/** The colleagues (not the agent themself) writing this thread's reply now, who started first first. */
export async function colleaguesWriting(db: Knex, actor: AgentActor, conversationId: number, now = new Date()): Promise<Writer[]> {
  const since = new Date(now.getTime() - PRESENCE_WINDOW_MS).toISOString();
  const rows = await db("reply_presence as w")
    .join("agents as a", "a.id", "w.agent_id")
    .where("w.conversation_id", conversationId)
    .where("a.elsm_id", actor.elsmId)
    .whereNot("w.agent_id", actor.agentId)
    .where("w.seen_at", ">=", since)
    .orderBy([{ column: "w.started_at" }, { column: "w.agent_id" }])
    .select("a.first_name", "a.last_name", "w.started_at");
  return rows.map((r) => ({ name: `${r.first_name} ${r.last_name}`, since: formatTime(new Date(r.started_at)) }));
}

/** The sentence the thread page and the reply form show, or null when no colleague is writing. */
export function writingNotice(writers: Writer[]): string | null {
  if (!writers.length) return null;
  const each = writers.map((w) => `${w.name} rédige une réponse depuis ${w.since}`).join(" ; ");
  return `${each}. Si vous écrivez aussi, aucun texte ne sera écrasé : un brouillon modifié entre-temps vous sera montré à côté du vôtre.`;
}
