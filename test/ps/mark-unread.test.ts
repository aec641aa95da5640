import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, drBenali, drGene, drMezin, drRoux, signInAgent, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { conversationBySubject, listRows, textOf } from "../helpers/ps.js";

/** Issue 14 §4, the doctor's side: « Marquer comme non lu » on their thread, for their side only. */
let app: TestApp;
let gene: Session;
beforeAll(async () => {
  app = await startTestApp();
  gene = await signInPs(app, drGene);
});
afterAll(async () => {
  await app.close();
});

const idOf = async (subject: string) => Number((await conversationBySubject(app, subject)).id);
const markUnread = (s: Session, id: number) => s.agent.post(`/ps/conversations/${id}/unread`).type("form").send({ _csrf: s.csrf });
/** "ÉCHANGES MÉDICAUX (n)" of the list column: n. */
const headerCount = (html: string) => Number(/\((\d+)\)/.exec(textOf($(html), "#list-title"))?.[1]);
const rowOf = (html: string, id: number) => listRows(html).find((r) => r.href === `/ps/conversations/${id}`);
const readMarks = (id: number) => app.db("messages").where({ conversation_id: id }).orderBy("id").select("id", "read_at");
const SUBJECT = "RV pour échange confraternel";

describe("a doctor marks a thread unread", () => {
  it("lands on the list with the notice, the row shown unread and counted in ÉCHANGES MÉDICAUX (n)", async () => {
    const id = await idOf(SUBJECT);
    const thread = await gene.agent.get(`/ps/conversations/${id}`);
    const form = $(thread.text)(`#thread-actions form[action="/ps/conversations/${id}/unread"]`);
    expect(form.find('input[name="_csrf"]').val()).toBeTruthy();
    expect(form.find("button").text().trim()).toBe("Marquer comme non lu");
    const before = await gene.agent.get("/ps/messages");
    expect(rowOf(before.text, id)?.unread).toBe(false);
    const count = headerCount(before.text);

    const res = await markUnread(gene, id);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/ps/messages");
    const list = await gene.agent.get(res.headers.location);
    expect(textOf($(list.text), "main .notice")).toBe("La conversation est marquée comme non lue.");
    expect(rowOf(list.text, id)?.unread).toBe(true);
    expect(headerCount(list.text)).toBe(count + 1);
    expect(textOf($(list.text), "#list-title .visually-hidden")).toBe(`— ${count + 1} conversations non lues`);
    const agent = await app.db("practitioners").where({ nam: drGene.nam }).first("id");
    expect(await app.db("audit_events").where({ action: "conversation.marked_unread", object_id: id })).toMatchObject([
      { actor_type: "practitioner", actor_id: agent.id, org_type: "practitioner", object_type: "conversation" },
    ]);
  });

  it("never clears the échelon's [Lu]: its row and its thread still say the doctor read its message", async () => {
    const id = await idOf(SUBJECT);
    const anna = await signInAgent(app, annaAin);
    const tray = $((await anna.agent.get("/bo/bannettes/en-cours")).text);
    const li = tray(`#list a.item-link[href="/bo/conversations/${id}"]`).closest("li.item");
    expect(li.find('[id$="-lu"]').text()).toContain("[Lu]");
    const marks = await readMarks(id);
    const thread = $((await anna.agent.get(`/bo/conversations/${id}`)).text);
    expect(thread(".message-elsm .read-state").last().text()).toMatch(/^Lu par le destinataire le /);
    // The échelon's opening is its own: the doctor's mark stays, the read times too.
    expect(rowOf((await gene.agent.get("/ps/messages")).text, id)?.unread).toBe(true);
    expect(await readMarks(id)).toEqual(marks);
  });

  it("opening it again clears the mark and the count", async () => {
    const id = await idOf(SUBJECT);
    const count = headerCount((await gene.agent.get("/ps/messages")).text);
    await gene.agent.get(`/ps/conversations/${id}`);
    const list = await gene.agent.get("/ps/messages");
    expect(rowOf(list.text, id)?.unread).toBe(false);
    expect(headerCount(list.text)).toBe(count - 1);
    const c = await app.db("conversations").where({ id }).first("ps_unread", "ps_marked_unread");
    expect([Number(c.ps_unread), Boolean(c.ps_marked_unread)]).toEqual([0, false]);
  });

  it("a thread with a message not read yet: nothing changes, the notice says it already is", async () => {
    const id = await idOf("Durée arrêt de travail Lombalgie");
    const before = await app.db("conversations").where({ id }).first("ps_unread", "ps_marked_unread");
    const count = headerCount((await gene.agent.get("/ps/messages")).text);
    const res = await markUnread(gene, id);
    expect(res.status).toBe(303);
    const list = await gene.agent.get(res.headers.location);
    expect(textOf($(list.text), "main .notice")).toBe("La conversation est déjà non lue.");
    expect(headerCount(list.text)).toBe(count);
    expect(await app.db("conversations").where({ id }).first("ps_unread", "ps_marked_unread")).toEqual(before);
  });

  it("marked twice: counted once, the second says it already is", async () => {
    const id = await idOf("Arrêt de travail durée maxi");
    const count = headerCount((await gene.agent.get("/ps/messages")).text);
    await markUnread(gene, id);
    const again = await markUnread(gene, id);
    expect(textOf($((await gene.agent.get(again.headers.location)).text), "main .notice")).toBe("La conversation est déjà non lue.");
    expect(headerCount((await gene.agent.get("/ps/messages")).text)).toBe(count + 1);
    await gene.agent.get(`/ps/conversations/${id}`);
  });
});

