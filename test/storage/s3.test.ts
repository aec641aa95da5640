import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { STORAGE_UNAVAILABLE_NOTICE } from "../../src/domain/errors.js";
import { $, bunyel, captureLog, drGene, fixture, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { freePort, refusedStart, ROOT, sha256, uniquePdf } from "../helpers/process.js";
import { download, expectUnavailablePage, openCompose, postForm, textOf } from "../helpers/ps.js";
import { bucketSettings, storedFilePath } from "../helpers/s3.js";
import { startS3Server, type S3Server } from "../helpers/s3-server.js";

/**
 * Issue 17 §2: attachments in an S3-compatible bucket (here s3rver, started by this file on a port the system picks).
 * What only the bucket shows; the rest of the attachment suite runs on a bucket too with `npm run test:s3`.
 */
let server: S3Server;
let app: TestApp;
let s: Session;
const log = captureLog();
const MiB = 1024 * 1024;

beforeAll(async () => {
  server = await startS3Server();
  app = await startTestApp({ ...(await bucketSettings(server.endpoint)), LOG_LEVEL: "info" }, { log: log.stream });
  s = await signInPs(app, drGene);
});
afterAll(async () => {
  await app?.close();
  await server?.close();
});

/** Sends a question with these files; returns its thread page and the rows of its attachments. */
async function sendWith(subject: string, files: Parameters<typeof postForm>[3]) {
  const { hidden } = await openCompose(s, bunyel);
  const sent = await postForm(s, "/ps/conversations", { ...hidden, subject, body: "Ci-joint.", action: "send" }, files);
  expect(sent.status).toBe(303);
  const thread = await s.agent.get(sent.headers.location!);
  const rows = await app
    .db("attachments as a")
    .join("messages as m", "m.id", "a.message_id")
    .where("m.conversation_id", Number(sent.headers.location!.split("/").pop()))
    .select("a.id", "a.storage_key", "a.size_bytes", "a.sha256");
  return { thread: thread.text, rows };
}

describe("a 10 MB attachment in the bucket", () => {
  it("goes up and comes back through the app byte for byte: the object stored, the download and the SHA-256 recorded are the file's", async () => {
    const base = uniquePdf("dix-mo");
    const big = uniquePdf("dix-mo", 10 * MiB - base.length - 64);
    expect(big.length).toBeGreaterThan(9.9 * MiB);
    const { thread, rows } = await sendWith("Dix mégaoctets", [{ buffer: big, name: "scanner.pdf" }]);
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(Number(row.size_bytes)).toBe(big.length);
    expect(row.sha256).toBe(sha256(big));
    // The object itself: plain bytes, no aws-chunked framing or checksum trailer kept with them.
    const object = fs.readFileSync(storedFilePath(app.config, row.storage_key));
    expect(object.length).toBe(big.length);
    expect(sha256(object)).toBe(sha256(big));
    const href = $(thread)(".message .attachments a").attr("href")!;
    const res = await download(s, href);
    expect(res.status).toBe(200);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers["content-disposition"]).toMatch(/^attachment; filename="scanner.pdf"/);
    expect((res.body as Buffer).length).toBe(big.length);
    expect(sha256(res.body as Buffer)).toBe(sha256(big));
  });

  it("the storage streams a 10 MB file both ways: put empties the temporary folder, open gives the same bytes", async () => {
    const bytes = crypto.randomBytes(10 * MiB);
    const tmp = path.join(app.storage.tmpDir, crypto.randomBytes(16).toString("hex"));
    fs.writeFileSync(tmp, bytes);
    const key = await app.storage.put(tmp);
    expect(fs.existsSync(tmp)).toBe(false);
    const hash = crypto.createHash("sha256");
    let length = 0;
    for await (const chunk of await app.storage.open(key)) {
      hash.update(chunk as Buffer);
      length += (chunk as Buffer).length;
    }
    expect(length).toBe(bytes.length);
    expect(hash.digest("hex")).toBe(sha256(bytes));
    await app.storage.remove(key);
  });
});

describe("an attachment whose object is gone from the bucket", () => {
  let href: string;
  let attachmentId: number;
  beforeAll(async () => {
    const { thread, rows } = await sendWith("Objet perdu", [{ path: fixture("valid", "compte-rendu.pdf") }]);
    href = $(thread)(".message .attachments a").attr("href")!;
    attachmentId = rows[0].id;
    await app.storage.remove(rows[0].storage_key);
  });

  it("is the page « Pièce jointe indisponible » (HTML, not a broken download nor a bare 500)", async () => {
    expectUnavailablePage(await download(s, href));
  });

  it("is logged by the attachment's id and ENOENT, as a missing local file, and traced as a failed download", async () => {
    expect(log.entries().find((e) => e.msg === "attachment file unreadable" && e.attachment === attachmentId)).toMatchObject({ level: 50, code: "ENOENT" });
    const actions = await app.db("audit_events").where({ object_type: "attachment", object_id: attachmentId }).pluck("action");
    expect(actions).toContain("attachment.download_failed");
    expect(actions).not.toContain("attachment.downloaded");
  });
});

