import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, bunyel, csrfFrom, drGene, drLeroy, drMezin, drRoux, fixture, hiddenFields, selectPatient, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { conversationBySubject, listRows, openCompose, postForm, signInAgentRaw, snapshot } from "../helpers/ps.js";

let app: TestApp;
let gene: Session;
let mezin: Session;
/** Gene's things that other people must not reach. */
let own: { conversation: number; draft: number; messageAttachment: number; draftAttachment: number; replyDraft: number };

beforeAll(async () => {
  app = await startTestApp();
  gene = await signInPs(app, drGene);
  mezin = await signInPs(app, drMezin);

  const sent = await postForm(gene, "/ps/conversations", { ...(await openCompose(gene, bunyel)).hidden, subject: "Privé Gene", body: "Confidentiel", action: "send" }, [
    { path: fixture("valid", "compte-rendu.pdf") },
  ]);
  const conversation = Number(sent.headers.location.split("/").pop());
  const draftRes = await postForm(gene, "/ps/conversations", { ...(await openCompose(gene, bunyel)).hidden, subject: "Brouillon privé", body: "Secret", action: "draft" }, [
    { path: fixture("valid", "radio.png") },
  ]);
  const draft = Number(draftRes.headers.location.split("/").pop());
  const replyForm = await gene.agent.get(`/ps/conversations/${conversation}/reply`);
  await postForm(gene, `/ps/conversations/${conversation}/messages`, { ...hiddenFields(replyForm.text), body: "Réponse en brouillon", action: "draft" });
  const message = await app.db("messages").where({ conversation_id: conversation }).first("id");
  own = {
    conversation,
    draft,
    messageAttachment: (await app.db("attachments").where({ message_id: message.id }).first("id")).id,
    draftAttachment: (await app.db("attachments").where({ draft_id: draft }).first("id")).id,
    replyDraft: (await app.db("drafts").where({ conversation_id: conversation }).first("id")).id,
  };
});
afterAll(async () => {
  await app.close();
});

describe("another doctor's records are not found (404), never hinted at", () => {
  it("a conversation: read, reply form, delete page", async () => {
    for (const path of [`/ps/conversations/${own.conversation}`, `/ps/conversations/${own.conversation}/reply`, `/ps/conversations/${own.conversation}/delete`]) {
      const res = await mezin.agent.get(path);
      expect(res.status, path).toBe(404);
      expect(res.text).not.toContain("Privé Gene");
    }
    expect(await app.db("messages").where({ conversation_id: own.conversation }).whereNotNull("read_at")).toHaveLength(0);
  });

  it("the same 404 as for an id that does not exist", async () => {
    const missing = await mezin.agent.get("/ps/conversations/999999");
    const hidden = await mezin.agent.get(`/ps/conversations/${own.conversation}`);
    expect(hidden.status).toBe(missing.status);
    expect($(hidden.text)("h1").text()).toBe($(missing.text)("h1").text());
    for (const id of ["abc", "0", "-1", "1e3", "99999999999999999999"]) {
      expect((await mezin.agent.get(`/ps/conversations/${id}`)).status, id).toBe(404);
    }
  });

  it("a conversation: replying and deleting it change nothing", async () => {
    const reply = await postForm(mezin, `/ps/conversations/${own.conversation}/messages`, { _csrf: mezin.csrf, body: "Intrusion", action: "send" });
    expect(reply.status).toBe(404);
    const del = await mezin.agent.post(`/ps/conversations/${own.conversation}/delete`).type("form").send({ _csrf: mezin.csrf });
    expect(del.status).toBe(404);
    expect(await app.db("messages").where({ body: "Intrusion" })).toHaveLength(0);
    expect((await app.db("conversations").where({ id: own.conversation }).first()).ps_deleted_at).toBeNull();
  });

  it("a draft: open, save over, send, delete", async () => {
    expect((await mezin.agent.get(`/ps/drafts/${own.draft}`)).status).toBe(404);
    const save = await postForm(mezin, `/ps/drafts/${own.draft}`, { _csrf: mezin.csrf, subject: "Volé", body: "Écrasé", action: "draft" });
    expect(save.status).toBe(404);
    const send = await postForm(mezin, `/ps/drafts/${own.draft}`, { _csrf: mezin.csrf, subject: "Volé", body: "Écrasé", action: "send" });
    expect(send.status).toBe(404);
    const del = await mezin.agent.post(`/ps/drafts/${own.draft}/delete`).type("form").send({ _csrf: mezin.csrf });
    expect(del.status).toBe(404);
    expect(await app.db("drafts").where({ id: own.draft }).first()).toMatchObject({ subject: "Brouillon privé", body: "Secret" });
    expect(await conversationBySubject(app, "Volé")).toBeUndefined();
  });

  it("a reply draft, smuggled into a reply to one's own conversation", async () => {
    expect((await mezin.agent.get(`/ps/drafts/${own.replyDraft}`)).status).toBe(404);
    const mine = (await conversationBySubject(app, "Recherche")).id;
    const form = await mezin.agent.get(`/ps/conversations/${mine}/reply`);
    const res = await postForm(mezin, `/ps/conversations/${mine}/messages`, { ...hiddenFields(form.text), draft_id: String(own.replyDraft), body: "Pris", action: "send" });
    expect(res.status).toBe(404);
    expect(await app.db("drafts").where({ id: own.replyDraft }).first()).toMatchObject({ body: "Réponse en brouillon" });
  });

  it("an ELSM-side draft", async () => {
    const elsmDraft = (await app.db("drafts").where({ side: "elsm" }).first("id")).id;
    expect((await gene.agent.get(`/ps/drafts/${elsmDraft}`)).status).toBe(404);
  });

  it("an attachment, on a sent message or on a draft", async () => {
    for (const id of [own.messageAttachment, own.draftAttachment]) {
      const res = await mezin.agent.get(`/ps/attachments/${id}`);
      expect(res.status).toBe(404);
      expect(res.headers["content-disposition"]).toBeUndefined();
    }
    // The owner does get them.
    expect((await gene.agent.get(`/ps/attachments/${own.messageAttachment}`)).status).toBe(200);
  });

  it("removing someone else's attachment through one's own draft does nothing", async () => {
    const { hidden } = await openCompose(mezin, { nir: "2851175123045", key: "45" });
    await postForm(mezin, "/ps/conversations", { ...hidden, subject: "Draft Mezin", body: "x", action: "draft", remove_attachment: String(own.draftAttachment) });
    expect(await app.db("attachments").where({ id: own.draftAttachment }).first()).toMatchObject({ draft_id: own.draft });
  });

  it("a structure's conversation, for a doctor of another structure and for a liberal doctor", async () => {
    const roux = await signInPs(app, drRoux);
    const sent = await postForm(roux, "/ps/conversations", {
      ...(await openCompose(roux, { nir: "2450201053456", key: "19" })).hidden,
      subject: "Privé Tilleuls",
      body: "x",
      action: "send",
    });
    const id = Number(sent.headers.location.split("/").pop());
    const leroy = await signInPs(app, drLeroy);
    expect((await leroy.agent.get(`/ps/conversations/${id}`)).status).toBe(404);
    expect((await gene.agent.get(`/ps/conversations/${id}`)).status).toBe(404);
  });
});

