import type { Logger } from "pino";
import type { Config } from "./config.js";
import type { Db } from "./db/connection.js";
import type { Scanner } from "./domain/attachments/antivirus.js";
import type { FileStorage } from "./domain/attachments/storage.js";
import type { Notifier } from "./domain/notifications/mailer.js";

/**
 * What a running instance is made of, built once by runtime.ts. A leaf: it imports types only and
 * nothing imports it back, so the app and its route tables share it without a circle.
 */
export type AppDeps = { config: Config; db: Db; storage: FileStorage; notifier: Notifier; logger: Logger; scan?: Scanner };
