import fs from "node:fs";
import { loadConfig } from "../config.js";
import { connect } from "../db/connection.js";
import { recreatePostgresSchema } from "../db/dialect.js";
import { sweepOrphans } from "../domain/attachments/orphans.js";
import { prepareDatabase, storageOf } from "../runtime.js";

/**
 * `npm run demo:reset`: recreates the database (SQLite: its file deleted; PostgreSQL: the schema in
 * use dropped and created again), migrates and seeds the demo data again (unblocks the CPS cards),
 * and empties the attachment storage (the local folder; with a bucket, every stored object too). Works on any state of the database, every time.
 */
const config = loadConfig();
if (config.databaseUrl) {
  const admin = connect(config);
  await recreatePostgresSchema(admin, config.databaseSchema);
  await admin.destroy();
} else {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) fs.rmSync(config.sqliteFile + suffix, { force: true });
}
const db = connect(config);
await prepareDatabase(db);
// The new database points to no stored file: every object goes, whatever its age (or the bucket's clock).
if (config.storageS3) await sweepOrphans(db, storageOf(config), Number.NEGATIVE_INFINITY);
await db.destroy();
fs.rmSync(config.storageDir, { recursive: true, force: true });
console.log("Données de démonstration réinitialisées.");
