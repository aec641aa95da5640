import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, bunyel, captureLog, drGene, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { openCompose, postForm, textOf } from "../helpers/ps.js";

/**
 * Issue 11, item 1: a doctor sends a question, deletes the thread, goes Back and presses ENVOYER again.
 * The database refuses a second message under the same submission key; that refusal must neither
 * reach the log with the text nor lose the text: a clear page gives it back in a form.
 */
let app: TestApp;
let s: Session;
const log = captureLog();
beforeAll(async () => {
  app = await startTestApp({ LOG_LEVEL: "debug" }, { log: log.stream });
  s = await signInPs(app, drGene);
});
afterAll(async () => {
  await app.close();
});

const SUBJECT = "Objet-REPOST-7Q4";
const BODY = "Corps-REPOST-7Q4 : douleurs lombaires depuis trois semaines";

describe("re-posting a sent question after deleting its thread", () => {
  let res: Awaited<ReturnType<typeof postForm>>;
  let firstKey: string;
  beforeAll(async () => {
    const { hidden } = await openCompose(s, bunyel);
    firstKey = hidden.submission_key!;
    const sent = await postForm(s, "/ps/conversations", { ...hidden, subject: SUBJECT, body: BODY, action: "send" });
    expect(sent.status).toBe(303);
    const id = sent.headers.location!.split("/").pop();
    const deleted = await s.agent.post(`/ps/conversations/${id}/delete`).type("form").send({ _csrf: s.csrf });
    expect(deleted.status).toBe(303);
    // Back, then ENVOYER: the browser posts the same form again.
    res = await postForm(s, "/ps/conversations", { ...hidden, subject: SUBJECT, body: BODY, action: "send" });
  });

  it("answers a clear French page saying the thread was deleted and the message not sent again", async () => {
    expect(res.status).toBe(409);
    const page = $(res.text);
    expect(textOf(page, "main .notice")).toContain("Cette conversation a été supprimée de votre liste");
    expect(textOf(page, "main .notice")).toContain("n'a pas été envoyé une seconde fois");
  });

  it("gives the typed subject and body back in a form that can send them as a new question", async () => {
    const page = $(res.text);
    expect(page('form.compose input[name="subject"]').val()).toBe(SUBJECT);
    expect(page('form.compose textarea[name="body"]').text()).toBe(BODY);
    const key = String(page('form.compose input[name="submission_key"]').val());
    expect(key).not.toBe(firstKey);
    const hidden: Record<string, string> = {};
    page('form.compose input[type="hidden"]').each((_, el) => {
      hidden[page(el).attr("name")!] = String(page(el).val() ?? "");
    });
    const again = await postForm(s, "/ps/conversations", { ...hidden, subject: SUBJECT, body: BODY, action: "send" });
    expect(again.status).toBe(303);
    const { n } = (await app.db("messages").where({ body: BODY }).count<{ n: number }[]>({ n: "*" }))[0]!;
    expect(Number(n)).toBe(2);
  });

  it("sends nothing twice and logs no error, no subject and no body", () => {
    const all = log.lines.join("\n");
    expect(all).not.toContain("REPOST-7Q4");
    expect(all).not.toContain("lombaires");
    expect(log.entries().filter((e) => Number(e.level) >= 50)).toEqual([]);
  });
});

describe("posting a reply into a thread deleted meanwhile (another tab, or Back after deleting)", () => {
  const REPLY = "Réponse-GONE-5K2 : la radiographie est normale";

  async function replyThenDelete(withPatient: boolean, body = REPLY) {
    const gene = await app.db("practitioners").where({ nam: drGene.nam }).first("id");
    const q = app.db("conversations").where({ ps_practitioner_id: gene.id }).whereNull("ps_deleted_at").whereIn("state", ["A_TRAITER", "EN_COURS", "a_traiter", "en_cours"]);
    const c = await (withPatient ? q.whereNotNull("patient_id") : q.whereNull("patient_id")).orderBy("id").first();
    if (!c) return null;
    const form = await s.agent.get(`/ps/conversations/${c.id}/reply`);
    expect(form.status).toBe(200);
    const hidden: Record<string, string> = {};
    const page = $(form.text);
    page('form.compose input[type="hidden"]').each((_, el) => {
      hidden[page(el).attr("name")!] = String(page(el).val() ?? "");
    });
    await s.agent.post(`/ps/conversations/${c.id}/delete`).type("form").send({ _csrf: s.csrf });
    const res = await postForm(s, `/ps/conversations/${c.id}/messages`, { ...hidden, body, action: "send" });
    return { c, res };
  }

  it("says the thread was deleted and the message not sent, and gives the text back in a new question about the same patient", async () => {
    const { c, res } = (await replyThenDelete(true))!;
    expect(res.status).toBe(410);
    const page = $(res.text);
    expect(textOf(page, "main .notice")).toContain("Ce fil a été supprimé : votre message n'a pas été envoyé");
    expect(page('form.compose textarea[name="body"]').text()).toBe(REPLY);
    expect(page('form.compose input[name="subject"]').val()).toBe(c.subject);
    expect(await app.db("messages").where({ body: REPLY }).first()).toBeUndefined();
    const hidden: Record<string, string> = {};
    page('form.compose input[type="hidden"]').each((_, el) => {
      hidden[page(el).attr("name")!] = String(page(el).val() ?? "");
    });
    const sent = await postForm(s, String(page("form.compose").attr("action")), { ...hidden, subject: c.subject, body: REPLY, action: "send" });
    expect(sent.status).toBe(303);
    const fresh = await app
      .db("conversations")
      .where({ id: Number(sent.headers.location!.split("/").pop()) })
      .first();
    expect(fresh.patient_id).toBe(c.patient_id);
    expect(fresh.id).not.toBe(c.id);
  });

  it("a thread without a patient: the text is given back to copy, and nothing is sent", async () => {
    const text = `${REPLY} (sans patient)`;
    const done = await replyThenDelete(false, text);
    expect(done).not.toBeNull();
    expect(done!.res.status).toBe(410);
    const page = $(done!.res.text);
    expect(textOf(page, "main .notice")).toContain("Ce fil a été supprimé : votre message n'a pas été envoyé");
    expect(page("main textarea").text()).toBe(text);
    expect(await app.db("messages").where({ body: text }).first()).toBeUndefined();
  });

  it("a thread deleted by someone else's side stays a plain 404 for other doctors", async () => {
    const other = await signInPs(app, { nam: "381711787" });
    const c = await app.db("conversations").whereNotNull("ps_deleted_at").first("id");
    const res = await other.agent.post(`/ps/conversations/${c.id}/messages`).field({ _csrf: other.csrf, body: REPLY, action: "send" });
    expect(res.status).toBe(404);
    expect(res.text).not.toContain("GONE-5K2");
  });

  it("logs neither the reply nor an error", () => {
    expect(log.lines.join("\n")).not.toContain("GONE-5K2");
    expect(log.entries().filter((e) => Number(e.level) >= 50)).toEqual([]);
  });
});
