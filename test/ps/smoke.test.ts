import { afterAll, beforeAll, expect, it } from "vitest";
import { $, bunyel, drGene, fixture, hiddenFields, selectPatient, signInPs, startTestApp, type TestApp } from "../helpers/app.js";

let app: TestApp;
beforeAll(async () => { app = await startTestApp(); });
afterAll(async () => { await app.close(); });

it("smoke: doctor sends a question with an attachment", async () => {
  const s = await signInPs(app, drGene);
  const list = await s.agent.get("/ps/messages");
  expect(list.status).toBe(200);
  console.log($(list.text)(".list-title").text());
  await selectPatient(s, bunyel);
  const form = await s.agent.get("/ps/conversations/new");
  expect(form.status).toBe(200);
  const hidden = hiddenFields(form.text);
  const res = await s.agent.post("/ps/conversations").field({ ...hidden, subject: "Test", body: "Bonjour", action: "send" })
    .attach("attachments", fixture("valid", "compte-rendu.pdf"));
  console.log(res.status, res.headers.location, res.text.slice(0, 500));
  const thread = await s.agent.get(res.headers.location);
  console.log($(thread.text)("#detail").text().replace(/\s+/g, " ").slice(0, 800));
});
