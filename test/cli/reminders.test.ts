import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bunyel, drGene, signInPs, startTestApp, type TestApp } from "../helpers/app.js";
import { sendPsQuestion } from "../helpers/ps.js";
import { ROOT } from "../helpers/process.js";

/** `npm run reminders` (issue 14 §2): one deadline pass from the command line, its reminder mailed (the outbox folder), once. */
describe("npm run reminders", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const run = () => {
    const env = {
      ...process.env,
      NODE_ENV: "test",
      DATA_DIR: app.dir,
      PUBLIC_URL: "https://ems.example",
      DATABASE_URL: app.config.databaseUrl ?? "",
      DATABASE_SCHEMA: app.config.databaseSchema ?? "",
      LOG_LEVEL: "silent",
    };
    const out = spawnSync(process.execPath, ["--import", "tsx", "src/cli/reminders.ts"], { cwd: ROOT, env, encoding: "utf8", timeout: 60_000 });
    expect(out.status, out.stderr).toBe(0);
    return JSON.parse(out.stdout.trim().split("\n").pop()!);
  };

  it("flags a thread past its due date, mails its reminder without content, and does nothing more the second time", async () => {
    const id = await sendPsQuestion(await signInPs(app, drGene), bunyel, "Arrêt maladie à prolonger");
    await app
      .db("conversations")
      .where({ id })
      .update({ due_at: new Date(Date.now() - 60_000).toISOString() });
    const first = run();
    expect(first).toMatchObject({ event: "deadlines.passed", flagged: 1, reminders: 1 });
    expect(first.sent).toBeGreaterThanOrEqual(1);
    expect((await app.db("conversations").where({ id }).first("overdue")).overdue).toBeTruthy();
    const mails = fs.readdirSync(app.config.outboxDir).map((f) => fs.readFileSync(path.join(app.config.outboxDir, f), "utf8").replace(/=\r?\n/g, "")); // quoted-printable's soft breaks
    const reminder = mails.find((m) => m.includes("attend votre r"));
    expect(reminder).toBeDefined();
    expect(reminder).not.toMatch(/Arr[êe]t|BUNYEL|Guillaume/);
    expect(run()).toMatchObject({ flagged: 0, reminders: 0 });
    expect(await app.db("notifications").where({ conversation_id: id, kind: "reminder" })).toHaveLength(1);
  });
});
