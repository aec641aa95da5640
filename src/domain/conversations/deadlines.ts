import type { Knex } from "knex";
import { z } from "zod";
import type { Db } from "../../db/connection.js";
import type { AgentActor, RequestContext } from "../actor.js";
import { audit } from "../audit/audit.js";
import { elsmMailbox, psMailbox, queueNotification } from "../notifications/mailer.js";
import { formatDayAtTime } from "../format.js";
import { addParisDays, parisDaysBetween } from "../paris-time.js";
import { lockedSlot, moveTray } from "./counters.js";
import type { ConversationState, Side } from "./states.js";

/**
 * Answer-due dates (issue 14 §1–2), in one place. A thread waiting for the other side has a due date:
 * - for the échelon, from the doctor's message that put it in A TRAITER (a new question, a reply, a reopening):
 *   the échelon's `elsm_answer_days` later (15 by default) — further doctor messages while it stays in A TRAITER keep it;
 * - for the doctor, from an échelon question — a message of the échelon in a thread the échelon started (its own
 *   question or a follow-up of it): `ps_answer_days` later (21 by default). The échelon's answer to a doctor's question
 *   waits for nobody: no due date.
 * Closing clears it. Once past, the deadline pass (`deadlinePass`, in the app every few minutes and `npm run
 * reminders`) flags the thread overdue — kept in the tray counts — and queues one reminder mail, with no content, for
 * the party that owes the answer; a new due date clears the flag, so each due date is reminded once.
 */
export const ANSWER_DAYS = { min: 1, max: 365, elsm: 15, ps: 21 } as const;
// Days are Paris calendar days (paris-time.ts): a due date keeps the message's Paris time across a change of hour.
const DAY_MS = 86_400_000;
/** A row says "Réponse attendue avant le …" from this many days before its due date. */
export const SOON_DAYS = 3;

export type DueFields = { due_at: string | null; due_side: Side | null; overdue: boolean };
const NO_DUE: DueFields = { due_at: null, due_side: null, overdue: false };

/**
 * The due fields after a message of `side` (null: unchanged). `before` is the thread as it was (null for a new thread).
 */
export async function dueAfterMessage(
  trx: Knex,
  thread: { elsmId: number; startedBy: Side; before: { state: ConversationState; due_side: Side | null } | null },
  side: Side,
  now: string,
): Promise<DueFields | null> {
  const days = await answerDaysOf(trx, thread.elsmId);
  if (side === "ps") {
    if (thread.before?.state === "a_traiter" && thread.before.due_side === "elsm") return null;
    return { due_at: addParisDays(now, days.elsm), due_side: "elsm", overdue: false };
  }
  if (thread.startedBy === "elsm") return { due_at: addParisDays(now, days.ps), due_side: "ps", overdue: false };
  return NO_DUE;
}

/** A closed thread waits for nobody. */
export function dueOnClose(): DueFields {
  return NO_DUE;
}

// ---- the échelon's delays ------------------------------------------------------------------------------------

export type AnswerDays = { elsm: number; ps: number };

export async function answerDaysOf(db: Knex, elsmId: number): Promise<AnswerDays> {
  const row = await db("elsms").where({ id: elsmId }).first("elsm_answer_days", "ps_answer_days");
  return { elsm: Number(row?.elsm_answer_days ?? ANSWER_DAYS.elsm), ps: Number(row?.ps_answer_days ?? ANSWER_DAYS.ps) };
}

const DAYS_ERROR = `Saisissez un nombre entier de jours, de ${ANSWER_DAYS.min} à ${ANSWER_DAYS.max}.`;
const daysField = z
  .string()
  .catch("")
  .transform((s) => s.trim().slice(0, 20));
export const answerDaysFields = z.object({ elsm_days: daysField, ps_days: daysField });
export type AnswerDaysValues = z.infer<typeof answerDaysFields>;

function days(typed: string): number | null {
  if (!/^[0-9]{1,4}$/.test(typed)) return null;
  const n = Number(typed);
  return n >= ANSWER_DAYS.min && n <= ANSWER_DAYS.max ? n : null;
}

export type SaveAnswerDaysOutcome = { ok: true } | { ok: false; values: AnswerDaysValues; errors: Partial<Record<keyof AnswerDaysValues, string>> };