describe("npm run storage:sweep on the bucket", () => {
  it("deletes the objects no attachment points to once older than a day, over several listing pages, and nothing else", { timeout: 60_000 }, async () => {
    const { rows } = await sendWith("Gardé par le balayage", [{ path: fixture("valid", "radio.png") }]);
    const age = (key: string, hours: number) => {
      const when = new Date(Date.now() - hours * 3600_000);
      fs.utimesSync(storedFilePath(app.config, key), when, when);
    };
    const referenced = rows[0].storage_key as string;
    age(referenced, 48);
    // More orphans than one ListObjectsV2 page (1,000 keys), written straight into the S3 server's folder (quicker
    // than 1,050 uploads; it serves them as objects): left by crashes between storing a file and committing its row.
    const orphans = Array.from({ length: 1050 }, () => crypto.randomBytes(16).toString("hex"));
    for (const key of orphans) {
      const file = storedFilePath(app.config, key);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, "%PDF-1.4 orphelin");
      age(key, 30);
    }
    const tmp = path.join(app.storage.tmpDir, "jeune");
    fs.writeFileSync(tmp, "%PDF-1.4 jeune");
    const young = await app.storage.put(tmp);

    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/cli/sweep-storage.ts"], {
      cwd: ROOT,
      env: { ...process.env, ...app.settings, LOG_LEVEL: "silent", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    expect(JSON.parse(stdout.trim().split("\n").pop()!)).toMatchObject({ event: "storage.swept", removed: 1050 });
    expect(orphans.filter((k) => fs.existsSync(storedFilePath(app.config, k)))).toEqual([]);
    expect(fs.existsSync(storedFilePath(app.config, young))).toBe(true);
    expect(fs.existsSync(storedFilePath(app.config, referenced))).toBe(true);
    expect((await download(s, `/ps/attachments/${rows[0].id}`)).status).toBe(200);
  });
});

describe("a bucket the app cannot reach", () => {
  let unreachable: TestApp;
  let missing: TestApp;
  beforeAll(async () => {
    const settings = await bucketSettings(server.endpoint);
    unreachable = await startTestApp({ ...settings, STORAGE_S3_ENDPOINT: `http://127.0.0.1:${await freePort()}` });
    missing = await startTestApp({ ...settings, STORAGE_S3_BUCKET: "ems-compartiment-absent" });
  });
  afterAll(async () => {
    await unreachable?.close();
    await missing?.close();
  });

  it("/healthz says the storage is failing (no server there, or no such bucket), the database ok", async () => {
    for (const broken of [unreachable, missing]) {
      const res = await (await signInPs(broken, drGene)).agent.get("/healthz");
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: "failing", database: "ok", storage: "failing" });
    }
    expect((await s.agent.get("/healthz")).body).toEqual({ status: "ok" });
  });

  it("a question with a file is not sent: 503, the form again with the text typed, nothing written", async () => {
    const gene = await signInPs(unreachable, drGene);
    const { hidden } = await openCompose(gene, bunyel);
    const res = await postForm(gene, "/ps/conversations", { ...hidden, subject: "Compartiment injoignable", body: "Texte gardé", action: "send" }, [
      { path: fixture("valid", "compte-rendu.pdf") },
    ]);
    expect(res.status).toBe(503);
    const page = $(res.text);
    expect(textOf(page, "#detail .notice")).toBe(STORAGE_UNAVAILABLE_NOTICE);
    expect(page("form.compose textarea#body").val()).toBe("Texte gardé");
    expect(await unreachable.db("conversations").where({ subject: "Compartiment injoignable" }).first()).toBeUndefined();
  });
});

