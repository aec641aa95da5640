import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bunyel, drGene, signInPs, startTestApp, type TestApp } from "../helpers/app.js";
import { sendPsQuestion } from "../helpers/ps.js";
import { cliEnv, runCli } from "../helpers/cli.js";
import { ROOT, sharedData, startServer, until } from "../helpers/process.js";

/** `npm run reminders` (issue 14 §2): one deadline pass from the command line, its reminder mailed (the outbox folder), once. */
describe("npm run reminders", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const env = () => cliEnv(app);
  /** The same command in a process of its own, not waited for: several run at once, as two crons (or hosts) would. */
  const runAsync = () =>
    new Promise<{ flagged: number; reminders: number; sent: number }>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", "src/cli/reminders.ts"], { cwd: ROOT, env: env(), stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop()!)) : reject(new Error(`exit ${code}: ${err}`))));
    });
  const reminderMails = () =>
    fs
      .readdirSync(app.config.outboxDir)
      .map((f) => fs.readFileSync(path.join(app.config.outboxDir, f), "utf8").replace(/=\r?\n/g, "")) // quoted-printable's soft breaks
      .filter((m) => m.includes("attend votre r"));

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
    const reminder = reminderMails()[0];
    expect(reminder).toBeDefined();
    expect(reminder).not.toMatch(/Arr[êe]t|BUNYEL|Guillaume/);
    expect(run()).toMatchObject({ flagged: 0, reminders: 0 });
    expect(await app.db("notifications").where({ conversation_id: id, kind: "reminder" })).toHaveLength(1);
  });

  it("two processes running it at once remind each overdue thread once: one claim wins, one mail leaves", async () => {
    const gene = await signInPs(app, drGene);
    const ids = [];
    for (let i = 1; i <= 4; i++) ids.push(await sendPsQuestion(gene, bunyel, `Course des rappels n° ${i}`));
    await app
      .db("conversations")
      .whereIn("id", ids)
      .update({ due_at: new Date(Date.now() - 60_000).toISOString() });
    const before = reminderMails().length;
    const [a, b] = await Promise.all([runAsync(), runAsync()]);
    // Each thread flagged and reminded by exactly one of them; each mail sent by exactly one of them.
    expect(a.flagged + b.flagged).toBe(ids.length);
    expect(a.reminders + b.reminders).toBe(ids.length);
    expect(a.sent + b.sent).toBe(ids.length);
    for (const id of ids) {
      const rows = await app.db("notifications").where({ conversation_id: id, kind: "reminder" }).select("sent_at");
      expect(rows, String(id)).toHaveLength(1);
      expect(rows[0].sent_at, String(id)).not.toBeNull();
    }
    expect(reminderMails().length - before).toBe(ids.length);
    const elsm = (await app.db("conversations").where({ id: ids[0] }).first("elsm_id")).elsm_id;
    const counted = await app.db("tray_counts").where({ elsm_id: elsm, state: "a_traiter" }).first("overdue");
    const actual = await app.db("conversations").where({ elsm_id: elsm, state: "a_traiter", overdue: true }).count({ n: "*" });
    expect(Number(counted.overdue)).toBe(Number(actual[0]!.n));
  });
});

describe("the app's own deadline pass", () => {
  it("each app process runs the pass every DEADLINE_PASS_SECONDS (180 by default): the overdue thread flagged, its reminder mailed", async () => {
    const data = await sharedData();
    const server = await startServer(data, { env: { DEADLINE_PASS_SECONDS: "1" } });
    try {
      const c = await data.db("conversations").where({ state: "a_traiter" }).orderBy("id").first("id");
      await data
        .db("conversations")
        .where({ id: c.id })
        .update({ due_at: new Date(Date.now() - 60_000).toISOString(), due_side: "elsm", overdue: false });
      await until("the thread flagged and its reminder sent by the app", async () => {
        const sent = await data.db("notifications").where({ conversation_id: c.id, kind: "reminder" }).whereNotNull("sent_at");
        return sent.length === 1 && Boolean((await data.db("conversations").where({ id: c.id }).first("overdue")).overdue);
      });
      const outbox = path.join(data.dir, "outbox");
      expect(
        fs.readdirSync(outbox).some((f) =>
          fs
            .readFileSync(path.join(outbox, f), "utf8")
            .replace(/=\r?\n/g, "")
            .includes("attend votre r"),
        ),
      ).toBe(true);
      // Passes go on every second: still one reminder for that due date.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(await data.db("notifications").where({ conversation_id: c.id, kind: "reminder" })).toHaveLength(1);
    } finally {
      await server.stop();
      await data.dispose();
    }
  });
});
