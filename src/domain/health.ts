import type { Db } from "../db/connection.js";
import type { FileStorage } from "./attachments/storage.js";

/** What /healthz reports: each part "ok" or "failing", and the faults (for the log, by errorFacts only). */
export type Health = {
  ok: boolean;
  database: "ok" | "failing";
  storage: "ok" | "failing";
  faults: { database?: unknown; storage?: unknown };
};

const PROBE_KEY = "healthz:probe";
/** A part that has not answered by then is failing (a hung disk or database must not hang the poll). */
const PROBE_TIMEOUT_MS = 2_000;

class ProbeTimeout extends Error {
  readonly code = "ETIMEDOUT";
}

function within<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout("probe timed out")), PROBE_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A committed write, since a write rolled back proves nothing on SQLite (it never reaches the file): one row of
 * `rate_limits`, upserted with a new value each time (a full SQLite disk or a read-only PostgreSQL refuses it).
 */
async function probeDatabase(db: Db): Promise<void> {
  const now = Date.now();
  await db("rate_limits").insert({ key: PROBE_KEY, hits: 0, reset_at: now }).onConflict("key").merge({ reset_at: now });
}

/** Whether the service can store anything now: the database takes a write, both storage folders take a file. */
export async function checkHealth(deps: { db: Db; storage: FileStorage }): Promise<Health> {
  const [database, storage] = await Promise.allSettled([within(probeDatabase(deps.db)), within(deps.storage.probe())]);
  const faults: Health["faults"] = {};
  if (database.status === "rejected") faults.database = database.reason;
  if (storage.status === "rejected") faults.storage = storage.reason;
  return {
    ok: database.status === "fulfilled" && storage.status === "fulfilled",
    database: database.status === "fulfilled" ? "ok" : "failing",
    storage: storage.status === "fulfilled" ? "ok" : "failing",
    faults,
  };
}