describe("sessions of the other side", () => {
  it("an agent's session gets 404 on every doctor page", async () => {
    const agent = await signInAgentRaw(app, "AIN");
    for (const path of ["/ps", "/ps/messages", "/ps/patient", `/ps/conversations/${own.conversation}`, `/ps/attachments/${own.messageAttachment}`, `/ps/drafts/${own.draft}`]) {
      expect((await agent.get(path)).status, path).toBe(404);
    }
    const page = await agent.get("/ps/messages");
    const res = await agent
      .post(`/ps/conversations/${own.conversation}/messages`)
      .type("form")
      .send({ _csrf: csrfFrom(page.text), body: "Depuis le BO", action: "send" });
    expect(res.status).toBe(404);
    expect(await app.db("messages").where({ body: "Depuis le BO" })).toHaveLength(0);
  });

  it("a doctor's session gets 404 on the back office", async () => {
    for (const path of ["/bo", "/bo/bannettes/a-traiter", "/bo/delais", `/bo/conversations/${own.conversation}`, `/bo/attachments/${own.messageAttachment}`]) {
      expect((await gene.agent.get(path)).status, path).toBe(404);
    }
  });
});

describe("without a session", () => {
  it("every doctor page redirects to the CPS login", async () => {
    for (const path of [
      "/ps",
      "/ps/messages",
      "/ps/patient",
      "/ps/conversations/new",
      `/ps/conversations/${own.conversation}`,
      `/ps/drafts/${own.draft}`,
      `/ps/attachments/${own.messageAttachment}`,
    ]) {
      const res = await request(app.app).get(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.location, path).toBe("/ps/login");
    }
  });

  it("a post is sent to login too, and changes nothing", async () => {
    const before = await snapshot(app);
    const posts = [
      request(app.app).post(`/ps/conversations/${own.conversation}/delete`).type("form").send({}),
      request(app.app).post(`/ps/conversations/${own.conversation}/messages`).field({ body: "Anonyme", action: "send" }),
      request(app.app).post(`/ps/drafts/${own.draft}/delete`).type("form").send({}),
    ];
    for (const res of await Promise.all(posts)) {
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe("/ps/login");
    }
    expect(await snapshot(app)).toEqual(before);
  });

  it("an htmx request is told where to log in instead of receiving the login page in place", async () => {
    const res = await request(app.app).get("/ps/messages").set("HX-Request", "true");
    expect(res.headers["hx-redirect"]).toBe("/ps/login");
    expect(res.text).toBe("");
  });

  it("after login the doctor lands on the page first asked for", async () => {
    const agent = request.agent(app.app);
    await agent.get(`/ps/conversations/${own.conversation}`);
    const page = await agent.get("/ps/login");
    const card = (await app.db("practitioners").where({ nam: drGene.nam }).first("id")).id;
    const res = await agent
      .post("/ps/login")
      .type("form")
      .send({ _csrf: csrfFrom(page.text), card: String(card), pin: "1234" });
    expect(res.headers.location).toBe(`/ps/conversations/${own.conversation}`);
  });
});

