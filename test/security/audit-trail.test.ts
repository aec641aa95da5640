import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { purgeAudit } from "../../src/domain/audit/retention.js";
import { annaAin, bunyel, drGene, fixture, hiddenFields, selectPatient, signInAgent, signInPs, startTestApp, type TestApp, closeReasonId } from "../helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const actions = async () => (await app.db("audit_events").orderBy("id").select("action")).map((r) => r.action);

describe("audit trail", () => {
  it("records every traced action with who, organisation, object id and address, and never content, subject, NIR or search terms", async () => {
    const card = await app.db("practitioners").where({ nam: drGene.nam }).first();
    const { agent } = await import("supertest");
    const browser = agent(app.app);
    const login = await browser.get("/ps/login");
    const token = (await import("../helpers/app.js")).csrfFrom(login.text);
    await browser
      .post("/ps/login")
      .type("form")
      .send({ _csrf: token, card: String(card.id), pin: "0000" });

    const gene = await signInPs(app, drGene);
    await selectPatient(gene, bunyel);
    const form = await gene.agent.get("/ps/conversations/new");
    const draft = await gene.agent
      .post("/ps/conversations")
      .field({ ...hiddenFields(form.text), subject: "Sujet à ne pas tracer", body: "Corps à ne pas tracer", action: "draft" });
    const reopened = await gene.agent.get(draft.headers.location);
    const sent = await gene.agent
      .post(draft.headers.location)
      .field({ ...hiddenFields(reopened.text), subject: "Sujet à ne pas tracer", body: "Corps à ne pas tracer", action: "send" })
      .attach("attachments", fixture("valid", "photo.jpg"));
    const id = Number(sent.headers.location.split("/").pop());
    await gene.agent.get(`/ps/conversations/${id}`);
    const attachment = await app.db("attachments").join("messages", "messages.id", "attachments.message_id").where("messages.conversation_id", id).first("attachments.id");
    await gene.agent.get(`/ps/attachments/${attachment.id}`);
    await gene.agent.post("/ps/search").type("form").send({ _csrf: gene.csrf, nom: "BUNYEL", nir: bunyel.nir });

    const anna = await signInAgent(app, annaAin);
    await anna.agent
      .post(`/bo/conversations/${id}/close`)
      .type("form")
      .send({ _csrf: anna.csrf, reason_id: await closeReasonId(app) });
    const replyForm = await gene.agent.get(`/ps/conversations/${id}/reply`);
    await gene.agent.post(`/ps/conversations/${id}/messages`).field({ ...hiddenFields(replyForm.text), body: "Relance", action: "send" });
    await gene.agent.post(`/ps/conversations/${id}/delete`).type("form").send({ _csrf: gene.csrf });
    await gene.agent.post("/logout").type("form").send({ _csrf: gene.csrf });

    const seen = await actions();
    for (const action of [
      "login.failed_pin",
      "login",
      "draft.saved",
      "message.sent",
      "conversation.opened",
      "attachment.downloaded",
      "search",
      "conversation.closed",
      "conversation.reopened",
      "conversation.deleted",
      "logout",
    ]) {
      expect(seen, action).toContain(action);
    }
    const rows = await app.db("audit_events").select();
    const opened = rows.find((r) => r.action === "conversation.opened" && r.object_id === id);
    expect(opened).toMatchObject({ actor_type: "practitioner", actor_id: card.id, org_type: "practitioner", org_id: card.id, object_type: "conversation" });
    expect(opened.ip).toMatch(/127\.0\.0\.1/);
    const all = JSON.stringify(rows);
    for (const secret of ["Sujet à ne pas tracer", "Corps à ne pas tracer", bunyel.nir, "BUNYEL", "Relance"]) expect(all).not.toContain(secret);
  });

  it("is append-only: the database refuses updates and deletes", async () => {
    await expect(app.db("audit_events").update({ action: "login" })).rejects.toThrow(/append-only/);
    await expect(app.db("audit_events").del()).rejects.toThrow(/append-only/);
  });

  it("the retention purge removes only rows older than the period, and the guard closes again", async () => {
    const old = new Date(Date.now() - 200 * 86_400_000).toISOString();
    await app.db("audit_events").insert({ at: old, actor_type: "anonymous", action: "login", ip: "test" });
    const before = (await app.db("audit_events").select("id")).length;
    const deleted = await purgeAudit(app.db, 183);
    expect(deleted).toBe(1);
    expect((await app.db("audit_events").select("id")).length).toBe(before - 1);
    await expect(app.db("audit_events").del()).rejects.toThrow(/append-only/);
  });
});