describe("a structure's thread", () => {
  it("is marked for the structure's side: its other doctors see it unread too (they share the list)", async () => {
    const id = await idOf("Suivi ALD diabète");
    const roux = await signInPs(app, drRoux);
    const benali = await signInPs(app, drBenali);
    await roux.agent.get(`/ps/conversations/${id}`);
    const before = await benali.agent.get("/ps/messages");
    expect(rowOf(before.text, id)?.unread).toBe(false);
    await markUnread(roux, id);
    const list = await benali.agent.get("/ps/messages");
    expect(rowOf(list.text, id)?.unread).toBe(true);
    expect(headerCount(list.text)).toBe(headerCount(before.text) + 1);
  });
});

describe("who may mark a doctor's thread unread", () => {
  it("another doctor, an agent (even of the thread's échelon), a GET: 404, nothing marked; no CSRF token: refused", async () => {
    const id = await idOf(SUBJECT);
    const before = await app.db("conversations").where({ id }).first("ps_unread", "ps_marked_unread", "elsm_unread", "elsm_marked_unread");
    const mezin = await signInPs(app, drMezin);
    expect((await markUnread(mezin, id)).status).toBe(404);
    const anna = await signInAgent(app, annaAin);
    expect((await markUnread(anna, id)).status).toBe(404);
    expect((await gene.agent.get(`/ps/conversations/${id}/unread`)).status).toBe(404);
    expect((await gene.agent.post(`/ps/conversations/${id}/unread`).type("form").send({})).status).toBe(403);
    expect((await markUnread(gene, 999_999)).status).toBe(404);
    expect(await app.db("conversations").where({ id }).first("ps_unread", "ps_marked_unread", "elsm_unread", "elsm_marked_unread")).toEqual(before);
  });

  it("a thread the doctor deleted: 404, never marked", async () => {
    const id = await idOf("complément d'info PSE");
    await gene.agent.post(`/ps/conversations/${id}/delete`).type("form").send({ _csrf: gene.csrf });
    const res = await markUnread(gene, id);
    expect(res.status).toBe(404);
    expect(Boolean((await app.db("conversations").where({ id }).first("ps_marked_unread")).ps_marked_unread)).toBe(false);
  });
});
