import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import * as cheerio from "cheerio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Client,
  composeFields,
  freshGet,
  hasOpen,
  killAll,
  multipartBody,
  selectPatientOver,
  sharedData,
  signInPsOver,
  sleep,
  slowPost,
  startServer,
  storedPath,
  submissionKey,
  tail,
  uniquePdf,
  until,
  type ServerProcess,
  type SharedData,
} from "../helpers/process.js";

/**
 * Several app processes on one database and one storage folder (issue 6, "Several processes"):
 * two real `src/server.ts` processes, A and B, on their own ports, as behind a load balancer. On PostgreSQL
 * when DATABASE_URL is set (a fresh schema), otherwise on one SQLite file (WAL).
 */

const gene = { nam: "991101197" };
const mezin = { nam: "381711787" };
const solana = { nir: "2851175123045", key: "45" };
// Both processes run with the same settings; the per-card login limit is lowered to show it is shared.
const settings = { LOGIN_LIMIT_PER_CARD: "2" };

let data: SharedData;
let a: ServerProcess;
let b: ServerProcess;

beforeAll(async () => {
  data = await sharedData();
  // A migrates and seeds the empty database; B starts on it as it is.
  a = await startServer(data, { name: "A", env: settings });
  b = await startServer(data, { name: "B", env: settings });
}, 120_000);

afterAll(async () => {
  await killAll();
  await data?.dispose();
});

/** A doctor signed in through `through`, with the patient selected and a new-question form open there. */
async function doctorOn(through: ServerProcess) {
  const client = new Client(through.baseUrl);
  await signInPsOver(client, data.db, gene.nam);
  await selectPatientOver(client, solana);
  const fields = await composeFields(client);
  return { client, fields };
}

const attachmentLinks = (html: string) => {
  const page = cheerio.load(html);
  return page('a[href^="/ps/attachments/"]')
    .toArray()
    .map((el) => ({ href: page(el).attr("href")!, name: page(el).text().trim() }));
};

const conversationId = (location: string | null) => {
  const m = /^\/ps\/conversations\/(\d+)$/.exec(location ?? "");
  if (!m) throw new Error(`not a conversation: ${location}`);
  return Number(m[1]);
};

