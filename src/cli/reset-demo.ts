import fs from "node:fs";
import { loadConfig } from "../config.js";
import { connect } from "../db/connection.js";
import { prepareDatabase } from "../runtime.js";

/** `npm run demo:reset`: drops every table, migrates and seeds the demo data again (unblocks the CPS cards). */
const config = loadConfig();
const db = connect(config);
await db.migrate.rollback(undefined, true);
await prepareDatabase(db);
await db.destroy();
fs.rmSync(config.storageDir, { recursive: true, force: true });
console.log("Données de démonstration réinitialisées.");
