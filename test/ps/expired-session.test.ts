import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, bunyel, csrfFrom, drGene, drMezin, hiddenFields, signInPs, startTestApp, type TestApp } from "../helpers/app.js";
import { openCompose, postForm, practitionerId, textOf } from "../helpers/ps.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

/** Signs in through the login form on an existing browser; returns the login response. */
async function logIn(browser: ReturnType<typeof request.agent>, who: { nam: string }) {
  const page = await browser.get("/ps/login");
  return browser
    .post("/ps/login")
    .type("form")
    .send({ _csrf: csrfFrom(page.text), card: String(await practitionerId(app, who)), pin: "1234" });
}

async function expireEverySession(how: "deleted" | "timed out") {
  if (how === "deleted") await app.db("sessions").del();
  else await app.db("sessions").update({ expires_at: Date.now() - 1000 });
}

describe("a session that expired while the doctor was typing", () => {
  it.each(["deleted", "timed out"] as const)("(row %s) sends the new question's text to login, then back in a draft", async (how) => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const subject = `Tapé avant expiration (${how})`;
    await expireEverySession(how);

    const res = await postForm(s, "/ps/conversations", { ...hidden, subject, body: "Un long texte\nà ne pas perdre.", action: "send" });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/ps/login?expire=1");
    expect(await app.db("conversations").where({ subject })).toHaveLength(0);

    const loginPage = $((await s.agent.get("/ps/login")).text);
    expect(textOf(loginPage, ".notice")).toContain("Votre session a expiré");

    const back = await logIn(s.agent, drGene);
    expect(back.status).toBe(303);
    expect(back.headers.location).toMatch(/^\/ps\/drafts\/\d+$/);
    const draft = $((await s.agent.get(back.headers.location)).text);
    expect(draft("input#subject").val()).toBe(subject);
    expect(draft("textarea#body").text()).toBe("Un long texte\nà ne pas perdre.");
    // The draft is about the same patient, and it can now be sent.
    expect(textOf(draft, "#detail dl.patient-card")).toContain("Guillaume BUNYEL");
    const sent = await postForm(s, back.headers.location, { ...hiddenFields(draft.html()), subject, body: "Un long texte\nà ne pas perdre.", action: "send" });
    expect(sent.status).toBe(303);
    expect(await app.db("conversations").where({ subject })).toHaveLength(1);
  });

  it("keeps a text over the 20,000-character limit whole: saved in the draft uncut, refused only when sent", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const subject = "Texte trop long avant expiration";
    const body = `${"Observation détaillée. ".repeat(1200)}Fin.`;
    expect(body.length).toBeGreaterThan(20_000);
    await expireEverySession("deleted");
    expect((await postForm(s, "/ps/conversations", { ...hidden, subject, body, action: "send" })).headers.location).toBe("/ps/login?expire=1");

    const back = await logIn(s.agent, drGene);
    expect(back.headers.location).toMatch(/^\/ps\/drafts\/\d+$/);
    expect((await app.db("drafts").where({ subject }).first("body")).body).toBe(body);
    const draft = $((await s.agent.get(back.headers.location)).text);
    expect(draft("textarea#body").text()).toBe(body);
    const refused = await postForm(s, back.headers.location, { ...hiddenFields(draft.html()), subject, body, action: "send" });
    expect(refused.status).toBe(422);
    expect(textOf($(refused.text), "#body-error")).toContain("ne peut pas dépasser 20000 caractères");
    expect((await app.db("drafts").where({ subject }).first("body")).body).toBe(body);
  });

  it("keeps a reply's text too, back in the reply form", async () => {
    const s = await signInPs(app, drGene);
    const id = (await app.db("conversations").where({ subject: "complément d'info PSE" }).first("id")).id;
    const form = await s.agent.get(`/ps/conversations/${id}/reply`);
    await expireEverySession("deleted");
    const res = await postForm(s, `/ps/conversations/${id}/messages`, { ...hiddenFields(form.text), body: "Réponse tapée avant expiration", action: "send" });
    expect(res.headers.location).toBe("/ps/login?expire=1");

    const back = await logIn(s.agent, drGene);
    expect(back.headers.location).toBe(`/ps/conversations/${id}/reply`);
    const page = $((await s.agent.get(back.headers.location)).text);
    expect(page("textarea#body").text()).toBe("Réponse tapée avant expiration");
  });

  it("with htmx, the expired post is told to go to login (HX-Redirect) and the text is still kept", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    await expireEverySession("deleted");
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "Tapé avec htmx", body: "Texte htmx", action: "send" }).set("HX-Request", "true");
    expect(res.status).toBe(204);
    expect(res.headers["hx-redirect"]).toBe("/ps/login?expire=1");
    const back = await logIn(s.agent, drGene);
    const draft = $((await s.agent.get(back.headers.location)).text);
    expect(draft("input#subject").val()).toBe("Tapé avec htmx");
  });

  it("does not hand the text to another doctor who logs in on the same browser", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    await expireEverySession("deleted");
    await postForm(s, "/ps/conversations", { ...hidden, subject: "Pour Gene seulement", body: "Texte privé de Gene", action: "send" });

    const other = await logIn(s.agent, drMezin);
    expect(other.status).toBe(303);
    expect(other.headers.location).not.toMatch(/drafts/);
    expect(await app.db("drafts").where({ subject: "Pour Gene seulement" })).toHaveLength(0);
    const mezinId = await practitionerId(app, drMezin);
    expect(await app.db("drafts").where({ author_practitioner_id: mezinId })).toHaveLength(0);
    const list = await s.agent.get("/ps/messages");
    expect(list.text).not.toContain("Pour Gene seulement");
    expect(list.text).not.toContain("Texte privé de Gene");
  });

  it("a post of a form signed for another doctor is not kept for them", async () => {
    // Dr Mezin's browser posts a form that Dr Gene's session signed: it names Gene, so only Gene may get it back.
    const gene = await signInPs(app, drGene);
    const { hidden } = await openCompose(gene, bunyel);
    const browser = request.agent(app.app);
    await browser.post("/ps/conversations").field({ ...hidden, subject: "Signé pour Gene", body: "x", action: "send" });
    const res = await logIn(browser, drMezin);
    expect(res.headers.location).not.toMatch(/drafts/);
    expect(await app.db("drafts").where({ subject: "Signé pour Gene" })).toHaveLength(0);
  });
});

