import { purgeAudit } from "../domain/audit/retention.js";
import { loadConfig } from "../config.js";
import { connect } from "../db/connection.js";

/** `npm run audit:purge`: removes audit rows older than AUDIT_RETENTION_DAYS (default 183, about 6 months). */
const config = loadConfig();
const db = connect(config);
const deleted = await purgeAudit(db, config.auditRetentionDays);
await db.destroy();
console.log(JSON.stringify({ event: "audit.purged", deleted, retentionDays: config.auditRetentionDays }));
