import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, drGene, hiddenFields, marcDubois, paulHerault, signInAgent, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { conversationBySubject, textOf } from "../helpers/ps.js";

/** Issue 14 §4, the échelon's side: « Marquer comme non lu » on a back-office thread, for the échelon only. */
let app: TestApp;
let anna: Session;
beforeAll(async () => {
  app = await startTestApp();
  anna = await signInAgent(app, annaAin);
});
afterAll(async () => {
  await app.close();
});

const idOf = async (subject: string) => Number((await conversationBySubject(app, subject)).id);
const markUnread = (s: Session, id: number, headers: Record<string, string> = {}) =>
  s.agent.post(`/bo/conversations/${id}/unread`).set(headers).type("form").send({ _csrf: s.csrf });

/** The open tray's tab as shown: "(5 · 1 non lu)", or "(5)" when everything is read. */
function tabCount(html: string): string {
  const count = $(html)('nav .tabs a[aria-current="page"] .count');
  return (count.find('[aria-hidden="true"]').text() || count.text()).trim();
}
/** The row of a thread in the list column: shown unread (bold, « Non lu : »), and whether it carries [Lu]. */
function row(html: string, id: number) {
  const page = $(html);
  const li = page(`#list a.item-link[href="/bo/conversations/${id}"]`).closest("li.item");
  return { listed: li.length === 1, unread: li.hasClass("unread"), spokenUnread: li.find(".visually-hidden").text().includes("Non lu"), lu: li.find('[id$="-lu"]').length === 1 };
}
const trayUnread = async (id: number) => {
  const c = await app.db("conversations").where({ id }).first("elsm_id", "state");
  return Number((await app.db("tray_counts").where({ elsm_id: c.elsm_id, state: c.state }).first("unread")).unread);
};
const readMarks = (id: number) => app.db("messages").where({ conversation_id: id }).orderBy("id").select("id", "read_at");

