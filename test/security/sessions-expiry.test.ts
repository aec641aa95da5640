import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, arnaud, drGene, hiddenFields, signInAgent, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { openCompose, postForm } from "../helpers/ps.js";

/**
 * Issue 12 §2–3: the session warning tells the truth. The keep-alive (typing, "Prolonger") is activity that moves the
 * stored deadline; every signed-in answer says how long is left; an expired session is told as such on the login
 * page, with or without JavaScript; the autosave writes the draft without a page, and the form's next post takes it.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const IDLE_MS = 30 * 60_000;

/** The stored row of this signed-in session (csrf-sync keeps the token in it). */
async function sessionRow(s: Session): Promise<{ sid: string; expires_at: number }> {
  const rows = await app.db("sessions").select("sid", "data", "expires_at");
  const row = rows.find((r) => JSON.parse(r.data).csrfToken === s.csrf);
  if (!row) throw new Error("session row not found");
  return { sid: row.sid, expires_at: Number(row.expires_at) };
}

async function expire(s: Session): Promise<void> {
  await app
    .db("sessions")
    .where({ sid: (await sessionRow(s)).sid })
    .update({ expires_at: Date.now() - 1000 });
}

describe("the keep-alive and the deadline shown", () => {
  it("the keep-alive POST is activity: it writes the new deadline at once (not a minute later) and says how long is left", async () => {
    const s = await signInPs(app, drGene);
    await s.agent.get("/ps/messages");
    const { sid } = await sessionRow(s);
    await app
      .db("sessions")
      .where({ sid })
      .update({ expires_at: Date.now() + 5000 });
    const res = await s.agent.post("/session/prolonger").set("X-CSRF-Token", s.csrf);
    expect(res.status).toBe(204);
    expect(Number(res.headers["x-session-remaining"])).toBe(IDLE_MS);
    const stored = await sessionRow(s);
    expect(stored.expires_at).toBeGreaterThan(Date.now() + IDLE_MS - 10_000);
  });

  it("with a short limit (SESSION_IDLE_SECONDS), the keep-alive stores the deadline counted from itself, not from the login", async () => {
    const short = await startTestApp({ SESSION_IDLE_SECONDS: "4" });
    try {
      const s = await signInPs(short, drGene);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const res = await s.agent.post("/session/prolonger").set("X-CSRF-Token", s.csrf);
      expect(res.status).toBe(204);
      expect(res.headers["x-session-remaining"]).toBe("4000");
      const rows = await short.db("sessions").select("data", "expires_at");
      const row = rows.find((r) => JSON.parse(r.data).csrfToken === s.csrf);
      expect(Number(row?.expires_at)).toBeGreaterThan(Date.now() + 3000);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      // Past the login's 4 s, still signed in: the keep-alive was activity.
      expect((await s.agent.get("/ps/messages")).status).toBe(200);
    } finally {
      await short.close();
    }
  });

  it("a page states the real time left (meta and header) and, without JavaScript, its end time in Paris time", async () => {
    const s = await signInPs(app, drGene);
    const res = await s.agent.get("/ps/messages");
    const page = $(res.text);
    const left = Number(page('meta[name="session-remaining-ms"]').attr("content"));
    expect(left).toBeGreaterThan(IDLE_MS - 70_000);
    expect(left).toBeLessThanOrEqual(IDLE_MS);
    expect(Number(res.headers["x-session-remaining"])).toBe(left);
    expect(page('meta[name="session-idle-ms"]').attr("content")).toBe(String(IDLE_MS));
    expect(page("#session-note").text()).toMatch(/se terminera à \d{2}:\d{2} \(heure de Paris\)/);
    expect(page("#session-remaining").text()).not.toBe("2 minutes");
  });
});

