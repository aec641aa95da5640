import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, drGene, marcDubois, paulHerault, signInAgent, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { conversationBySubject, elsmWrites, listRows, textAll } from "../helpers/ps.js";

/** Issue 13 §2: the échelon's internal notes on a thread, between colleagues, never on the doctor's side. */
let app: TestApp;
let anna: Session;
let threadId: number;
const SUBJECT = "Arrêt de travail durée maxi";
const LABEL = "Note interne — non visible du professionnel de santé";

beforeAll(async () => {
  app = await startTestApp();
  anna = await signInAgent(app, annaAin);
  threadId = (await conversationBySubject(app, SUBJECT)).id;
});
afterAll(async () => {
  await app.close();
});

function postNote(s: Session, id: number, note: string, headers: Record<string, string> = {}) {
  return s.agent.post(`/bo/conversations/${id}/notes`).set(headers).type("form").send({ _csrf: s.csrf, note });
}

async function notesOf(id: number) {
  return app.db("internal_notes").where({ conversation_id: id }).orderBy("id");
}

/** The rows that a note must not move: the thread, its tray's counters. */
async function standing(id: number) {
  const c = await app.db("conversations").where({ id }).first("state", "last_message_at", "last_message_side", "redacteur_agent_id", "elsm_unread", "ps_unread", "closed_at");
  const counts = await app.db("tray_counts").orderBy(["elsm_id", "state"]).select();
  return { c, counts };
}

describe("adding an internal note", () => {
  it("writes the note, redirects to the thread on it, and shows it labelled with its author and time", async () => {
    const res = await postNote(anna, threadId, "Voir avec le Dr MARTIN avant de répondre.\nDossier complet.");
    expect(res.status).toBe(303);
    const [note] = await notesOf(threadId);
    expect(note).toMatchObject({
      body: "Voir avec le Dr MARTIN avant de répondre.\nDossier complet.",
      author_agent_id: (await app.db("agents").where({ last_name: "AIN" }).first()).id,
    });
    expect(res.headers.location).toBe(`/bo/conversations/${threadId}?note=${note.id}#note-${note.id}`);
    const page = await anna.agent.get(res.headers.location);
    const $p = $(page.text);
    const li = $p(`#note-${note.id}`);
    expect(li.hasClass("internal-note")).toBe(true);
    expect(li.hasClass("message")).toBe(false);
    // Its heading is a h2 like the messages', labelled in words, with the author and the time.
    const head = li.find("h2").text().replace(/\s+/g, " ");
    expect(head).toContain(LABEL);
    expect(head).toContain("Anna AIN");
    expect(head).toMatch(/\d{1,2}\/\d{2}\/\d{4} \d{2}:\d{2}/);
    expect(li.find(".note-body").text()).toBe("Voir avec le Dr MARTIN avant de répondre.\nDossier complet.");
    // The focus goes to the new note when htmx swaps the page in; the flash says it was added.
    expect(li.attr("data-focus")).toBeDefined();
    expect(textAll(page.text, ".notice")).toContain("La note interne a été ajoutée");
    // Shown again without ?note=: no focus request.
    expect($((await anna.agent.get(`/bo/conversations/${threadId}`)).text)(`#note-${note.id}`).attr("data-focus")).toBeUndefined();
  });

  it("a colleague of the same ELSM sees the note; an agent of another ELSM gets a 404 and writes nothing", async () => {
    const marc = await signInAgent(app, marcDubois);
    const page = await marc.agent.get(`/bo/conversations/${threadId}`);
    expect(textAll(page.text, ".internal-note")).toContain("Voir avec le Dr MARTIN");
    const paul = await signInAgent(app, paulHerault);
    const before = (await notesOf(threadId)).length;
    const res = await postNote(paul, threadId, "Note d'un autre échelon");
    expect(res.status).toBe(404);
    expect(res.text).not.toContain(SUBJECT);
    expect(await notesOf(threadId)).toHaveLength(before);
    // A doctor, even the one party to the thread: 404, nothing written.
    const gene = await signInPs(app, drGene);
    expect((await postNote(gene, threadId, "Note d'un médecin")).status).toBe(404);
    expect(await notesOf(threadId)).toHaveLength(before);
  });

  it("is placed between the messages by time: a reply written after the note comes after it", async () => {
    const { id } = await app.db("conversations").where({ subject: "info ALD" }).first("id");
    await postNote(anna, id, "Note avant la réponse");
    await elsmWrites(app, "DUBOIS", id, "Réponse écrite après la note");
    const page = $((await anna.agent.get(`/bo/conversations/${id}`)).text);
    const items = page("ol.messages > li")
      .toArray()
      .map((li) => page(li).find(".note-body, .message-body").first().text());
    const note = items.indexOf("Note avant la réponse");
    expect(note).toBeGreaterThan(0);
    expect(items.indexOf("Réponse écrite après la note")).toBe(note + 1);
    expect(items.length).toBe((await app.db("messages").where({ conversation_id: id })).length + 1);
  });

  it("is traced: note.added, the note's id, never its text", async () => {
    const res = await postNote(anna, threadId, "Texte à ne jamais tracer");
    const noteId = Number(/note=(\d+)/.exec(res.headers.location)![1]);
    const rows = await app.db("audit_events").where({ action: "note.added", object_id: noteId });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ object_type: "note", actor_type: "agent" });
    expect(JSON.stringify(await app.db("audit_events").select())).not.toContain("Texte à ne jamais tracer");
  });
});

