import type { Db } from "../../db/connection.js";
import { isPostgres } from "../../db/dialect.js";

/**
 * Deletes audit rows older than the retention period (default 6 months). The only path allowed
 * through the append-only guard: it opens it inside its own transaction, for this delete only.
 */
export async function purgeAudit(db: Db, retentionDays: number, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
  return db.transaction(async (trx) => {
    if (isPostgres(trx)) await trx.raw("SET LOCAL app.audit_purge = 'on'");
    else await trx("audit_purge_guard").update({ active: 1 });
    const deleted = await trx("audit_events").where("at", "<", cutoff).del();
    if (!isPostgres(trx)) await trx("audit_purge_guard").update({ active: 0 });
    return deleted;
  });
}
