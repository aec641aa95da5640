import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, bunyel, captureLog, drGene, fixture, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { download, expectUnavailablePage, openCompose, postForm, textOf } from "../helpers/ps.js";

/** Issue 11, item 10: an attachment whose stored file is gone. */
let app: TestApp;
let s: Session;
const log = captureLog();
let href: string;
let attachmentId: number;
beforeAll(async () => {
  app = await startTestApp({ LOG_LEVEL: "info" }, { log: log.stream });
  s = await signInPs(app, drGene);
  const { hidden } = await openCompose(s, bunyel);
  const sent = await postForm(s, "/ps/conversations", { ...hidden, subject: "PJ perdue", body: "Ci-joint", action: "send" }, [{ path: fixture("valid", "compte-rendu.pdf") }]);
  const thread = $((await s.agent.get(sent.headers.location!)).text);
  href = thread(".message .attachments a").attr("href")!;
  attachmentId = Number(href.split("/").pop());
  const row = await app.db("attachments").where({ id: attachmentId }).first("storage_key");
  await app.storage.remove(row.storage_key);
});
afterAll(async () => {
  await app.close();
});

describe("a missing stored file", () => {
  it("is answered with an HTML error page, not a PDF download", async () => {
    const page = expectUnavailablePage(await download(s, href));
    expect(textOf(page, "main")).toMatch(/Référence de l'incident : [0-9A-F]{8}/);
  });

  it("is logged as an error with the attachment's id and the file system code, not its name", () => {
    const failed = log.entries().find((e) => e.msg === "attachment file unreadable");
    expect(failed).toMatchObject({ level: 50, attachment: attachmentId, code: "ENOENT", route: "/ps/attachments/:attachmentId" });
    expect(log.lines.join("\n")).not.toContain("compte-rendu");
  });

  it("is traced as a failed download, not as a download", async () => {
    const actions = await app.db("audit_events").where({ object_type: "attachment", object_id: attachmentId }).pluck("action");
    expect(actions).toContain("attachment.download_failed");
    expect(actions).not.toContain("attachment.downloaded");
  });
});
