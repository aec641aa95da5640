import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_UNAVAILABLE_NOTICE } from "../../src/domain/errors.js";
import { $, annaAin, bunyel, captureLog, drGene, fixture, hiddenFields, signInAgent, signInPs, solana, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { openCompose, postForm, snapshot, textOf } from "../helpers/ps.js";
import { storedFilePath, testOnS3 } from "../helpers/s3.js";

/** Issue 11, item 5: the attachment storage cannot take a file (full, read-only). */
let app: TestApp;
let s: Session;
const log = captureLog();
beforeAll(async () => {
  app = await startTestApp({ LOG_LEVEL: "info" }, { log: log.stream });
  s = await signInPs(app, drGene);
});
afterAll(async () => {
  await app.close();
});

const pdf = { path: fixture("valid", "compte-rendu.pdf") };

/** A file system error as Node raises it: its message names the path (here, typed text that must never be logged). */
function fsError(code: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: cannot write, open '${file}'`), { code, path: file });
}

/** Whether this runner may mount (root in a container that allows it): the read-only folder needs a real mount. */
function canMount(): boolean {
  const probe = fs.mkdtempSync(path.join(app.dir, "mount-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stdio: "ignore" });
    execFileSync("umount", [probe], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

function expectFormGivenBack(html: string, subject: string, body: string) {
  const page = $(html);
  expect(textOf(page, "#detail .notice")).toBe(STORAGE_UNAVAILABLE_NOTICE);
  expect(page("form.compose #subject").val()).toBe(subject);
  expect(page("form.compose textarea#body").val()).toBe(body);
}

describe("a doctor's question whose attachment the storage cannot take", () => {
  it("storage full (ENOSPC, injected in the storage): 503, the form again with the subject and body typed, nothing written", async () => {
    const { hidden } = await openCompose(s, bunyel);
    const before = await snapshot(app);
    const put = app.storage.put;
    app.storage.put = async () => {
      throw fsError("ENOSPC", "/data/Sujet disque plein");
    };
    try {
      const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "Sujet disque plein", body: "Corps disque plein", action: "send" }, [pdf]);
      expect(res.status).toBe(503);
      expectFormGivenBack(res.text, "Sujet disque plein", "Corps disque plein");
    } finally {
      app.storage.put = put;
    }
    expect(await snapshot(app)).toEqual(before);
  });

  it("is logged at error level by its code, without the subject, the body or the path", () => {
    const entry = log.entries().find((e) => e.msg === "storage unavailable: compose form given back");
    expect(entry).toMatchObject({ level: 50, route: "/ps/conversations", code: "ENOSPC" });
    expect(log.lines.join("\n")).not.toMatch(/disque plein/);
  });

  it("a second file refused after a first one was stored: the first one is removed, nothing points to it", async () => {
    const { hidden } = await openCompose(s, bunyel);
    const put = app.storage.put;
    const keys: string[] = [];
    app.storage.put = async (tmp) => {
      if (keys.length) throw fsError("EDQUOT", "/data/quota");
      keys.push(await put(tmp));
      return keys[0]!;
    };
    try {
      const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "Deux fichiers", body: "Le second ne passe pas", action: "draft" }, [pdf, pdf]);
      expect(res.status).toBe(503);
      expectFormGivenBack(res.text, "Deux fichiers", "Le second ne passe pas");
    } finally {
      app.storage.put = put;
    }
    expect(keys).toHaveLength(1);
    expect(fs.existsSync(storedFilePath(app.config, keys[0]!))).toBe(false);
    expect(await app.db("drafts").where({ subject: "Deux fichiers" }).first()).toBeUndefined();
  });
});

describe("the back office's question whose attachment the storage cannot take", () => {
  it("503, the question form again with the NIR OD, subject and body typed, nothing written", async () => {
    const anna = await signInAgent(app, annaAin);
    const hidden = hiddenFields((await anna.agent.get("/bo/conversations/new")).text);
    const before = await snapshot(app);
    const put = app.storage.put;
    app.storage.put = async () => {
      throw fsError("ENOSPC", "/data/Question pleine");
    };
    try {
      const res = await postForm(anna, "/bo/conversations", { ...hidden, nir_od: solana.nir, subject: "Question pleine", body: "Corps de la question pleine", action: "send" }, [
        pdf,
      ]);
      expect(res.status).toBe(503);
      expectFormGivenBack(res.text, "Question pleine", "Corps de la question pleine");
      expect($(res.text)("#nir_od").val()).toBe(solana.nir);
    } finally {
      app.storage.put = put;
    }
    expect(await snapshot(app)).toEqual(before);
    expect(log.entries().find((e) => e.msg === "storage unavailable: compose form given back" && e.route === "/bo/conversations")).toMatchObject({ level: 50, code: "ENOSPC" });
  });
});

describe("a read-only objects folder (a read-only bind mount)", () => {
  const objects = () => path.join(app.config.storageDir, "objects");
  let mounted = false;
  afterAll(() => {
    if (mounted) execFileSync("umount", [objects()]);
  });

  it("sends nothing: 503 with the text given back, and /healthz reports the storage failing, then ok once writable", async (ctx) => {
    if (testOnS3) ctx.skip("the local objects folder only: with TEST_STORAGE=s3 the files go to the bucket (a bucket that fails: test/storage/s3.test.ts)");
    if (!canMount()) ctx.skip("this runner cannot mount (needs root in a container allowing mount): the read-only folder needs a real mount");
    const { hidden } = await openCompose(s, bunyel);
    expect((await s.agent.get("/healthz")).status).toBe(200);
    execFileSync("mount", ["--bind", objects(), objects()]);
    mounted = true;
    execFileSync("mount", ["-o", "remount,bind,ro", objects()]);
    const before = await snapshot(app);

    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "Dossier en lecture seule", body: "Corps lecture seule", action: "send" }, [pdf]);
    expect(res.status).toBe(503);
    expectFormGivenBack(res.text, "Dossier en lecture seule", "Corps lecture seule");
    expect(await snapshot(app)).toEqual(before);
    expect(log.entries().filter((e) => e.msg === "storage unavailable: compose form given back" && e.code === "EROFS")).toHaveLength(1);

    const failing = await s.agent.get("/healthz");
    expect(failing.status).toBe(503);
    expect(failing.body).toEqual({ status: "failing", database: "ok", storage: "failing" });
    await s.agent.get("/healthz");
    const healthLines = log.entries().filter((e) => e.msg === "health check failing: cannot store");
    expect(healthLines).toHaveLength(1);
    expect(healthLines[0]).toMatchObject({ level: 50, storage: "failing", storageErr: { code: "EROFS" } });

    execFileSync("umount", [objects()]);
    mounted = false;
    const ok = await s.agent.get("/healthz");
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ status: "ok" });
    expect(log.lines.join("\n")).not.toMatch(/lecture seule/);
  });
});

describe("a read-only temporary folder (the files of a post are received there)", () => {
  const tmp = () => path.join(app.config.storageDir, "tmp");
  let mounted = false;
  afterAll(() => {
    if (mounted) execFileSync("umount", [tmp()]);
  });

  it("the post's files cannot be received: 503 with the text given back, logged by its code, nothing written", async (ctx) => {
    if (!canMount()) ctx.skip("this runner cannot mount (needs root in a container allowing mount): the read-only folder needs a real mount");
    const { hidden } = await openCompose(s, bunyel);
    execFileSync("mount", ["--bind", tmp(), tmp()]);
    mounted = true;
    execFileSync("mount", ["-o", "remount,bind,ro", tmp()]);
    const before = await snapshot(app);
    const logged = log.entries().length;
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "Réception impossible", body: "Corps réception", action: "send" }, [pdf]);
    execFileSync("umount", [tmp()]);
    mounted = false;
    expect(res.status).toBe(503);
    expectFormGivenBack(res.text, "Réception impossible", "Corps réception");
    expect(await snapshot(app)).toEqual(before);
    expect(
      log
        .entries()
        .slice(logged)
        .filter((e) => e.msg === "storage unavailable: compose form given back" && e.code === "EROFS"),
    ).toHaveLength(1);
    expect(log.lines.join("\n")).not.toMatch(/Réception impossible|Corps réception/);
  });
});
