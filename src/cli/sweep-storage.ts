import { sweepOrphans } from "../domain/attachments/orphans.js";
import { loadConfig } from "../config.js";
import { connect } from "../db/connection.js";
import { storageOf } from "../runtime.js";

/**
 * `npm run storage:sweep`: removes stored files no attachment points to, older than 24 hours (to schedule daily),
 * in the local folder or the bucket the settings choose.
 */
const config = loadConfig();
const db = connect(config);
const result = await sweepOrphans(db, storageOf(config));
await db.destroy();
console.log(JSON.stringify({ event: "storage.swept", ...result }));
