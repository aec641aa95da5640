import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, csrfFrom, drGene, drMezin, startTestApp, type TestApp } from "../helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ LOGIN_LIMIT_PER_ADDRESS: "4", LOGIN_LIMIT_PER_CARD: "2" });
});
afterAll(async () => {
  await app.close();
});

async function attempt(browser: ReturnType<typeof request.agent>, nam: string, pin: string) {
  const card = await app.db("practitioners").where({ nam }).first("id");
  const page = await browser.get("/ps/login");
  return browser
    .post("/ps/login")
    .type("form")
    .send({ _csrf: csrfFrom(page.text), card: String(card.id), pin });
}

describe("login rate limits (shared through the database)", () => {
  it("per card: past the limit, even the right PIN gets a French 429 page", async () => {
    const browser = request.agent(app.app);
    expect((await attempt(browser, drGene.nam, "1111")).status).toBe(422);
    expect((await attempt(browser, drGene.nam, "2222")).status).toBe(422);
    const limited = await attempt(browser, drGene.nam, "1234");
    expect(limited.status).toBe(429);
    expect($(limited.text)("h1").text()).toBe("Trop de tentatives");
    expect(limited.headers["ratelimit-policy"]).toBeDefined();
  });

  it("per address: failures on several cards add up", async () => {
    const browser = request.agent(app.app);
    await attempt(browser, drMezin.nam, "1111");
    const res = await attempt(browser, drMezin.nam, "2222");
    expect([422, 429]).toContain(res.status);
    const rows = await app.db("rate_limits").where("key", "like", "login-ip:%");
    expect(rows.length).toBe(1);
    expect(Number(rows[0].hits)).toBeGreaterThanOrEqual(4);
    const card = await app.db("practitioners").where({ nam: "971609219" }).first("id");
    const page = await browser.get("/ps/login");
    const blocked = await browser
      .post("/ps/login")
      .type("form")
      .send({ _csrf: csrfFrom(page.text), card: String(card.id), pin: "1234" });
    expect(blocked.status).toBe(429);
  });
});

describe("the per-card limit cannot be sidestepped", () => {
  it("by writing the card id with leading zeros", async () => {
    const limited = await startTestApp({ LOGIN_LIMIT_PER_ADDRESS: "100", LOGIN_LIMIT_PER_CARD: "2" });
    try {
      const card = (await limited.db("practitioners").where({ nam: drMezin.nam }).first("id")).id;
      const browser = request.agent(limited.app);
      const statuses: number[] = [];
      for (const written of [String(card), `0${card}`, `00${card}`]) {
        const page = await browser.get("/ps/login");
        statuses.push(
          (
            await browser
              .post("/ps/login")
              .type("form")
              .send({ _csrf: csrfFrom(page.text), card: written, pin: "9999" })
          ).status,
        );
      }
      expect(statuses).toEqual([422, 422, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe("a hospital behind one address (NAT), default limits", () => {
  let hospital: TestApp;
  beforeAll(async () => {
    hospital = await startTestApp();
  });
  afterAll(async () => {
    await hospital.close();
  });

  it("one person's 30 failed logins block their cards, not a colleague signing in from the same address", async () => {
    const someone = request.agent(hospital.app);
    const cards = (await hospital.db("practitioners").whereNot({ nam: drGene.nam }).orderBy("id").limit(3).select("id")).map((r) => String(r.id));
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const page = await someone.get("/ps/login");
      statuses.push(
        (
          await someone
            .post("/ps/login")
            .type("form")
            .send({ _csrf: csrfFrom(page.text), card: cards[i % cards.length], pin: "0000" })
        ).status,
      );
    }
    // Their own cards are blocked then limited (the card's rule), every attempt refused.
    expect(statuses.every((s) => s === 422 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    // The colleague at the next desk, same public address, right PIN: signed in.
    const colleague = request.agent(hospital.app);
    const card = await hospital.db("practitioners").where({ nam: drGene.nam }).first("id");
    const page = await colleague.get("/ps/login");
    const res = await colleague
      .post("/ps/login")
      .type("form")
      .send({ _csrf: csrfFrom(page.text), card: String(card.id), pin: "1234" });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/ps");
  });
});