describe("bad input", () => {
  for (const [label, typed] of [
    ["empty", ""],
    ["only spaces and new lines", "   \r\n\t  "],
  ] as const) {
    it(`${label}: a French error on the field, nothing written`, async () => {
      const before = (await notesOf(threadId)).length;
      const res = await postNote(anna, threadId, typed);
      expect(res.status).toBe(422);
      const page = $(res.text);
      expect(page("#note-error").text()).toBe("Saisissez le texte de la note interne.");
      expect(page("#note").attr("aria-invalid")).toBe("true");
      expect(page('#error-summary a[href="#note"]').text()).toBe("Saisissez le texte de la note interne.");
      // The thread is still shown above the form.
      expect(page("#thread-title").text()).toBe(SUBJECT);
      expect(await notesOf(threadId)).toHaveLength(before);
    });
  }

  it("20 001 characters: refused with the whole text given back, never cut; 20 000 are accepted", async () => {
    const before = (await notesOf(threadId)).length;
    const long = `${"é".repeat(19_999)}xy`;
    const res = await postNote(anna, threadId, long);
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page("#note-error").text()).toContain("20000 caractères (20001 saisis)");
    expect(page("textarea#note").text()).toBe(long);
    expect(await notesOf(threadId)).toHaveLength(before);
    const exact = await postNote(anna, threadId, long.slice(0, 20_000));
    expect(exact.status).toBe(303);
    expect((await notesOf(threadId)).at(-1).body).toHaveLength(20_000);
  });

  it("a NUL character pasted in (from a binary file) is dropped: the note is written without it, never a 500", async () => {
    const res = await postNote(anna, threadId, "Avant\u0000après");
    expect(res.status).toBe(303);
    expect((await notesOf(threadId)).at(-1).body).toBe("Avantaprès");
  });

  it("a refused note neither opens the thread again nor marks anything read (traced as displayed)", async () => {
    const opened = await app.db("audit_events").where({ action: "conversation.opened", object_id: threadId }).count({ n: "*" });
    await postNote(anna, threadId, " ");
    expect(await app.db("audit_events").where({ action: "conversation.opened", object_id: threadId }).count({ n: "*" })).toEqual(opened);
    expect(await app.db("audit_events").where({ action: "conversation.displayed", object_id: threadId }).first()).toBeDefined();
  });

  it("a note on a thread that does not exist, or an id that is not one: 404", async () => {
    expect((await postNote(anna, 999_999, "x")).status).toBe(404);
    expect((await anna.agent.post("/bo/conversations/abc/notes").type("form").send({ _csrf: anna.csrf, note: "x" })).status).toBe(404);
  });

  it("without the CSRF token: refused, nothing written", async () => {
    const before = (await notesOf(threadId)).length;
    const res = await anna.agent.post(`/bo/conversations/${threadId}/notes`).type("form").send({ note: "Sans jeton" });
    expect(res.status).toBe(403);
    expect(await notesOf(threadId)).toHaveLength(before);
  });
});

describe("a note leaves the thread where it is", () => {
  it("no tray move, no unread count, no last_message_at nor Rédacteur, the list order unchanged", async () => {
    const trayBefore = listRows((await anna.agent.get("/bo/bannettes/a-traiter")).text).map((r) => r.href);
    const before = await standing(threadId);
    const marc = await signInAgent(app, marcDubois);
    expect((await postNote(marc, threadId, "Note de Marc")).status).toBe(303);
    expect(await standing(threadId)).toEqual(before);
    expect(listRows((await anna.agent.get("/bo/bannettes/a-traiter")).text).map((r) => r.href)).toEqual(trayBefore);
  });

  it("allowed on a closed thread, which stays closed (the échelon still cannot reply)", async () => {
    const { id } = await app.db("conversations").where({ subject: "Sans dossier" }).first("id");
    const before = await standing(id);
    expect(before.c.state).toBe("clos");
    const res = await postNote(anna, id, "Note après clôture");
    expect(res.status).toBe(303);
    expect(await standing(id)).toEqual(before);
    const page = $((await anna.agent.get(`/bo/conversations/${id}`)).text);
    expect(page(".internal-note .note-body").text()).toBe("Note après clôture");
    expect(page('a[href$="/reply"]').length).toBe(0);
  });
});

describe("never on the doctor's side", () => {
  const SECRET = "Secret entre agents : ne pas montrer au médecin";

  it("not on the doctor's thread page, reply page, list or search; no notification, none in the mails", async () => {
    const notifications = await app.db("notifications").count({ n: "*" });
    expect((await postNote(anna, threadId, SECRET)).status).toBe(303);
    expect(await app.db("notifications").count({ n: "*" })).toEqual(notifications);
    const gene = await signInPs(app, drGene);
    for (const url of ["/ps/messages", `/ps/conversations/${threadId}`, `/ps/conversations/${threadId}/reply`]) {
      const page = await gene.agent.get(url);
      expect(page.status, url).toBe(200);
      expect(page.text, url).not.toContain(SECRET);
      expect(page.text, url).not.toContain("Note interne");
    }
    await gene.agent.post("/ps/search").type("form").send({ _csrf: gene.csrf, nom: "BUNYEL", nir: "" });
    const results = await gene.agent.get("/ps/messages");
    expect(results.text).toContain(SUBJECT);
    expect(results.text).not.toContain(SECRET);
    // The échelon then answers: the doctor's notification mail carries nothing of the note.
    await elsmWrites(app, "AIN", threadId, "Réponse de l'échelon");
    await app.notifier.flush();
    const outbox = app.config.outboxDir;
    const mails = fs.existsSync(outbox) ? fs.readdirSync(outbox).map((f) => fs.readFileSync(path.join(outbox, f), "utf8")) : [];
    expect(mails.length).toBeGreaterThan(0);
    for (const mail of mails) expect(mail).not.toContain("Secret entre agents");
  });
});
