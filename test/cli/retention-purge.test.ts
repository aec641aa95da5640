import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { annaAin, bunyel, closeReasonId, drGene, fixture, signInAgent, signInPs, startTestApp, type TestApp } from "../helpers/app.js";
import { sendPsQuestion } from "../helpers/ps.js";
import { runCli } from "../helpers/cli.js";
import { refusedStart } from "../helpers/process.js";
import { isStored } from "../domain/helpers.js";

/** `npm run retention:purge` (issue 17 §1): --dry-run prints counts and writes nothing; the run purges, files included, once. */
describe("npm run retention:purge", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const run = (...args: string[]) => {
    const out = runCli(app, "retention-purge.ts", ...args);
    expect(out.status, out.stderr).toBe(0);
    return out.result!;
  };

  it("--dry-run counts the threads due without touching them; the run purges them and their files, and finds nothing more", { timeout: 90_000 }, async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const id = await sendPsQuestion(gene, bunyel, "Purge en ligne de commande", "Bonjour.", [{ path: fixture("valid", "compte-rendu.pdf") }]);
    const closed = await anna.agent
      .post(`/bo/conversations/${id}/close`)
      .type("form")
      .send({ _csrf: anna.csrf, reason_id: await closeReasonId(app) });
    expect(closed.status).toBe(303);
    // Its notice sent a month ago, its date passed (the demo's other threads have no notice yet).
    const monthAgo = new Date(Date.now() - 31 * 86_400_000).toISOString();
    await app
      .db("conversations")
      .where({ id })
      .update({ purge_notice_at: monthAgo, purge_at: new Date(Date.now() - 60_000).toISOString() });
    const key = (
      await app
        .db("attachments")
        .whereIn("message_id", app.db("messages").where({ conversation_id: id }).select("id"))
        .first("storage_key")
    ).storage_key as string;

    expect(run("--dry-run")).toEqual({ event: "retention.dry_run", threads: 1, messages: 1, attachments: 1, drafts: 0, notes: 0, files: 0 });
    expect(await app.db("conversations").where({ id }).first("id")).toBeDefined();

    const result = run();
    expect(result).toMatchObject({ event: "retention.purged", threads: 1, messages: 1, attachments: 1, files: 1 });
    expect(await app.db("conversations").where({ id }).first("id")).toBeUndefined();
    expect(await app.db("attachments").where({ storage_key: key }).first("id")).toBeUndefined();
    const stored = await isStored(app.storage, key);
    expect(stored).toBe(false);
    expect(run()).toMatchObject({ threads: 0, files: 0 });
  });

  it("a bad RETENTION_MONTHS or RETENTION_NOTICE_DAYS is refused in one French line; the defaults are 24 months and 30 days", () => {
    expect(loadConfig({})).toMatchObject({ retentionMonths: 24, retentionNoticeDays: 30 });
    expect(() => loadConfig({ RETENTION_MONTHS: "deux ans" })).toThrow("RETENTION_MONTHS doit être un nombre entier de mois, de 1 à 1200");
    expect(() => loadConfig({ RETENTION_MONTHS: "0" })).toThrow("RETENTION_MONTHS doit être un nombre entier de mois");
    expect(() => loadConfig({ RETENTION_NOTICE_DAYS: "-3" })).toThrow("RETENTION_NOTICE_DAYS doit être un nombre entier de jours, de 1 à 365");
    expect(() => loadConfig({ RETENTION_MONTHS: "1", RETENTION_NOTICE_DAYS: "60" })).toThrow("RETENTION_NOTICE_DAYS doit être plus court que RETENTION_MONTHS");
    const server = refusedStart({ DATA_DIR: app.dir, RETENTION_MONTHS: "2.5" });
    expect(server.status).toBe(1);
    expect(server.said).toBe("Démarrage refusé : RETENTION_MONTHS doit être un nombre entier de mois, de 1 à 1200");
  });
});
