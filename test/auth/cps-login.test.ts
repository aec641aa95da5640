import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, bunyel, csrfFrom, drBenali, drGene, drLeroy, drLuanikazuzi, drMartin, drMezin, drRoux, selectPatient, signInPs, startTestApp, type TestApp } from "../helpers/app.js";
import { practitionerId, setCookie, sidOf, textOf } from "../helpers/ps.js";

let app: TestApp;
// Many failed logins come from the one test address: the per-address limit (tested on its own) is raised here.
beforeAll(async () => {
  app = await startTestApp({ LOGIN_LIMIT_PER_ADDRESS: "1000" });
});
afterAll(async () => {
  await app.close();
});

const COOKIE = "ems.sid";

async function loginPage() {
  const agent = request.agent(app.app);
  const page = await agent.get("/ps/login");
  return { agent, page, csrf: csrfFrom(page.text) };
}

async function tryPin(who: { nam: string }, pin: string) {
  const { agent, csrf } = await loginPage();
  return agent
    .post("/ps/login")
    .type("form")
    .send({ _csrf: csrf, card: String(await practitionerId(app, who)), pin });
}

describe("home page", () => {
  it("links the doctors' and the medical service's spaces", async () => {
    const page = $((await request(app.app).get("/")).text);
    expect(page('a:contains("Espace professionnel de santé")').attr("href")).toBe("/ps/login");
    expect(page('a:contains("Espace échelon médical")').length).toBe(1);
  });
});

describe("CPS card login page", () => {
  it("offers a select labelled Carte CPS, a Code PIN field and a Se connecter button", async () => {
    const page = $((await request(app.app).get("/ps/login")).text);
    const selectId = page('label:contains("Carte CPS")').attr("for");
    expect(page(`select#${selectId}[name=card]`).length).toBe(1);
    const pinId = page('label:contains("Code PIN")').attr("for");
    expect(page(`input#${pinId}[name=pin][type=password]`).length).toBe(1);
    expect(page('form[action="/ps/login"] button[type=submit]').text().trim()).toBe("Se connecter");
  });

  it("names each liberal doctor's card by holder and N°AM, and a salaried doctor's by structure and FINESS", async () => {
    const page = $((await request(app.app).get("/ps/login")).text);
    const label = async (who: { nam: string }) => page(`select[name=card] option[value="${await practitionerId(app, who)}"]`).text();
    expect(await label(drGene)).toContain("Alain GENE");
    expect(await label(drGene)).toContain("991101197");
    expect(await label(drRoux)).toContain("CENTRE DE SANTE LES TILLEULS");
    expect(await label(drRoux)).toContain("010012345");
    expect(await label(drLeroy)).toContain("CLINIQUE DU PARC");
    expect(await label(drLeroy)).toContain("340098765");
  });
});

describe("signing in with the CPS card", () => {
  it("with the demo PIN 1234 lands on the Services patient page", async () => {
    const res = await tryPin(drGene, "1234");
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/ps");
  });

  it("with a wrong PIN is refused with a clear French error and the card kept selected", async () => {
    const res = await tryPin(drMezin, "0000");
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(textOf(page, ".error-summary[role=alert] li")).toBe("Code PIN erroné. Il vous reste 2 essais avant le blocage de la carte.");
    // The summary leads to the field at fault, which says why it is invalid.
    expect(page(".error-summary a").attr("href")).toBe("#pin");
    expect(page("#pin").attr("aria-invalid")).toBe("true");
    expect(page("#pin").attr("aria-describedby")).toContain("pin-error");
    expect(page(`select[name=card] option[value="${await practitionerId(app, drMezin)}"]`).attr("selected")).toBeDefined();
  });

  it("without choosing a card asks for one", async () => {
    const { agent, csrf } = await loginPage();
    const res = await agent.post("/ps/login").type("form").send({ _csrf: csrf, card: "", pin: "1234" });
    expect(res.status).toBe(422);
    expect(textOf($(res.text), ".error-summary")).toContain("Sélectionnez votre carte CPS");
  });

  it("blocks the card after three wrong PINs, even when the right PIN follows", async () => {
    const first = await tryPin(drLuanikazuzi, "1111");
    expect(textOf($(first.text), ".error-summary")).toContain("Il vous reste 2 essais");
    const second = await tryPin(drLuanikazuzi, "2222");
    expect(textOf($(second.text), ".error-summary")).toContain("Il vous reste 1 essai avant");
    const third = await tryPin(drLuanikazuzi, "3333");
    expect(textOf($(third.text), ".error-summary")).toContain("bloquée");

    const right = await tryPin(drLuanikazuzi, "1234");
    expect(right.status).toBe(422);
    expect(textOf($(right.text), ".error-summary")).toContain("Cette carte CPS est bloquée");
    const row = await app.db("practitioners").where({ nam: drLuanikazuzi.nam }).first();
    expect(row.card_blocked_at).not.toBeNull();
  });

  it("blocks only that card: another doctor still signs in", async () => {
    await app.db("practitioners").where({ nam: drMartin.nam }).update({ failed_pin_attempts: 0, card_blocked_at: new Date().toISOString() });
    expect((await tryPin(drMartin, "1234")).status).toBe(422);
    expect((await tryPin(drBenali, "1234")).status).toBe(303);
  });

  it("starts the count again after a successful login (two wrong PINs, the right one, two wrong again: not blocked)", async () => {
    const who = drLeroy;
    await tryPin(who, "9999");
    await tryPin(who, "9998");
    expect((await tryPin(who, "1234")).status).toBe(303);
    await tryPin(who, "9997");
    await tryPin(who, "9996");
    expect((await tryPin(who, "1234")).status).toBe(303);
  });

  it("blocks the card when three wrong PINs arrive at the same time (no parallel brute force)", async () => {
    const who = drRoux;
    const results = await Promise.all(["1000", "1001", "1002", "1003"].map((pin) => tryPin(who, pin)));
    expect(results.every((r) => r.status === 422)).toBe(true);
    const row = await app.db("practitioners").where({ nam: who.nam }).first();
    expect(row.failed_pin_attempts, "wrong PINs counted").toBeGreaterThanOrEqual(3);
    expect(row.card_blocked_at).not.toBeNull();
    expect((await tryPin(who, "1234")).status).toBe(422);
  });
});

