import request from "supertest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { $, startTestApp, type TestApp } from "../helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

it("the home page offers both spaces and every footer link leads to a page with its own title", async () => {
  const home = $((await request(app.app).get("/")).text);
  expect(
    home("main a")
      .map((_, a) => home(a).text())
      .get(),
  ).toEqual(["Espace professionnel de santé", "Espace échelon médical"]);
  const titles = new Set<string>();
  for (const href of home("footer a[href^='/']")
    .map((_, a) => home(a).attr("href"))
    .get()) {
    const res = await request(app.app).get(href);
    expect(res.status, href).toBe(200);
    const page = $(res.text);
    expect(page("h1")).toHaveLength(1);
    titles.add(page("title").text());
  }
  expect(titles.size).toBe(3);
});

it("the accessibility statement states the conformance level and the tests behind it", async () => {
  const page = $((await request(app.app).get("/accessibilite")).text);
  expect(page("h1").text()).toBe("Déclaration d'accessibilité");
  expect(page("main").text()).toContain("RGAA");
  expect(page("main").text()).toContain("axe-core");
});

it("/healthz checks the database", async () => {
  const res = await request(app.app).get("/healthz");
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ status: "ok" });
});
