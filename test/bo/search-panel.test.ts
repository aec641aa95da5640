import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, signInAgent, startTestApp, type TestApp } from "../helpers/app.js";

/** Issue 10: after a search the RECHERCHE panel folds to one line of criteria, so the tray stays near the top. */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

describe("the back-office search panel after a search", () => {
  it("is open on the search page until a search is made", async () => {
    const anna = await signInAgent(app, annaAin);
    const page = $((await anna.agent.get("/bo/recherche")).text);
    expect(page("details.search").attr("open")).toBeDefined();
    expect(page("#search-toggle").text().trim()).toBe("Recherche");
    expect(page("#search-criteria").length).toBe(0);
  });

  it("folds under a summary of the criteria, its summary reading « Modifier la recherche », the typed values kept in the form", async () => {
    const anna = await signInAgent(app, annaAin);
    await anna.agent.post("/bo/recherche").type("form").send({ _csrf: anna.csrf, patient_nir: "1700469387111", patient_nom: "bunyel", agent_nom: "ain" });
    const response = await anna.agent.get("/bo/recherche");
    const page = $(response.text);
    expect(page("details.search").attr("open")).toBeUndefined();
    expect(page("#search-toggle").text().trim()).toBe("Modifier la recherche");
    expect(page("#search-criteria").text().replace(/\s+/g, " ").trim()).toBe("Recherche : NIR 1700469387111, Nom du patient bunyel, Nom de l'agent ain");
    // The form inside the folded panel still holds every criterion, to be changed without retyping.
    expect(page("#s-patient-nir").val()).toBe("1700469387111");
    expect(page("#s-patient-nom").val()).toBe("bunyel");
    // The criteria are shown on the agent's own page, never put in an address.
    const addresses = page("a[href], form[action]")
      .map((_, el) => page(el).attr("href") ?? page(el).attr("action"))
      .get()
      .join(" ");
    expect(addresses).not.toMatch(/1700469387111|bunyel/i);
    expect(response.headers["hx-push-url"] ?? "").toBe("");
  });

  it("is a plain RECHERCHE panel again on a tray, and after RÉINITIALISER", async () => {
    const anna = await signInAgent(app, annaAin);
    await anna.agent.post("/bo/recherche").type("form").send({ _csrf: anna.csrf, patient_nir: "1700469387111" });
    const tray = $((await anna.agent.get("/bo/bannettes/a-traiter")).text);
    expect(tray("#search-criteria").length).toBe(0);
    expect(tray("#search-toggle").text().trim()).toBe("Recherche");
    await anna.agent.post("/bo/recherche/reinitialiser").type("form").send({ _csrf: anna.csrf });
    const cleared = $((await anna.agent.get("/bo/recherche")).text);
    expect(cleared("#search-criteria").length).toBe(0);
    expect(cleared("details.search").attr("open")).toBeDefined();
  });
});
