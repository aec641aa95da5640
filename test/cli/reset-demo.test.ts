import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import knexFactory from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Db } from "../../src/db/connection.js";
import { drGene } from "../helpers/app.js";
import { ROOT } from "../helpers/process.js";
import { storedFilePath, testStorageSettings } from "../helpers/s3.js";
import { loadConfig } from "../../src/config.js";
import { storageOf } from "../../src/runtime.js";

/** `npm run demo:reset` on a database that already holds the demo, modified, twice in a row (SQLite or, with DATABASE_URL, PostgreSQL). */
describe("npm run demo:reset", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ems-reset-"));
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const schema = databaseUrl ? `test_reset_${crypto.randomBytes(6).toString("hex")}` : undefined;
  const sqliteFile = path.join(dir, "demo.sqlite3");
  const env: Record<string, string | undefined> = {
    ...process.env,
    NODE_ENV: "test",
    DATA_DIR: dir,
    SQLITE_FILE: sqliteFile,
    DATABASE_URL: databaseUrl ?? "",
    DATABASE_SCHEMA: schema ?? "",
  };

  function reset() {
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/reset-demo.ts"], { cwd: ROOT, env, encoding: "utf8", timeout: 60_000 });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Données de démonstration réinitialisées.");
  }

  async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const db = connect({ databaseUrl, databaseSchema: schema, sqliteFile });
    try {
      return await fn(db);
    } finally {
      await db.destroy();
    }
  }

  beforeAll(async () => {
    Object.assign(env, await testStorageSettings());
    if (databaseUrl && schema) {
      const admin = knexFactory({ client: "pg", connection: databaseUrl });
      await admin.raw(`CREATE SCHEMA ${schema}`);
      await admin.destroy();
    }
  });

  afterAll(async () => {
    if (databaseUrl && schema) {
      const admin = knexFactory({ client: "pg", connection: databaseUrl });
      await admin.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.destroy();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("brings the demo back every time: a blocked card unblocked, a new thread gone, an attachment file gone", { timeout: 180_000 }, async () => {
    reset(); // on an empty database
    const demoThreads = await withDb(async (db) => Number((await db("conversations").count({ n: "*" }))[0].n));
    expect(demoThreads).toBeGreaterThan(0);

    for (let round = 0; round < 2; round++) {
      await withDb(async (db) => {
        await db("practitioners").where({ nam: drGene.nam }).update({ failed_pin_attempts: 3, card_blocked_at: new Date().toISOString() });
        const { id: _id, ...thread } = await db("conversations").orderBy("id").first();
        await db("conversations").insert({ ...thread, subject: "FIL AJOUTÉ APRÈS LA DÉMO" });
      });
      fs.mkdirSync(path.join(dir, "attachments"), { recursive: true });
      fs.writeFileSync(path.join(dir, "attachments", "stray"), "x");
      // A file stored by the demo before (in the folder or, with TEST_STORAGE=s3, the bucket).
      const config = loadConfig(env);
      const tmp = path.join(dir, "upload.pdf");
      fs.writeFileSync(tmp, "%PDF-1.4 stored");
      const storedKey = await storageOf(config).put(tmp);
      expect(fs.existsSync(storedFilePath(config, storedKey))).toBe(true);

      reset(); // on a database holding the (modified) demo

      await withDb(async (db) => {
        const card = await db("practitioners").where({ nam: drGene.nam }).first();
        expect(card.card_blocked_at).toBeNull();
        expect(card.failed_pin_attempts).toBe(0);
        expect(await db("conversations").where({ subject: "FIL AJOUTÉ APRÈS LA DÉMO" }).first()).toBeUndefined();
        expect(Number((await db("conversations").count({ n: "*" }))[0].n)).toBe(demoThreads);
      });
      expect(fs.existsSync(path.join(dir, "attachments", "stray"))).toBe(false);
      expect(fs.existsSync(storedFilePath(config, storedKey))).toBe(false);
    }
  });
});
