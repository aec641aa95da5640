import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bunyel, drGene, signInPs, startTestApp, type TestApp } from "../helpers/app.js";
import { sendPsQuestion } from "../helpers/ps.js";
import { runCli } from "../helpers/cli.js";

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
    const out = runCli(app, "reminders.ts");
    expect(out.status, out.stderr).toBe(0);
    return out.result!;
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