describe("a provider's passing failure during an upload", () => {
  it("is retried with the file read again (the SDK cannot retry a streamed body): the question is sent, the object whole", async () => {
    // A proxy before the S3 server that answers the first upload of an attachment 503 SlowDown, as S3 does under load.
    const target = new URL(server.endpoint);
    let refused = 0;
    const proxy = http.createServer((req, res) => {
      if (req.method === "PUT" && req.url?.includes("/attachments/") && refused === 0) {
        refused += 1;
        req.resume();
        res.writeHead(503, { "content-type": "application/xml" });
        return res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      }
      const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const settings = await bucketSettings(server.endpoint);
    const flaky = await startTestApp({ ...settings, STORAGE_S3_ENDPOINT: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    try {
      const gene = await signInPs(flaky, drGene);
      const { hidden } = await openCompose(gene, bunyel);
      const pdf = fs.readFileSync(fixture("valid", "compte-rendu.pdf"));
      const sent = await postForm(gene, "/ps/conversations", { ...hidden, subject: "Après un SlowDown", body: "Ci-joint.", action: "send" }, [{ buffer: pdf, name: "cr.pdf" }]);
      expect(sent.status).toBe(303);
      expect(refused).toBe(1);
      const row = await flaky.db("attachments").orderBy("id", "desc").first("storage_key");
      expect(sha256(fs.readFileSync(storedFilePath(flaky.config, row.storage_key)))).toBe(sha256(pdf));
    } finally {
      // The send's notification is flushed after its answer: let it finish before the database closes.
      await flaky.notifier.flush();
      await flaky.close();
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});

describe("no bucket address ever reaches a page", () => {
  it("the thread, the draft and the download name neither the S3 server, nor the bucket, nor a signed URL", async () => {
    const { thread, rows } = await sendWith("Sans adresse du compartiment", [{ path: fixture("valid", "photo.jpg") }]);
    const { hidden } = await openCompose(s, bunyel);
    const draft = await postForm(s, "/ps/conversations", { ...hidden, subject: "Brouillon avec fichier", body: "", action: "draft" }, [{ path: fixture("valid", "radio.png") }]);
    const draftPage = await s.agent.get(draft.headers.location!);
    const file = await download(s, `/ps/attachments/${rows[0].id}`);
    expect(file.status).toBe(200);
    const host = new URL(server.endpoint).host;
    const said = [thread, draftPage.text, JSON.stringify(file.headers)].join("\n");
    for (const leak of [host, app.config.storageS3!.bucket, rows[0].storage_key, /x-amz-/i, /amazonaws/i, /Signature=/]) expect(said).not.toMatch(leak);
  });
});

describe("the S3 settings", () => {
  const base = { NODE_ENV: "test", DATA_DIR: "/tmp/ems-s3-settings" };
  it("are all or nothing, a valid bucket name, https in production, an access key with its secret", () => {
    expect(loadConfig(base).storageS3).toBeNull();
    expect(loadConfig({ ...base, STORAGE_S3_BUCKET: "ems-pj", STORAGE_S3_REGION: "eu-west-3" }).storageS3).toEqual({ bucket: "ems-pj", region: "eu-west-3", endpoint: undefined });
    expect(() => loadConfig({ ...base, STORAGE_S3_ENDPOINT: "https://s3.hds.example" })).toThrow("STORAGE_S3: configuration incomplète, STORAGE_S3_BUCKET manquant");
    expect(() => loadConfig({ ...base, STORAGE_S3_BUCKET: "ems-pj" })).toThrow("STORAGE_S3: configuration incomplète, STORAGE_S3_REGION manquant");
    expect(() => loadConfig({ ...base, STORAGE_S3_BUCKET: "EMS_PJ", STORAGE_S3_REGION: "eu-west-3" })).toThrow("STORAGE_S3_BUCKET n'est pas un nom de compartiment valide");
    expect(() => loadConfig({ ...base, STORAGE_S3_BUCKET: "ems-pj", STORAGE_S3_REGION: "fr", STORAGE_S3_ENDPOINT: "s3.hds.example" })).toThrow(
      "STORAGE_S3_ENDPOINT n'est pas une adresse valide",
    );
    const production = { ...base, NODE_ENV: "production", SESSION_SECRET: "x".repeat(32), STORAGE_S3_BUCKET: "ems-pj", STORAGE_S3_REGION: "fr" };
    expect(() => loadConfig({ ...production, STORAGE_S3_ENDPOINT: "http://s3.hds.example" })).toThrow("STORAGE_S3_ENDPOINT doit être en https en production");
    expect(loadConfig({ ...production, STORAGE_S3_ENDPOINT: "https://s3.hds.example" }).storageS3?.endpoint).toBe("https://s3.hds.example");
    expect(() => loadConfig({ ...base, STORAGE_S3_BUCKET: "ems-pj", STORAGE_S3_REGION: "fr", AWS_ACCESS_KEY_ID: "AKIA" })).toThrow(
      "STORAGE_S3: identifiants incomplets, AWS_SECRET_ACCESS_KEY manquant",
    );
  });

  it("half given, the server does not start and says what is missing in one line", () => {
    const run = refusedStart({ DATA_DIR: app.dir, STORAGE_S3_BUCKET: "ems-pj" });
    expect(run.status).toBe(1);
    expect(run.said).toBe("Démarrage refusé : STORAGE_S3: configuration incomplète, STORAGE_S3_REGION manquant (la région du compartiment, même pour un hébergeur autre qu'AWS)");
  });
});
