import type { Db, Row } from "../../db/connection.js";
import { prepared } from "../../db/dialect.js";
import { formatDateTime } from "../format.js";

export type AccessEntry = { who: string; organisation: string; date: string };

/** "Historique des accès" of a thread: who opened it and when, newest first (from the audit trail). */
export async function accessHistory(db: Db, conversationId: number, limit = 50): Promise<AccessEntry[]> {
  const query = db("audit_events as ev")
    .leftJoin("practitioners as p", function () {
      this.on("p.id", "=", "ev.actor_id").andOnVal("ev.actor_type", "=", "practitioner");
    })
    .leftJoin("agents as a", function () {
      this.on("a.id", "=", "ev.actor_id").andOnVal("ev.actor_type", "=", "agent");
    })
    .leftJoin("elsms as e", "e.id", "a.elsm_id")
    .leftJoin("structures as s", "s.id", "p.structure_id")
    .where({ "ev.object_type": "conversation", "ev.object_id": conversationId, "ev.action": "conversation.opened" })
    .orderBy([
      { column: "ev.at", order: "desc" },
      { column: "ev.id", order: "desc" },
    ])
    .limit(limit)
    .select(
      "ev.at",
      "ev.actor_type",
      "p.first_name as p_first",
      "p.last_name as p_last",
      "s.raison_sociale",
      "a.first_name as a_first",
      "a.last_name as a_last",
      "e.name as elsm_name",
    );
  const rows: Row[] = await prepared(db, query, "access_history");
  return rows.map((r) => ({
    who: r.actor_type === "agent" ? `${r.a_first} ${r.a_last}` : `Dr ${r.p_first} ${r.p_last}`,
    organisation: r.actor_type === "agent" ? r.elsm_name : (r.raison_sociale ?? "Médecin libéral"),
    date: formatDateTime(r.at),
  }));
}
