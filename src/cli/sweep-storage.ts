import { sweepOrphans } from "../domain/attachments/orphans.js";
import { localStorage } from "../domain/attachments/storage.js";
import { loadConfig } from "../config.js";
import { connect } from "../db/connection.js";

/** `npm run storage:sweep`: removes stored files no attachment points to, older than 24 hours (to schedule daily). */
const config = loadConfig();
const db = connect(config);
const result = await sweepOrphans(db, localStorage(config.storageDir));
await db.destroy();
console.log(JSON.stringify({ event: "storage.swept", ...result }));
