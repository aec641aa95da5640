import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { annaAin, drGene, signInAgent, signInPs, startTestApp, type TestApp } from "../helpers/app.js";
import { practitionerId } from "../helpers/ps.js";

/**
 * Issue 11 §11: a read mark is the reader's act. Another site sending the signed-in user to a thread (a top-level
 * link: the SameSite=Lax cookie goes with it) may show the thread, but never marks the other side's messages read
 * ([Lu] in the back office, the doctor's unread count).
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const unreadOf = async (conversationId: number, side: "ps" | "elsm") =>
  Number((await app.db("messages").where({ conversation_id: conversationId, side }).whereNull("read_at").count<{ n: number }[]>({ n: "*" }))[0].n);

describe("a thread opened from another site", () => {
  it("the doctor's thread: shown, traced, but the échelon's messages stay unread; opened from our pages, they are read", async () => {
    const gene = await signInPs(app, drGene);
    const c = await app
      .db("conversations")
      .where({ ps_practitioner_id: await practitionerId(app, drGene) })
      .where("ps_unread", ">", 0)
      .whereNull("ps_deleted_at")
      .first("id");
    expect(c, "the demo gives Dr GENE an unread thread").toBeTruthy();
    const before = await unreadOf(c.id, "elsm");
    expect(before).toBeGreaterThan(0);
    const audits = async () => Number((await app.db("audit_events").where({ action: "conversation.opened", object_id: c.id }).count<{ n: number }[]>({ n: "*" }))[0].n);
    const traced = await audits();

    for (const site of ["cross-site", "same-site"]) {
      const res = await gene.agent.get(`/ps/conversations/${c.id}`).set("Sec-Fetch-Site", site).set("Sec-Fetch-Mode", "navigate");
      expect(res.status).toBe(200);
      expect(await unreadOf(c.id, "elsm"), `${site}: still unread`).toBe(before);
    }
    expect(Number((await app.db("conversations").where({ id: c.id }).first("ps_unread")).ps_unread)).toBeGreaterThan(0);
    expect(await audits(), "each display is traced").toBe(traced + 2);

    await gene.agent.get(`/ps/conversations/${c.id}`).set("Sec-Fetch-Site", "same-origin").expect(200);
    expect(await unreadOf(c.id, "elsm")).toBe(0);
    expect(Number((await app.db("conversations").where({ id: c.id }).first("ps_unread")).ps_unread)).toBe(0);
  });

  it("the agent's thread: the doctor's messages get no [Lu] from a cross-site navigation, nor the tray's unread count; a bookmark (none) reads them", async () => {
    const anna = await signInAgent(app, annaAin);
    const c = await app
      .db("conversations as c")
      .join("elsms as e", "e.id", "c.elsm_id")
      .where("e.code", "ELSM 011")
      .where("c.elsm_unread", ">", 0)
      .first("c.id", "c.state", "c.elsm_id");
    expect(c, "the demo gives ELSM 011 an unread thread").toBeTruthy();
    const trayUnread = async () => Number((await app.db("tray_counts").where({ elsm_id: c.elsm_id, state: c.state }).first("unread")).unread);
    const before = { messages: await unreadOf(c.id, "ps"), tray: await trayUnread() };
    expect(before.messages).toBeGreaterThan(0);

    const res = await anna.agent.get(`/bo/conversations/${c.id}`).set("Sec-Fetch-Site", "cross-site").set("Sec-Fetch-Mode", "navigate");
    expect(res.status).toBe(200);
    expect(await unreadOf(c.id, "ps")).toBe(before.messages);
    expect(await trayUnread()).toBe(before.tray);

    await anna.agent.get(`/bo/conversations/${c.id}`).set("Sec-Fetch-Site", "none").expect(200);
    expect(await unreadOf(c.id, "ps")).toBe(0);
    expect(await trayUnread()).toBe(before.tray - 1);
  });
});