describe("an agent marks a thread unread", () => {
  it("lands on the tray with the notice, the row shown unread, the tab's « non lus » and the unread filter counting it", async () => {
    const id = await idOf("ALD - demande d'info critères HAS");
    await anna.agent.get("/bo/bannettes/a-traiter");
    const thread = await anna.agent.get(`/bo/conversations/${id}`);
    const form = $(thread.text)(`#thread-actions form[action="/bo/conversations/${id}/unread"]`);
    expect(form.find('input[name="_csrf"]').val()).toBeTruthy();
    expect(form.find("button").text().trim()).toBe("Marquer comme non lu");
    const before = await anna.agent.get("/bo/bannettes/a-traiter");
    expect(row(before.text, id)).toMatchObject({ listed: true, unread: false });
    const unreadBefore = await trayUnread(id);

    const res = await markUnread(anna, id);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/bo/bannettes/a-traiter");
    const tray = await anna.agent.get(res.headers.location);
    expect(textOf($(tray.text), "main .notice")).toBe("La conversation est marquée comme non lue.");
    expect(row(tray.text, id)).toMatchObject({ listed: true, unread: true, spokenUnread: true });
    expect(await trayUnread(id)).toBe(unreadBefore + 1);
    expect(tabCount(tray.text)).toMatch(new RegExp(`· ${unreadBefore + 1} non lus?\\)$`));
    // « Non lus seulement »: listed, and counted in the heading from tray_counts.
    const filtered = await anna.agent.get("/bo/bannettes/a-traiter?non_lus=1");
    expect(row(filtered.text, id).listed).toBe(true);
    expect(textOf($(filtered.text), "#list-title")).toBe(`A TRAITER — non lus (${unreadBefore + 1})`);
    // Shared by the échelon: a colleague sees it unread too.
    const marc = await signInAgent(app, marcDubois);
    expect(row((await marc.agent.get("/bo/bannettes/a-traiter")).text, id).unread).toBe(true);
    expect(await app.db("conversations").where({ id }).first("elsm_unread", "elsm_marked_unread", "ps_unread", "ps_marked_unread")).toMatchObject({
      elsm_unread: 1,
      ps_unread: 0,
    });
  });

  it("traces the mark by ids only", async () => {
    const id = await idOf("ALD - demande d'info critères HAS");
    const agent = await app.db("agents").where({ last_name: "AIN" }).first("id", "elsm_id");
    const rows = await app.db("audit_events").where({ action: "conversation.marked_unread", object_id: id });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_type: "agent", actor_id: agent.id, org_type: "elsm", org_id: agent.elsm_id, object_type: "conversation" });
  });

  it("never clears the doctor's read receipts: the doctor still reads « Lu par l'échelon » on their message", async () => {
    const id = await idOf("ALD - demande d'info critères HAS");
    const marks = await readMarks(id);
    expect(marks.every((m) => m.read_at)).toBe(true);
    const gene = await signInPs(app, drGene);
    const page = $((await gene.agent.get(`/ps/conversations/${id}`)).text);
    expect(page(".message-ps .read-state").last().text()).toMatch(/^Lu par l'échelon le /);
    // The doctor's opening marked nothing of the échelon's: the mark stays.
    expect(row((await anna.agent.get("/bo/bannettes/a-traiter")).text, id).unread).toBe(true);
  });

  it("opening the thread again clears the mark and the counts, leaving the read times as they were", async () => {
    const id = await idOf("ALD - demande d'info critères HAS");
    const marks = await readMarks(id);
    const unread = await trayUnread(id);
    await anna.agent.get(`/bo/conversations/${id}`);
    const tray = await anna.agent.get("/bo/bannettes/a-traiter");
    expect(row(tray.text, id).unread).toBe(false);
    expect(await trayUnread(id)).toBe(unread - 1);
    expect(await app.db("conversations").where({ id }).first("elsm_unread")).toMatchObject({ elsm_unread: 0 });
    expect(Boolean((await app.db("conversations").where({ id }).first("elsm_marked_unread")).elsm_marked_unread)).toBe(false);
    expect(await readMarks(id)).toEqual(marks);
  });

  it("keeps the [Lu] of the doctor's reading on the row and on the échelon's own messages", async () => {
    const id = await idOf("RV pour échange confraternel");
    await anna.agent.get("/bo/bannettes/en-cours");
    const thread = $((await anna.agent.get(`/bo/conversations/${id}`)).text);
    expect(thread(".message-elsm .read-state").last().text()).toMatch(/^Lu par le destinataire le /);
    const marks = await readMarks(id);
    const res = await markUnread(anna, id);
    expect(res.headers.location).toBe("/bo/bannettes/en-cours");
    const tray = await anna.agent.get(res.headers.location);
    expect(row(tray.text, id)).toMatchObject({ unread: true, lu: true });
    expect(await readMarks(id)).toEqual(marks);
    // Seen without opening it (the reply page): still unread, still « Lu par le destinataire ».
    await anna.agent.get(`/bo/conversations/${id}/reply`);
    expect(row((await anna.agent.get("/bo/bannettes/en-cours")).text, id).unread).toBe(true);
    await anna.agent.get(`/bo/conversations/${id}`);
  });

  it("returns to the tray as it was shown (order and filters), not to the thread", async () => {
    const id = await idOf("complément d'info PSE");
    await anna.agent.get("/bo/bannettes/en-cours?ordre=anciennes&non_lus=1");
    await anna.agent.get(`/bo/conversations/${id}`);
    const res = await markUnread(anna, id);
    expect(res.headers.location).toBe("/bo/bannettes/en-cours?ordre=anciennes&non_lus=1");
    expect(row((await anna.agent.get(res.headers.location)).text, id)).toMatchObject({ listed: true, unread: true });
    await anna.agent.get(`/bo/conversations/${id}`);
  });

  it("with htmx: the same redirect, and the tray page it lands on comes as a fragment with the notice", async () => {
    const id = await idOf("complément d'info PSE");
    await anna.agent.get("/bo/bannettes/en-cours");
    await anna.agent.get(`/bo/conversations/${id}`);
    const htmx = { "HX-Request": "true", "HX-Request-Type": "partial" };
    const res = await markUnread(anna, id, { ...htmx, "X-CSRF-Token": anna.csrf });
    expect(res.status).toBe(303);
    const tray = await anna.agent.get(res.headers.location).set(htmx);
    expect(tray.text).not.toContain("<html");
    expect(textOf($(tray.text), ".notice")).toBe("La conversation est marquée comme non lue.");
    expect(row(tray.text, id).unread).toBe(true);
    await anna.agent.get(`/bo/conversations/${id}`);
  });
});

describe("marking a thread already unread", () => {
  it("a message not read yet: nothing changes, and the notice says it already is (never an error)", async () => {
    const id = await idOf("info ALD");
    const before = await app.db("conversations").where({ id }).first("elsm_unread", "elsm_marked_unread");
    const unread = await trayUnread(id);
    const res = await markUnread(anna, id);
    expect(res.status).toBe(303);
    expect(textOf($((await anna.agent.get(res.headers.location)).text), "main .notice")).toBe("La conversation est déjà non lue.");
    expect(await app.db("conversations").where({ id }).first("elsm_unread", "elsm_marked_unread")).toEqual(before);
    expect(await trayUnread(id)).toBe(unread);
    expect(await app.db("audit_events").where({ action: "conversation.marked_unread", object_id: id })).toHaveLength(0);
  });

  it("marked twice (a double click, two agents): counted once", async () => {
    const id = await idOf("ALD - demande d'info critères HAS");
    await anna.agent.get(`/bo/conversations/${id}`);
    const unread = await trayUnread(id);
    const marc = await signInAgent(app, marcDubois);
    const [first, second] = await Promise.all([markUnread(anna, id), markUnread(marc, id)]);
    expect([first.status, second.status]).toEqual([303, 303]);
    expect(await trayUnread(id)).toBe(unread + 1);
    expect(await app.db("conversations").where({ id }).first("elsm_unread")).toMatchObject({ elsm_unread: 1 });
    await anna.agent.get(`/bo/conversations/${id}`);
  });

  it("a closed thread can be marked too: counted unread in CLOS", async () => {
    const id = await idOf("Sans dossier");
    await anna.agent.get("/bo/bannettes/clos");
    await anna.agent.get(`/bo/conversations/${id}`);
    const unread = await trayUnread(id);
    const res = await markUnread(anna, id);
    expect(res.headers.location).toBe("/bo/bannettes/clos");
    expect(await trayUnread(id)).toBe(unread + 1);
    expect(tabCount((await anna.agent.get(res.headers.location)).text)).toMatch(/· \d+ non lus?\)$/);
    await anna.agent.get(`/bo/conversations/${id}`);
  });
});

