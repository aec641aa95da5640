import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { $, bunyel, drGene, fixture, hiddenFields, selectPatient, signInPs, startTestApp, type TestApp } from "../helpers/app.js";

// The standard EICAR test string (not a virus), and a local signature for it made with sigtool:
// this machine has no internet, so no signature database is downloaded.
const EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

let app: TestApp;
let eicarFile: string;
beforeAll(async () => {
  const work = fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "ems-clamav-"));
  eicarFile = path.join(work, "resultats.pdf");
  fs.writeFileSync(eicarFile, EICAR);
  const signature = path.join(work, "eicar.hdb");
  fs.writeFileSync(signature, execFileSync("sigtool", ["--md5", eicarFile]));
  app = await startTestApp({ CLAMAV_COMMAND: "clamscan", CLAMAV_DATABASE: signature });
});
afterAll(async () => {
  await app.close();
});

it("refuses an infected file with a clear message, keeps the text and the clean attachment sent with it", async () => {
  const s = await signInPs(app, drGene);
  await selectPatient(s, bunyel);
  const form = await s.agent.get("/ps/conversations/new");
  const res = await s.agent
    .post("/ps/conversations")
    .field({ ...hiddenFields(form.text), subject: "Résultats", body: "Ci-joint", action: "send" })
    .attach("attachments", eicarFile)
    .attach("attachments", fixture("valid", "compte-rendu.pdf"));
  expect(res.status).toBe(422);
  const page = $(res.text);
  expect(page("#attachments-error").text()).toContain("« resultats.pdf » contient un virus");
  expect(page("#subject").val()).toBe("Résultats");
  expect(page(".attached li").text()).toContain("compte-rendu.pdf");
  expect(await app.db("attachments").where({ original_name: "resultats.pdf" })).toHaveLength(0);
});

it("refuses the file when the antivirus cannot run (fails closed)", async () => {
  const broken = await startTestApp({ CLAMAV_COMMAND: "clamscan", CLAMAV_DATABASE: "/nonexistent/db.hdb" });
  try {
    const s = await signInPs(broken, drGene);
    await selectPatient(s, bunyel);
    const form = await s.agent.get("/ps/conversations/new");
    const res = await s.agent
      .post("/ps/conversations")
      .field({ ...hiddenFields(form.text), subject: "x", body: "y", action: "send" })
      .attach("attachments", fixture("valid", "radio.png"));
    expect(res.status).toBe(422);
    expect($(res.text)("#attachments-error").text()).toContain("n'a pas pu être analysé par l'antivirus");
  } finally {
    await broken.close();
  }
});