describe("CSRF", () => {
  it("a form posted without its token is refused (403) and changes nothing", async () => {
    const before = await snapshot(app);
    const { hidden } = await openCompose(gene, bunyel);
    const { _csrf: _, ...noToken } = hidden;
    const posts = [
      () => postForm(gene, "/ps/conversations", { ...noToken, subject: "Sans jeton", body: "x", action: "send" }, [{ path: fixture("valid", "photo.jpg") }]),
      () => postForm(gene, `/ps/conversations/${own.conversation}/messages`, { body: "Sans jeton", action: "send" }),
      () => postForm(gene, `/ps/drafts/${own.draft}`, { subject: "Sans jeton", body: "x", action: "draft" }),
      () => gene.agent.post(`/ps/drafts/${own.draft}/delete`).type("form").send({}),
      () => gene.agent.post(`/ps/conversations/${own.conversation}/delete`).type("form").send({}),
      () => gene.agent.post("/ps/patient/clear").type("form").send({}),
      () => gene.agent.post("/ps/search").type("form").send({ nom: "BUNYEL" }),
      () => gene.agent.post("/logout").type("form").send({}),
    ];
    for (const [i, post] of posts.entries()) {
      const res = await post();
      expect(res.status, `post #${i}`).toBe(403);
      expect($(res.text)("h1").text()).toBe("Action refusée");
    }
    expect(await snapshot(app)).toEqual(before);
    const page = $((await gene.agent.get("/ps/messages")).text);
    expect(page("#patient-panel dl.patient-card").length).toBe(1);
    expect(page("#search-nom").val()).toBe("");
  });

  it("a wrong or another session's token is refused too", async () => {
    const wrong = await gene.agent.post(`/ps/conversations/${own.conversation}/delete`).type("form").send({ _csrf: "forged-token" });
    expect(wrong.status).toBe(403);
    const borrowed = await gene.agent.post(`/ps/conversations/${own.conversation}/delete`).type("form").send({ _csrf: mezin.csrf });
    expect(borrowed.status).toBe(403);
    expect((await app.db("conversations").where({ id: own.conversation }).first()).ps_deleted_at).toBeNull();
  });

  it("the login form needs its token", async () => {
    const card = (await app.db("practitioners").where({ nam: drGene.nam }).first("id")).id;
    const res = await request(app.app)
      .post("/ps/login")
      .type("form")
      .send({ card: String(card), pin: "1234" });
    expect(res.status).toBe(403);
  });
});

describe("GET never changes state", () => {
  it("state-changing URLs fetched with GET do nothing", async () => {
    await selectPatient(gene, bunyel);
    const before = await snapshot(app);
    const gets = [
      `/ps/conversations/${own.conversation}/delete`,
      `/ps/drafts/${own.draft}/delete`,
      "/ps/patient/clear",
      "/ps/search?nom=ZZZ",
      "/ps/search/reset",
      "/logout",
      "/ps/patient/nir?nir=1700469387111&key=72",
      `/ps/conversations/${own.conversation}/messages?body=x&action=send`,
    ];
    for (const path of gets) expect((await gene.agent.get(path)).status, path).not.toBe(500);
    expect(await snapshot(app)).toEqual(before);
    const page = $((await gene.agent.get("/ps/messages")).text);
    expect(page(".banner .who").text()).toContain("GENE");
    expect(page("#patient-panel dl.patient-card").length).toBe(1);
    expect(listRows(page.html()).some((r) => r.subject.replace("[Brouillon] ", "") === "Privé Gene")).toBe(true);
  });

  it("browsing every link of the doctor's pages changes nothing but read marks and the audit trail", async () => {
    const before = await snapshot(app);
    const seen = new Set<string>();
    const queue = ["/ps", "/ps/messages", "/ps/patient"];
    while (queue.length && seen.size < 60) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await gene.agent.get(path);
      if (!(res.headers["content-type"] ?? "").startsWith("text/html")) continue;
      const page = $(res.text);
      page("a[href^='/ps']").each((_, a) => {
        queue.push(page(a).attr("href")!);
      });
    }
    expect(seen.size).toBeGreaterThan(10);
    expect(await snapshot(app)).toEqual(before);
  });
});