describe("an expired session is told so", () => {
  it("an htmx click after expiry: a full-page redirect to the login page with the reason, which the page states", async () => {
    const s = await signInPs(app, drGene);
    await expire(s);
    const res = await s.agent.get("/ps/messages").set("HX-Request", "true").set("HX-Request-Type", "partial");
    expect(res.status).toBe(204);
    expect(res.headers["hx-redirect"]).toBe("/ps/login?expire=1");
    const login = $((await s.agent.get(res.headers["hx-redirect"])).text);
    expect(login('.notice[role="status"]').text()).toBe("Votre session a expiré : reconnectez-vous.");
  });

  it("without JavaScript: a plain GET after expiry redirects to the login page with the reason (back office too)", async () => {
    const s = await signInAgent(app, annaAin);
    await expire(s);
    const res = await s.agent.get("/bo/bannettes/a-traiter");
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/bo/login?expire=1");
    const login = $((await s.agent.get(res.headers.location)).text);
    expect(login('.notice[role="status"]').text()).toBe("Votre session a expiré : reconnectez-vous.");
    // Told once: the next visit without a session is a plain login.
    expect((await s.agent.get("/bo/bannettes/a-traiter")).headers.location).toBe("/bo/login");
  });

  it("a browser that never signed in is sent to the login page without a word of expiry", async () => {
    const res = await request(app.app).get("/ps/messages");
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/ps/login");
    expect($((await request(app.app).get("/ps/login")).text)(".notice").length).toBe(0);
  });

  it("the logout is confirmed on the login page of both sides; after it no expiry is claimed", async () => {
    const s = await signInPs(app, drGene);
    const out = await s.agent.post("/logout").type("form").send({ _csrf: s.csrf });
    expect(out.headers.location).toBe("/ps/login?deconnecte=1");
    expect($((await s.agent.get(out.headers.location)).text)('.notice[role="status"]').text()).toBe("Vous avez été déconnecté.");
    expect($((await request(app.app).get("/bo/login?deconnecte=1")).text)('.notice[role="status"]').text()).toBe("Vous avez été déconnecté.");
    expect((await s.agent.get("/ps/messages")).headers.location).toBe("/ps/login");
  });
});

describe("the autosave before the session ends", () => {
  it("a new question saved in the background: 204 naming the draft, its version and the form's next action; ENVOYER then sends it, no conflict", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, arnaud);
    const saved = await postForm(s, "/ps/conversations", { ...hidden, subject: "Sauvegarde automatique", body: "Début du texte", action: "draft" }).set("X-Autosave", "1");
    expect(saved.status).toBe(204);
    const draftId = saved.headers["x-draft-id"];
    expect(saved.headers["x-draft-action"]).toBe(`/ps/drafts/${draftId}`);
    expect(saved.headers["x-draft-href"]).toBe(`/ps/drafts/${draftId}`);
    const draft = await app
      .db("drafts")
      .where({ id: Number(draftId) })
      .first();
    expect(draft.body).toBe("Début du texte");
    expect(saved.headers["x-draft-version"]).toBe(draft.updated_at);
    // The flash of a manual save is not left for the next page.
    expect($((await s.agent.get("/ps/messages")).text)(".notice").text()).not.toContain("brouillon a été enregistré");

    const sent = await postForm(s, saved.headers["x-draft-action"], {
      ...hidden,
      draft_id: draftId,
      draft_version: saved.headers["x-draft-version"],
      subject: "Sauvegarde automatique",
      body: "Début du texte, puis la suite tapée après la sauvegarde",
      action: "send",
    });
    expect(sent.status).toBe(303);
    expect(sent.headers.location).toMatch(/^\/ps\/conversations\/\d+$/);
    expect(
      await app
        .db("drafts")
        .where({ id: Number(draftId) })
        .first(),
    ).toBeUndefined();
  });

  it("a reply saved in the background keeps the reply's action; the send with the draft's new version is not a conflict", async () => {
    const anna = await signInAgent(app, annaAin);
    const model = await app.db("conversations").where({ subject: "info ALD" }).first();
    const { id: _id, ...rest } = model;
    const [row] = await app
      .db("conversations")
      .insert({ ...rest, subject: "Autosave réponse" })
      .returning("id");
    const id = Number(typeof row === "object" ? row.id : row);
    await app
      .db("messages")
      .insert({ conversation_id: id, side: "ps", body: "Question du médecin", author_practitioner_id: model.started_by_practitioner_id, sent_at: model.last_message_at });
    const form = hiddenFields((await anna.agent.get(`/bo/conversations/${id}/reply`)).text);
    const action = `/bo/conversations/${id}/messages`;
    const saved = await postForm(anna, action, { ...form, body: "Réponse en cours", action: "draft" }).set("X-Autosave", "1");
    expect(saved.status).toBe(204);
    expect(saved.headers["x-draft-action"]).toBe(action);
    const sent = await postForm(anna, action, {
      ...form,
      draft_id: saved.headers["x-draft-id"],
      draft_version: saved.headers["x-draft-version"],
      body: "Réponse en cours, terminée",
      action: "send",
    });
    expect(sent.status).toBe(303);
    expect(sent.headers.location).toBe(`/bo/conversations/${id}`);
  });
});
