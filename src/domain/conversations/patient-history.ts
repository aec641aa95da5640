import type { Db } from "../../db/connection.js";
import type { AgentActor } from "../actor.js";
import { formatDateTime } from "../format.js";
import { TRAY_LABELS } from "./states.js";

/**
 * The patient's other threads with this échelon (issue 13 §5), newest first, on the back office's thread page and
 * its new question once the NIR OD named a patient. Only this ELSM's threads; those the doctor deleted stay listed
 * (they are still the échelon's). One range of the index conversations_patient_elsm (patient_id, elsm_id,
 * last_message_at, id), read backwards: never a count over the patient's threads — past HISTORY_SHOWN, at most
 * HISTORY_COUNTED more rows say how many more there are.
 *
 * Tracing: the page showing the block already traces the patient (the thread's opening, conversation.opened; the
 * question's look-up, patient.displayed), so the block adds no audit row of its own.
 */
export const HISTORY_SHOWN = 10;
export const HISTORY_COUNTED = 100;

export type PatientHistoryItem = { id: number; subject: string; state: string; date: string };

export type PatientHistoryView = {
  items: PatientHistoryItem[];
  /** How many older threads are not listed (up to HISTORY_COUNTED); `moreThanCounted`: even more than that. */
  more: number;
  moreThanCounted: boolean;
};

export async function patientHistory(db: Db, actor: AgentActor, patientId: number | null, exceptConversationId: number | null): Promise<PatientHistoryView | null> {
  if (patientId === null) return null;
  const query = db("conversations as c")
    .where({ "c.patient_id": patientId, "c.elsm_id": actor.elsmId })
    .orderBy([
      { column: "c.last_message_at", order: "desc" },
      { column: "c.id", order: "desc" },
    ])
    .limit(HISTORY_SHOWN + HISTORY_COUNTED + 1)
    .select("c.id", "c.subject", "c.state", "c.last_message_at");
  if (exceptConversationId !== null) query.whereNot("c.id", exceptConversationId);
  const rows = await query;
  const older = rows.length - HISTORY_SHOWN;
  return {
    items: rows
      .slice(0, HISTORY_SHOWN)
      .map((r) => ({ id: r.id, subject: r.subject, state: TRAY_LABELS[r.state as keyof typeof TRAY_LABELS], date: formatDateTime(r.last_message_at) })),
    more: Math.max(0, Math.min(older, HISTORY_COUNTED)),
    moreThanCounted: older > HISTORY_COUNTED,
  };
}