describe("two app processes on one database and one storage folder", () => {
  it(`/healthz answers {"status":"ok"} on each process (${process.env.DATABASE_URL ? "PostgreSQL" : "SQLite"})`, async () => {
    for (const p of [a, b]) {
      const res = await fetch(`${p.baseUrl}/healthz`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(await res.json()).toEqual({ status: "ok" });
    }
    expect(a.port).not.toBe(b.port);
  }, 30_000);

  it("a doctor signed in through A carries on through B with the same cookie: list, draft, send; signing out on B ends it on A", async () => {
    const { client, fields } = await doctorOn(a);
    const signedIn = new Map(client.cookies);
    expect([...signedIn.keys()]).toContain("ems.sid");

    // Same cookie, other process: the list is the doctor's, not the login page.
    client.baseUrl = b.baseUrl;
    const list = await client.get("/ps/messages");
    expect(list.status).toBe(200);
    expect(cheerio.load(list.text)('form[action="/logout"]').length).toBe(1);
    expect(list.text).toContain("GENE");

    // A draft saved through B (with the form A rendered: its CSRF token and signed context) opens on A.
    const tag = submissionKey().slice(0, 8);
    const draft = await client.postMultipart("/ps/conversations", {
      ...fields,
      submission_key: submissionKey(),
      subject: `Brouillon via B ${tag}`,
      body: "À finir",
      action: "draft",
    });
    expect(draft.status, draft.text.slice(0, 500)).toBe(303);
    expect(draft.location).toMatch(/^\/ps\/drafts\/\d+$/);
    client.baseUrl = a.baseUrl;
    const draftPage = await client.get(draft.location!);
    expect(draftPage.status).toBe(200);
    expect(cheerio.load(draftPage.text)('input[name="subject"]').val()).toBe(`Brouillon via B ${tag}`);

    // A send through B lands in the doctor's list, served by A.
    client.baseUrl = b.baseUrl;
    const sent = await client.postMultipart("/ps/conversations", {
      ...fields,
      submission_key: submissionKey(),
      subject: `Envoyé via B ${tag}`,
      body: "Question posée sur B",
      action: "send",
    });
    expect(sent.status, sent.text.slice(0, 500)).toBe(303);
    const id = conversationId(sent.location);
    client.baseUrl = a.baseUrl;
    const listOnA = await client.get("/ps/messages");
    expect(
      cheerio
        .load(listOnA.text)("#list .item-subject")
        .toArray()
        .map((el) => cheerio.load(listOnA.text)(el).text().trim()),
    ).toContain(`Envoyé via B ${tag}`);
    const thread = await client.get(`/ps/conversations/${id}`);
    expect(thread.status).toBe(200);
    expect(thread.text).toContain("Question posée sur B");

    // Signing out through B ends the session everywhere: A no longer knows the cookie.
    client.baseUrl = b.baseUrl;
    const out = await client.postForm("/logout", { _csrf: fields._csrf! });
    expect(out.status).toBe(303);
    expect(out.location).toMatch(/^\/ps\/login/);
    const stale = new Client(a.baseUrl);
    for (const [k, v] of signedIn) stale.cookies.set(k, v);
    const after = await stale.get("/ps/messages");
    expect([302, 303]).toContain(after.status);
    expect(after.res.headers.get("location")).toMatch(/^\/ps\/login/);
  }, 60_000);

  it("attachments uploaded through A download byte for byte through B, from the one storage folder", async () => {
    const { client, fields } = await doctorOn(a);
    const files = [
      { name: "compte-rendu-A.pdf", content: uniquePdf(`A-1-${submissionKey()}`, 300_000) },
      { name: "bilan-A.pdf", content: uniquePdf(`A-2-${submissionKey()}`, 20_000) },
    ];
    const sent = await client.postMultipart(
      "/ps/conversations",
      { ...fields, submission_key: submissionKey(), subject: "Pièces jointes A→B", body: "Deux fichiers", action: "send" },
      files.map((f) => ({ ...f, type: "application/pdf" })),
    );
    expect(sent.status, sent.text.slice(0, 500)).toBe(303);
    const id = conversationId(sent.location);

    client.baseUrl = b.baseUrl;
    const thread = await client.get(`/ps/conversations/${id}`);
    expect(thread.status).toBe(200);
    const links = attachmentLinks(thread.text);
    expect(links.map((l) => l.name).sort()).toEqual(files.map((f) => f.name).sort());
    for (const f of files) {
      const download = await client.getBytes(links.find((l) => l.name === f.name)!.href);
      expect(download.status).toBe(200);
      expect(download.res.headers.get("content-type")).toBe("application/pdf");
      expect(download.body.length).toBe(f.content.length);
      expect(download.body.equals(f.content)).toBe(true);
    }

    // The bytes are in the shared folder under the keys the rows name; nothing is left in its tmp/.
    const rows = await data.db("attachments as at").join("messages as m", "m.id", "at.message_id").where("m.conversation_id", id).select("at.storage_key", "at.size_bytes");
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(fs.statSync(storedPath(data.storageDir, r.storage_key)).size).toBe(Number(r.size_bytes));
    await until("upload temp files removed", () => fs.readdirSync(path.join(data.storageDir, "tmp")).length === 0, 5_000);
  }, 60_000);

  it("login rate limits are counted once for all processes: failures on A and on B add up", async () => {
    const attempt = async (through: ServerProcess, pin: string) => {
      const client = new Client(through.baseUrl);
      const card = await data.db("practitioners").where({ nam: mezin.nam }).first("id");
      const page = await client.get("/ps/login");
      const csrf = cheerio.load(page.text)('input[name="_csrf"]').val() as string;
      return client.postForm("/ps/login", { _csrf: csrf, card: String(card.id), pin });
    };
    expect((await attempt(a, "1111")).status).toBe(422);
    expect((await attempt(b, "2222")).status).toBe(422);
    // Each process alone has seen one failure; together they have reached the limit of 2 for this card.
    expect((await attempt(a, "1234")).status).toBe(429);
    expect((await attempt(b, "1234")).status).toBe(429);
  }, 60_000);

  it("each queued notification is mailed once, even when both processes send and flush the outbox at the same time", async () => {
    const { client, fields } = await doctorOn(a);
    const viaB = new Client(b.baseUrl);
    for (const [k, v] of client.cookies) viaB.cookies.set(k, v);
    const sends = [];
    for (let i = 0; i < 8; i += 1) {
      for (const c of [client, viaB]) {
        sends.push(c.postMultipart("/ps/conversations", { ...fields, submission_key: submissionKey(), subject: `Notification ${i}`, body: "x", action: "send" }));
      }
    }
    const results = await Promise.all(sends);
    expect(results.map((r) => r.status)).toEqual(results.map(() => 303));
    await until(
      "every notification marked sent",
      async () => {
        const [row] = await data.db("notifications").whereNull("sent_at").count<{ n: number | string }[]>({ n: "*" });
        return Number(row!.n) === 0;
      },
      15_000,
    );
    await sleep(500);
    const [sentRows] = await data.db("notifications").whereNotNull("sent_at").count<{ n: number | string }[]>({ n: "*" });
    const mails = fs.readdirSync(path.join(data.dir, "outbox")).filter((f) => f.endsWith(".eml"));
    expect(mails.length, "mails written to the outbox vs notification rows marked sent").toBe(Number(sentRows!.n));
  }, 60_000);

  it("SIGTERM on A: the in-flight upload finishes (303, stored), A stops accepting and exits 0, B carries on", async () => {
    const { client, fields } = await doctorOn(a);
    const file = uniquePdf(`inflight-${submissionKey()}`, 2_000_000);
    const { body, contentType } = multipartBody({ ...fields, submission_key: submissionKey(), subject: "En vol pendant l'arrêt", body: "Envoyé pendant SIGTERM", action: "send" }, [
      { name: "en-vol.pdf", content: file },
    ]);
    const tmp = path.join(data.storageDir, "tmp");
    const before = new Set(fs.readdirSync(tmp));
    const post = slowPost(a.baseUrl, "/ps/conversations", { cookie: client.cookieHeader(), "content-type": contentType }, body, body.length - 200_000);
    post.sendHead();
    // The request is in the handler: multer is writing the file part to the shared tmp folder.
    await until("the upload to reach A", () => fs.readdirSync(tmp).some((f) => !before.has(f)));

    a.child.kill("SIGTERM");
    // A stops accepting new connections (a load balancer's next connection goes to B)...
    const probes: string[] = [];
    await until(
      "A to refuse new connections",
      async () => {
        const probe = await freshGet(`${a.baseUrl}/healthz`);
        probes.push(probe.error ?? String(probe.status));
        return probe.error === "ECONNREFUSED";
      },
      5_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${probes.join(", ")}\n${tail(a.output())}`);
    });
    // ...and still finishes the request it had started.
    const res = await post.finish();
    expect(res.status, res.body.slice(0, 500)).toBe(303);
    const id = conversationId(String(res.headers.location));
    // It then ends by itself, before the server's own 10 s forced exit (code 1).
    const exit = await a.waitExit(9_000);
    expect(exit, tail(a.output())).toEqual({ code: 0, signal: null });
    expect(a.output()).toContain('"signal":"SIGTERM"');

    // B serves what A committed last, with its attachment.
    client.baseUrl = b.baseUrl;
    const thread = await client.get(`/ps/conversations/${id}`);
    expect(thread.status).toBe(200);
    expect(thread.text).toContain("Envoyé pendant SIGTERM");
    const [link] = attachmentLinks(thread.text);
    const download = await client.getBytes(link!.href);
    expect(download.body.equals(file)).toBe(true);
    expect(await (await fetch(`${b.baseUrl}/healthz`)).json()).toEqual({ status: "ok" });
  }, 60_000);
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("processes started together", () => {
  it("two processes started at the same moment on an empty database both come up (migrations and demo data applied once)", async () => {
    // As an orchestrator starts its replicas, or restarts them all after a deployment with a new migration.
    const empty = await sharedData();
    let started: PromiseSettledResult<ServerProcess>[] = [];
    try {
      const children: ChildProcess[] = [];
      const starting = Promise.allSettled(["first", "second"].map((name) => startServer(empty, { name, onSpawn: (c) => children.push(c) })));
      if (empty.kind === "sqlite") {
        // Line both up on the database's write lock (held here until both have the file open), so that they
        // look at the empty database and write to it at the same moment, every run, not just when timing allows.
        // Never held past 3 s after the first one opens it: they wait 5 s (busy_timeout) before failing.
        await empty.db.raw("BEGIN IMMEDIATE");
        const file = empty.env.SQLITE_FILE!;
        let firstOpen = 0;
        await until(
          "both processes to open the database",
          () => {
            const open = children.filter((c) => hasOpen(c.pid!, file)).length;
            if (open > 0 && !firstOpen) firstOpen = Date.now();
            return open >= 2 || (firstOpen > 0 && Date.now() - firstOpen > 2_600);
          },
          20_000,
        ).catch(() => undefined);
        await sleep(Math.max(0, Math.min(400, firstOpen + 3_000 - Date.now())));
        await empty.db.raw("COMMIT");
      } else {
        // The same on PostgreSQL: an uncommitted DROP SCHEMA holds the schema's lock, which creating a table
        // waits for; once both processes wait there (they have both found the database empty), it is rolled back.
        const schema = empty.env.DATABASE_SCHEMA!;
        const trx = await empty.db.transaction();
        try {
          await trx.raw(`DROP SCHEMA ${schema}`);
          await until(
            "both processes to wait on the schema",
            async () => {
              const rows = await empty.db.raw(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE 'create table%' AND pid <> pg_backend_pid()",
              );
              return Number(rows.rows[0].n) >= 2;
            },
            20_000,
          ).catch(() => undefined);
        } finally {
          await trx.rollback();
        }
      }
      started = await starting;
      const failures = started.flatMap((r) =>
        r.status === "rejected"
          ? [
              String((r.reason as Error).message)
                .split("\n")
                .slice(0, 3)
                .join(" "),
            ]
          : [],
      );
      expect(failures, "processes that did not start").toEqual([]);
      expect(
        await empty
          .db("elsms")
          .count<{ n: number | string }[]>({ n: "*" })
          .then((r) => Number(r[0]!.n)),
      ).toBe(3);
      expect(
        await empty
          .db("practitioners")
          .where({ nam: gene.nam })
          .count<{ n: number | string }[]>({ n: "*" })
          .then((r) => Number(r[0]!.n)),
      ).toBe(1);
      for (const r of started) if (r.status === "fulfilled") expect(await r.value.stop("SIGTERM", 9_000)).toEqual({ code: 0, signal: null });
    } finally {
      for (const r of started) if (r.status === "fulfilled") await r.value.stop("SIGKILL", 5_000).catch(() => undefined);
      await empty.dispose();
    }
  }, 60_000);
});

describe("graceful shutdown under keep-alive traffic", () => {
  it("SIGTERM while a client's keep-alive connection is busy, the client going on using it: the request finishes and the process still exits 0, before the forced exit", async () => {
    const c = await startServer(data, { name: "C", env: settings });
    const { client, fields } = await doctorOn(c);
    // A load balancer (or a browser) keeps its connection to the process open and sends the next request on it.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const { body, contentType } = multipartBody({ ...fields, submission_key: submissionKey(), subject: "Keep-alive pendant l'arrêt", body: "x", action: "send" }, [
      { name: "ka.pdf", content: uniquePdf(`ka-${submissionKey()}`, 1_000_000) },
    ]);
    const tmp = path.join(data.storageDir, "tmp");
    const before = new Set(fs.readdirSync(tmp));
    const post = slowPost(c.baseUrl, "/ps/conversations", { cookie: client.cookieHeader(), "content-type": contentType }, body, body.length - 100_000, agent);
    const answers: string[] = [];
    let signalled = 0;
    try {
      post.sendHead();
      await until("the upload to reach C", () => fs.readdirSync(tmp).some((f) => !before.has(f)));
      signalled = Date.now();
      c.child.kill("SIGTERM");
      await until("C to refuse new connections", async () => (await freshGet(`${c.baseUrl}/healthz`)).error === "ECONNREFUSED", 5_000);
      const res = await post.finish();
      expect(res.status).toBe(303);
      answers.push(`upload ${res.status}${res.headers.connection === "close" ? " (Connection: close)" : ""}`);

      // The client goes on with its next requests, on the same connection while the server keeps it open.
      let ended = false;
      void c.exited.then(() => {
        ended = true;
      });
      while (!ended && Date.now() - signalled < 9_500) {
        answers.push(
          await new Promise<string>((resolve) => {
            const req = http.get(`${c.baseUrl}/healthz`, { agent }, (r) => {
              r.resume();
              r.on("end", () => resolve(`+${Date.now() - signalled} ms ${r.statusCode}`));
            });
            req.on("error", (err: NodeJS.ErrnoException) => resolve(`+${Date.now() - signalled} ms ${err.code ?? err.message}`));
          }),
        );
        await sleep(50);
      }
      // The server's own deadline is 10 s after the signal (then exit code 1, cutting whatever is running).
      const exit = await c.waitExit(Math.max(500, 9_800 - (Date.now() - signalled))).catch((err: Error) => ({ error: err.message.split("\n")[0] }));
      const served = answers.filter((x) => / 200$/.test(x)).length;
      expect(
        exit,
        [
          `${Date.now() - signalled} ms after SIGTERM, ${served} requests served on the kept connection; answers: ${answers.slice(0, 3).join(", ")} … ${answers.slice(-3).join(", ")}`,
          tail(c.output(), 5),
        ].join("\n"),
      ).toEqual({ code: 0, signal: null });
    } finally {
      agent.destroy();
      await c.stop("SIGKILL", 5_000).catch(() => undefined);
    }
  }, 60_000);
});

describe("WEB_CONCURRENCY=2: src/server.ts (what npm start runs) forks workers with node:cluster", () => {
  it("runs two workers sharing sessions (with a generated secret), replaces a crashed one, and stops them all on SIGTERM with exit 0", async () => {
    // No SESSION_SECRET: the primary generates one and hands it to its workers.
    const cluster = await startServer(data, { name: "cluster", env: { ...settings, WEB_CONCURRENCY: "2", SESSION_SECRET: undefined } });
    const workerPids = () => [...cluster.output().matchAll(/"pid":(\d+),"msg":"listening"/g)].map((m) => Number(m[1]));
    await until("two workers listening", () => new Set(workerPids()).size === 2, 20_000);
    const workers = [...new Set(workerPids())];
    expect(workers).not.toContain(cluster.pid);

    const client = new Client(cluster.baseUrl);
    await signInPsOver(client, data.db, gene.nam);
    // Every request on its own connection: whichever worker takes it knows the session.
    const pages = await Promise.all(Array.from({ length: 8 }, () => freshGet(`${cluster.baseUrl}/ps/messages`, client.cookieHeader())));
    expect(pages.map((p) => p.status)).toEqual(pages.map(() => 200));
    for (const p of pages) expect(p.body).toContain('action="/logout"');

    // A worker that dies is replaced; the service keeps answering.
    process.kill(workers[0]!, "SIGKILL");
    await until("a replacement worker", () => new Set(workerPids()).size === 3, 20_000);
    const live = [...new Set(workerPids())].filter(alive);
    expect(live).toHaveLength(2);
    expect((await freshGet(`${cluster.baseUrl}/ps/messages`, client.cookieHeader())).status).toBe(200);

    const exit = await cluster.stop("SIGTERM", 12_000);
    expect(exit, tail(cluster.output())).toEqual({ code: 0, signal: null });
    for (const pid of live) expect(alive(pid), `worker ${pid} still running`).toBe(false);
  }, 60_000);
});
