import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, bunyel, csrfFrom, drGene, signInPs, startTestApp, type TestApp } from "../helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

function sessionCookie(res: request.Response): string {
  const cookies = ([] as string[]).concat(res.headers["set-cookie"] ?? []);
  return cookies.find((c) => c.startsWith("ems.sid=") || c.startsWith("__Host-ems.sid=")) ?? "";
}

describe("sessions", () => {
  it("live in the database, behind an HttpOnly SameSite cookie", async () => {
    const browser = request.agent(app.app);
    const page = await browser.get("/ps/login");
    const card = await app.db("practitioners").where({ nam: drGene.nam }).first("id");
    const res = await browser
      .post("/ps/login")
      .type("form")
      .send({ _csrf: csrfFrom(page.text), card: String(card.id), pin: "1234" });
    const cookie = sessionCookie(res);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    const sid = decodeURIComponent(cookie.split(";")[0]!.split("=")[1]!).slice(2).split(".")[0];
    const row = await app.db("sessions").where({ sid }).first();
    expect(JSON.parse(row.data).user).toMatchObject({ kind: "ps", practitionerId: card.id });
  });

  it("over TLS the cookie is Secure and named __Host-", async () => {
    const tls = await startTestApp({ COOKIE_SECURE: "true", TRUST_PROXY: "true" });
    try {
      const res = await request(tls.app).get("/ps/login").set("X-Forwarded-Proto", "https");
      const cookie = sessionCookie(res);
      expect(cookie.startsWith("__Host-ems.sid=")).toBe(true);
      expect(cookie).toMatch(/Secure/);
      expect(res.headers["strict-transport-security"]).toBeDefined();
    } finally {
      await tls.close();
    }
  });

  it("a session id set before login is not the one used after (no fixation)", async () => {
    const browser = request.agent(app.app);
    const page = await browser.get("/ps/login");
    const before = sessionCookie(page).split(";")[0];
    const card = await app.db("practitioners").where({ nam: drGene.nam }).first("id");
    const res = await browser
      .post("/ps/login")
      .type("form")
      .send({ _csrf: csrfFrom(page.text), card: String(card.id), pin: "1234" });
    const after = sessionCookie(res).split(";")[0];
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);
    const replay = await request(app.app).get("/ps/messages").set("Cookie", before!);
    expect(replay.status).toBe(303);
  });

  it("a logged-out cookie replayed gets the login page", async () => {
    const s = await signInPs(app, drGene);
    const page = await s.agent.get("/ps/messages");
    expect(page.status).toBe(200);
    const cookie = (s.agent as unknown as { jar: { getCookie(name: string, opts: unknown): { toValueString(): string } } }).jar
      .getCookie("ems.sid", { domain: "127.0.0.1", path: "/", secure: false, script: false })
      ?.toValueString();
    await s.agent.post("/logout").type("form").send({ _csrf: s.csrf });
    const replay = await request(app.app)
      .get("/ps/messages")
      .set("Cookie", cookie ?? "");
    expect(replay.status).toBe(303);
    expect(replay.headers.location).toBe("/ps/login");
  });

  it("ends after the idle timeout (server side)", async () => {
    const s = await signInPs(app, drGene);
    const practitioner = await app.db("practitioners").where({ nam: drGene.nam }).first("id");
    const rows = (await app.db("sessions").select()).filter((r) => JSON.parse(r.data).user?.practitionerId === practitioner.id);
    await app
      .db("sessions")
      .whereIn(
        "sid",
        rows.map((r) => r.sid),
      )
      .update({ expires_at: Date.now() - 1000 });
    const res = await s.agent.get("/ps/messages");
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/ps/login?expire=1");
  });

  it("ends after its absolute lifetime, however active", async () => {
    const s = await signInPs(app, drGene);
    const rows = await app.db("sessions").select();
    for (const r of rows) {
      const data = JSON.parse(r.data);
      if (data.user)
        await app
          .db("sessions")
          .where({ sid: r.sid })
          .update({ data: JSON.stringify({ ...data, startedAt: Date.now() - 13 * 3_600_000 }) });
    }
    const res = await s.agent.get("/ps/messages");
    expect(res.status).toBe(303);
  });

  it("past its absolute lifetime keeps nothing of the user: no search terms, no patient, no beneficiaries offered", async () => {
    const s = await signInPs(app, drGene);
    await s.agent.post("/ps/search").type("form").send({ _csrf: s.csrf, nom: "BUNYEL", nir: "" });
    await s.agent.post("/ps/patient/nir").type("form").send({ _csrf: s.csrf, nir: bunyel.nir, key: bunyel.key });
    const stored = async () => (await app.db("sessions").select("sid", "data")).map((r) => ({ sid: r.sid as string, data: JSON.parse(r.data) }));
    const mine = (await stored()).find((r) => r.data.user?.kind === "ps" && r.data.psSearch?.nom === "BUNYEL");
    expect(mine?.data.patientCandidates?.length).toBeGreaterThan(1);
    await app
      .db("sessions")
      .where({ sid: mine!.sid })
      .update({ data: JSON.stringify({ ...mine!.data, startedAt: Date.now() - 13 * 3_600_000 }) });
    expect((await s.agent.get("/ps/messages")).status).toBe(303);
    const after = (await stored()).find((r) => r.sid === mine!.sid)?.data ?? {};
    expect(Object.keys(after).filter((k) => k !== "cookie" && k !== "returnTo")).toEqual([]);
  });

  it("can be extended from the warning dialog, which every signed-in page carries", async () => {
    const s = await signInPs(app, drGene);
    const page = $((await s.agent.get("/ps/messages")).text);
    expect(page("dialog#session-dialog button#session-extend").text()).toBe("Prolonger la session");
    expect(page("#session-note").text()).toMatch(/se terminera à \d{2}:\d{2}/);
    expect((await s.agent.post("/session/prolonger").set("X-CSRF-Token", s.csrf)).status).toBe(204);
    expect((await s.agent.post("/session/prolonger")).status).toBe(403);
  });
});

describe("production defaults", () => {
  it("cookies are Secure in production unless turned off, and error pages show no stack trace", async () => {
    const { loadConfig } = await import("../../src/config.js");
    const prod = loadConfig({ NODE_ENV: "production", SESSION_SECRET: "x".repeat(32) });
    expect(prod.secureCookies).toBe(true);
    expect(prod.showErrorDetails).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", SESSION_SECRET: "x".repeat(32), COOKIE_SECURE: "false" }).secureCookies).toBe(false);
    expect(loadConfig({}).showErrorDetails).toBe(false);
    expect(loadConfig({ NODE_ENV: "development" }).showErrorDetails).toBe(true);
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/SESSION_SECRET/);
  });
});
