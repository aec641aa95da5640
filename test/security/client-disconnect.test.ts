import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cookieOf, listenTestApp } from "../helpers/listen.js";
import { storedFilePath } from "../helpers/s3.js";
import { bunyel, drGene, fixture, hiddenFields, selectPatient, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";

/**
 * Issue 11, item 9: a client that disconnects once its body is sent (a closed tab, a dropped network) must not
 * make the handler lose its files. The antivirus here is a script that takes 400 ms, so the disconnection always
 * comes while the handler still works on the files (before the fix: the temporary files were removed under it,
 * 500 ENOENT, the send dropped).
 */
let app: TestApp;
let listening: Awaited<ReturnType<typeof listenTestApp>>;
let port: number;
let gene: Session;

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "ems-slow-av-"));
  const scanner = path.join(dir, "slow-clamscan");
  fs.writeFileSync(scanner, "#!/bin/sh\nsleep 0.4\nexit 0\n", { mode: 0o755 });
  app = await startTestApp({ CLAMAV_COMMAND: scanner });
  listening = await listenTestApp(app);
  port = listening.port;
  gene = await signInPs(app, drGene);
  await selectPatient(gene, bunyel);
});
afterAll(async () => {
  await listening.close();
  await app.close();
});

/** Sends the whole body, then closes the connection without waiting for the answer. */
function sendAndLeave(fields: Record<string, string>, file: Buffer, name: string) {
  const b = "----emsLeave";
  const head = Object.entries(fields)
    .map(([k, v]) => `--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
    .join("");
  const body = Buffer.concat([
    Buffer.from(`${head}--${b}\r\nContent-Disposition: form-data; name="attachments"; filename="${name}"\r\nContent-Type: application/pdf\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${b}\r\nContent-Disposition: form-data; name="action"\r\n\r\nsend\r\n--${b}--\r\n`),
  ]);
  return new Promise<void>((resolve) => {
    const req = http.request({
      host: "127.0.0.1",
      port,
      path: "/ps/conversations",
      method: "POST",
      headers: { "Content-Type": `multipart/form-data; boundary=${b}`, "Content-Length": body.length, Cookie: cookieOf(gene), "Sec-Fetch-Site": "same-origin" },
    });
    req.on("error", () => undefined);
    req.end(body, () => {
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
  });
}

it("a send whose client left after its body is finished: the message and its file are kept, no temporary file is left", async () => {
  const pdf = fs.readFileSync(fixture("valid", "compte-rendu.pdf"));
  for (let i = 1; i <= 5; i += 1) {
    const fields = hiddenFields((await gene.agent.get("/ps/conversations/new")).text);
    await sendAndLeave({ ...fields, subject: `Parti avant la réponse ${i}`, body: "Le corps" }, pdf, `cr-${i}.pdf`);
  }
  // The handlers finish on their own (the antivirus takes 400 ms per file; a loaded CI machine, several seconds in all).
  let sent: { id: number; subject: string }[] = [];
  for (let t = 0; t < 300 && sent.length < 5; t += 1) {
    await new Promise((r) => setTimeout(r, 100));
    sent = await app.db("conversations").where("subject", "like", "Parti avant la réponse %").select("id", "subject");
  }
  expect(sent).toHaveLength(5);
  for (const c of sent) {
    const files = await app.db("attachments as a").join("messages as m", "m.id", "a.message_id").where("m.conversation_id", c.id).select("a.storage_key");
    expect(files).toHaveLength(1);
    expect(fs.existsSync(storedFilePath(app.config, files[0].storage_key))).toBe(true);
  }
  expect(await app.db("drafts").where("subject", "like", "Parti avant la réponse %").pluck("id")).toEqual([]);
  for (let t = 0; t < 30 && fs.readdirSync(path.join(app.config.storageDir, "tmp")).length > 0; t += 1) await new Promise((r) => setTimeout(r, 100));
  expect(fs.readdirSync(path.join(app.config.storageDir, "tmp"))).toEqual([]);
});
