import { createApp } from "./app.js";
import { clamavScanner } from "./domain/attachments/antivirus.js";
import { s3Storage } from "./domain/attachments/s3-storage.js";
import { type FileStorage, localStorage } from "./domain/attachments/storage.js";
import type { DestinationStream } from "pino";
import type { Config } from "./config.js";
import { connect, type Db } from "./db/connection.js";
import { createLogger } from "./log.js";
import { createNotifier, createTransport } from "./domain/notifications/mailer.js";
import { seedDemo } from "../db/seeds/demo.js";

/** The attachment storage the settings choose: the bucket (STORAGE_S3_BUCKET) or the local folder (STORAGE_DIR). */
export function storageOf(config: Pick<Config, "storageDir" | "storageS3">): FileStorage {
  return config.storageS3 ? s3Storage(config.storageS3, config.storageDir) : localStorage(config.storageDir);
}

/** Everything a running instance needs, built from the configuration: used by the server, the CLI and the tests. */
export function buildRuntime(config: Config, options: { db?: Db; logDestination?: DestinationStream } = {}) {
  const logger = createLogger(config.logLevel, options.logDestination);
  const db = options.db ?? connect(config);
  const storage = storageOf(config);
  const notifier = createNotifier(db, createTransport(config.smtpUrl, config.outboxDir), config.mailFrom, config.publicUrl, logger);
  const scan = config.clamavCommand ? clamavScanner(config.clamavCommand, config.clamavDatabase) : undefined;
  const app = createApp({ config, db, storage, notifier, logger, scan });
  return { config, logger, db, storage, notifier, app };
}

/** Brings the schema up to date and seeds the demo data on an empty database. */
export async function prepareDatabase(db: Db, seed = true): Promise<void> {
  await db.migrate.latest();
  if (seed) await seedDemo(db);
}