describe("who may mark a back-office thread unread", () => {
  it("an agent of another ELSM, a doctor (even the thread's own), a GET: 404, nothing marked; no CSRF token: refused", async () => {
    const id = await idOf("ALD - demande d'info critères HAS");
    await anna.agent.get(`/bo/conversations/${id}`);
    const before = await app.db("conversations").where({ id }).first("elsm_unread", "elsm_marked_unread", "ps_unread", "ps_marked_unread");
    const paul = await signInAgent(app, paulHerault);
    expect((await markUnread(paul, id)).status).toBe(404);
    const gene = await signInPs(app, drGene);
    expect((await markUnread(gene, id)).status).toBe(404);
    expect((await anna.agent.get(`/bo/conversations/${id}/unread`)).status).toBe(404);
    expect((await anna.agent.post(`/bo/conversations/${id}/unread`).type("form").send({})).status).toBe(403);
    expect((await markUnread(anna, 999_999)).status).toBe(404);
    expect((await anna.agent.post("/bo/conversations/abc/unread").type("form").send({ _csrf: anna.csrf })).status).toBe(404);
    expect(await app.db("conversations").where({ id }).first("elsm_unread", "elsm_marked_unread", "ps_unread", "ps_marked_unread")).toEqual(before);
  });
});

describe("derived counters with marks", () => {
  it("tray_counts and the unread counters kept through marks equal a full recount (recountDerived counts the marks)", async () => {
    const { recountDerived } = await import("../../src/domain/conversations/counters.js");
    const gene = await signInPs(app, drGene);
    for (const subject of ["ALD - demande d'info critères HAS", "Arrêt de travail durée maxi"]) {
      const id = await idOf(subject);
      await anna.agent.get(`/bo/conversations/${id}`);
      await markUnread(anna, id);
      await gene.agent.get(`/ps/conversations/${id}`);
      await gene.agent.post(`/ps/conversations/${id}/unread`).type("form").send({ _csrf: gene.csrf });
    }
    const snapshot = async () => ({
      trays: (await app.db("tray_counts").orderBy(["elsm_id", "state"]).select("elsm_id", "state", "n", "unread", "patient", "patient_unread"))
        .map((r) => ({ ...r, n: Number(r.n), unread: Number(r.unread), patient: Number(r.patient), patient_unread: Number(r.patient_unread) }))
        .filter((r) => r.n > 0),
      unread: (await app.db("conversations").orderBy("id").select("id", "ps_unread", "elsm_unread", "ps_marked_unread", "elsm_marked_unread")).map((r) => ({
        ...r,
        ps_unread: Number(r.ps_unread),
        elsm_unread: Number(r.elsm_unread),
        ps_marked_unread: Boolean(r.ps_marked_unread),
        elsm_marked_unread: Boolean(r.elsm_marked_unread),
      })),
    });
    const kept = await snapshot();
    expect(kept.unread.filter((c) => c.ps_marked_unread)).toHaveLength(2);
    expect(kept.unread.filter((c) => c.elsm_marked_unread)).toHaveLength(2);
    await recountDerived(app.db);
    expect(await snapshot()).toEqual(kept);
  });

  it("a doctor's message into a marked thread keeps it unread; opening it clears both, and the counts still equal a recount", async () => {
    const { recountDerived } = await import("../../src/domain/conversations/counters.js");
    const id = await idOf("Arrêt de travail durée maxi");
    const gene = await signInPs(app, drGene);
    const form = await gene.agent.get(`/ps/conversations/${id}/reply`);
    const sent = await gene.agent.post(`/ps/conversations/${id}/messages`).field({ ...hiddenFields(form.text), body: "Un complément", action: "send" });
    expect(sent.status).toBe(303);
    expect(row((await anna.agent.get("/bo/bannettes/a-traiter")).text, id).unread).toBe(true);
    const counts = async () => app.db("tray_counts").orderBy(["elsm_id", "state"]).select("elsm_id", "state", "n", "unread", "patient", "patient_unread");
    const kept = await counts();
    await recountDerived(app.db);
    expect(await counts()).toEqual(kept);
    await anna.agent.get(`/bo/conversations/${id}`);
    expect(await app.db("conversations").where({ id }).first("elsm_unread")).toMatchObject({ elsm_unread: 0 });
    expect(row((await anna.agent.get("/bo/bannettes/a-traiter")).text, id).unread).toBe(false);
    const after = await counts();
    await recountDerived(app.db);
    expect(await counts()).toEqual(after);
  });
});