describe("the session", () => {
  it("is regenerated at login: the pre-login cookie no longer opens anything", async () => {
    const { agent, page, csrf } = await loginPage();
    const before = setCookie(page, COOKIE);
    expect(before).toBeDefined();
    const res = await agent
      .post("/ps/login")
      .type("form")
      .send({ _csrf: csrf, card: String(await practitionerId(app, drGene)), pin: "1234" });
    const after = setCookie(res, COOKIE);
    expect(after).toBeDefined();
    expect(sidOf(after!)).not.toBe(sidOf(before!));
    expect(
      await app
        .db("sessions")
        .where({ sid: sidOf(before!) })
        .first(),
    ).toBeUndefined();

    // Someone who planted or kept the old cookie is not signed in.
    const planted = await request(app.app)
      .get("/ps/messages")
      .set("Cookie", `${COOKIE}=${encodeURIComponent(before!)}`);
    expect(planted.status).toBe(303);
    expect(planted.headers.location).toBe("/ps/login");
    expect((await agent.get("/ps/messages")).status).toBe(200);
  });

  it("is destroyed at logout: the session row is gone and its cookie opens nothing", async () => {
    const res = await tryPin(drGene, "1234");
    const cookie = setCookie(res, COOKIE)!;
    const sid = sidOf(cookie);
    expect(await app.db("sessions").where({ sid }).first()).toBeDefined();
    const agent = request.agent(app.app);
    const page = await agent.get("/ps/messages").set("Cookie", `${COOKIE}=${encodeURIComponent(cookie)}`);
    expect(page.status).toBe(200);
    const out = await agent
      .post("/logout")
      .set("Cookie", `${COOKIE}=${encodeURIComponent(cookie)}`)
      .type("form")
      .send({ _csrf: csrfFrom(page.text) });
    expect(out.status).toBe(303);
    expect(out.headers.location).toMatch(/^\/ps\/login/);
    expect(await app.db("sessions").where({ sid }).first()).toBeUndefined();
    const replay = await request(app.app)
      .get("/ps/messages")
      .set("Cookie", `${COOKIE}=${encodeURIComponent(cookie)}`);
    expect(replay.status).toBe(303);
    expect(replay.headers.location).toBe("/ps/login");
  });

  it("logging out forgets the selected patient", async () => {
    const s = await signInPs(app, drGene);
    await selectPatient(s, bunyel);
    await s.agent.post("/logout").type("form").send({ _csrf: s.csrf });
    const again = await signInPs(app, drGene);
    expect($((await again.agent.get("/ps/messages")).text)("#patient-panel dl.patient-card").length).toBe(0);
  });
});

describe("after login", () => {
  it("every page offers Se déconnecter", async () => {
    const s = await signInPs(app, drGene);
    await selectPatient(s, bunyel);
    const id = (await app.db("conversations").where({ subject: "info ALD" }).first("id")).id;
    for (const path of [
      "/ps",
      "/ps/messages",
      "/ps/patient",
      "/ps/conversations/new",
      `/ps/conversations/${id}`,
      `/ps/conversations/${id}/reply`,
      `/ps/conversations/${id}/delete`,
      "/ps/conversations/999999",
    ]) {
      const page = $((await s.agent.get(path)).text);
      expect(page('form[action="/logout"][method=post] button').text().trim(), path).toBe("Se déconnecter");
    }
  });

  it("the Services patient page leads to the service through its Contacter link", async () => {
    const s = await signInPs(app, drGene);
    const page = $((await s.agent.get("/ps")).text);
    expect(textOf(page, "h1")).toBe("Services patient");
    const entry = page('li:contains("Échanges médicaux sécurisés")');
    const link = entry.find("a");
    expect(link.text().trim()).toBe("Contacter");
    expect((await s.agent.get(link.attr("href")!)).status).toBe(200);
    expect(link.attr("href")).toBe("/ps/messages");
    expect(textOf(page, ".banner .who")).toContain("Dr Alain GENE");
  });

  it("a salaried doctor is shown as the structure (raison sociale and FINESS) with their own name beside it", async () => {
    const s = await signInPs(app, drBenali);
    const portal = $((await s.agent.get("/ps")).text);
    for (const text of [textOf(portal, ".identity-card"), textOf(portal, ".banner .who")]) {
      expect(text).toContain("Dr Karim BENALI — CENTRE DE SANTE LES TILLEULS (FINESS 010012345)");
    }
    const list = $((await s.agent.get("/ps/messages")).text);
    expect(textOf(list, ".banner .who")).toContain("Dr Karim BENALI — CENTRE DE SANTE LES TILLEULS (FINESS 010012345)");
  });
});