describe("what the expired-session rescue refuses", () => {
  it("a post from another site is not kept (no planting of drafts cross-site)", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    await expireEverySession("deleted");
    const res = await s.agent
      .post("/ps/conversations")
      .set("Sec-Fetch-Site", "cross-site")
      .set("Origin", "https://evil.example")
      .field({ ...hidden, subject: "Planté depuis un autre site", body: "x", action: "send" });
    expect(res.headers.location).toBe("/ps/login?expire=1");
    const back = await logIn(s.agent, drGene);
    expect(back.headers.location).toBe("/ps");
    expect(await app.db("drafts").where({ subject: "Planté depuis un autre site" })).toHaveLength(0);
  });

  it("a form served more than a day ago is not kept", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const { signContext, readContext } = await import("../../src/domain/conversations/form-context.js");
    const context = readContext(app.config.sessionSecret, hidden._ctx)!;
    const realNow = Date.now;
    Date.now = () => realNow() - 25 * 3_600_000;
    const old = signContext(app.config.sessionSecret, context);
    Date.now = realNow;
    await expireEverySession("deleted");
    await s.agent.post("/ps/conversations").field({ ...hidden, _ctx: old, subject: "Formulaire trop ancien", body: "x", action: "send" });
    await logIn(s.agent, drGene);
    expect(await app.db("drafts").where({ subject: "Formulaire trop ancien" })).toHaveLength(0);
  });
});