/** Sets the échelon's delays (each 1–365 days): due dates set from now on use them; those already set stay. Audited. */
export async function saveAnswerDays(db: Db, ctx: RequestContext<AgentActor>, body: unknown): Promise<SaveAnswerDaysOutcome> {
  const values = answerDaysFields.parse(body ?? {});
  const elsm = days(values.elsm_days);
  const ps = days(values.ps_days);
  const errors: Partial<Record<keyof AnswerDaysValues, string>> = {};
  if (elsm === null) errors.elsm_days = DAYS_ERROR;
  if (ps === null) errors.ps_days = DAYS_ERROR;
  if (elsm === null || ps === null) return { ok: false, values, errors };
  await db.transaction(async (trx) => {
    await trx("elsms").where({ id: ctx.actor.elsmId }).update({ elsm_answer_days: elsm, ps_answer_days: ps });
    await audit(trx, ctx, "elsm.answer_days_changed", { type: "elsm", id: ctx.actor.elsmId });
  });
  return { ok: true };
}

// ---- how a due date is shown ---------------------------------------------------------------------------------

export type DueView = {
  /** "Réponse attendue avant le 17/12/2026 à 14:02" */
  expected: string;
  /** Paris calendar days late (1 from the first minute, on the due day and the day after), null when not past. */
  lateDays: number | null;
  /** "En retard de 3 jours", or the expected line when due within SOON_DAYS, else null: what a list row shows. */
  rowText: string | null;
  owedBy: Side;
};

function lateText(n: number): string {
  return `En retard de ${n} jour${n > 1 ? "s" : ""}`;
}

export function dueView(row: { due_at: string | null; due_side: string | null }, now: Date): DueView | null {
  if (!row.due_at || (row.due_side !== "elsm" && row.due_side !== "ps")) return null;
  const due = new Date(row.due_at);
  const left = due.getTime() - now.getTime();
  const expected = `Réponse attendue avant le ${formatDayAtTime(row.due_at)}`;
  const lateDays = left < 0 ? Math.max(1, parisDaysBetween(due, now)) : null;
  const rowText = lateDays !== null ? lateText(lateDays) : left <= SOON_DAYS * DAY_MS ? expected : null;
  return { expected, lateDays, rowText, owedBy: row.due_side };
}

/** Who is to answer, as said to `viewer`: the doctor reads "à vous de répondre"; the échelon's agents, "à l'échelon de répondre" (the échelon, not each of them). */
export function owedByText(owedBy: Side, viewer: Side): string {
  if (owedBy === "ps") return viewer === "ps" ? "à vous de répondre" : "au professionnel de santé de répondre";
  return "à l'échelon de répondre";
}

// ---- the deadline pass ---------------------------------------------------------------------------------------

const PASS_BATCH = 200;

/**
 * Flags the threads whose due date has passed and queues each one's reminder, once: each thread is claimed by a
 * conditional update (`overdue` false → true for this very due date) under its row lock, so that several app
 * processes running the pass together remind it once; the mail goes through the notifications outbox (claimed,
 * retried on SMTP failure). A doctor's side that deleted the thread, or a party without a mailbox, gets no mail.
 */
export async function deadlinePass(db: Db, now: Date): Promise<{ flagged: number; reminders: number }> {
  const at = now.toISOString();
  let flagged = 0;
  let reminders = 0;
  for (;;) {
    const due = await db("conversations").where("overdue", false).whereNotNull("due_at").where("due_at", "<=", at).orderBy("due_at").limit(PASS_BATCH).select("id");
    let claimedHere = 0;
    for (const { id } of due) {
      const outcome = await db.transaction(async (trx) => {
        const slot = await lockedSlot(trx, id);
        const c = await trx("conversations").where({ id }).first("elsm_id", "due_at", "due_side", "ps_practitioner_id", "ps_structure_id", "ps_deleted_at");
        if (!c?.due_at || c.due_at > at) return null;
        const claimed = await trx("conversations").where({ id, overdue: false, due_at: c.due_at }).update({ overdue: true });
        if (claimed !== 1) return null;
        await moveTray(trx, c.elsm_id, slot, { ...slot, overdue: true });
        const target = c.due_side === "elsm" ? await elsmMailbox(trx, c.elsm_id) : c.ps_deleted_at ? null : await psMailbox(trx, c.ps_practitioner_id, c.ps_structure_id);
        if (target) await queueNotification(trx, id, target, "reminder");
        return { reminded: target !== null };
      });
      if (!outcome) continue;
      claimedHere += 1;
      flagged += 1;
      if (outcome.reminded) reminders += 1;
    }
    // Another process took this batch (or nothing is due): stop; else read the next one.
    if (due.length < PASS_BATCH || claimedHere === 0) break;
  }
  return { flagged, reminders };
}
