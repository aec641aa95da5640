import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitCompose } from "../../src/domain/conversations/compose.js";
import { patientsByNir } from "../../src/domain/directory/queries.js";
import { launchBrowser, newContext, startServer, watchErrors, type RunningApp } from "./helpers.js";

/** Issue 10 §7 in a real browser: the échelon's reply to a doctor without a notification mailbox is confirmed before it goes. */
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const WARNING = "Dr Sophie MARTIN n'a pas de boîte mail de notification : la réponse sera visible à sa prochaine connexion, sans courriel.";

for (const javaScriptEnabled of [true, false]) {
  describe(`the reply to a doctor without a mailbox ${javaScriptEnabled ? "with JavaScript" : "without JavaScript"}`, () => {
    let app: RunningApp;
    let context: BrowserContext;
    let page: Page;
    let errors: string[];
    let threadId: number;

    beforeAll(async () => {
      app = await startServer();
      // Dr MARTIN (no mailbox) asks the ELSM 341 about Marie-Ange CASANOVA.
      const martin = await app.db("practitioners").where({ nam: "011234567" }).first();
      const [casanova] = await patientsByNir(app.db, "278052A012034");
      const sent = await submitCompose(
        { db: app.db, storage: app.storage },
        { actor: { kind: "ps", practitionerId: martin.id, structureId: null, displayName: "Dr Sophie MARTIN" }, ip: "127.0.0.1" },
        { kind: "ps-new", patient: casanova! },
        { action: "send", subject: "Question du Dr Martin", body: "Bonjour", submissionKey: "", draft: null, removeAttachmentIds: [], files: [] },
      );
      if (sent.status !== "sent") throw new Error("setup: not sent");
      threadId = sent.conversationId;
      context = await newContext(browser, app, { javaScriptEnabled });
      page = await context.newPage();
      errors = watchErrors(page);
      await page.goto("/bo/login");
      await page.getByLabel("Agent").selectOption({ label: "Paul HERAULT — ELSM de l'HÉRAULT" });
      await page.getByRole("button", { name: "Se connecter" }).click();
      await page.waitForURL((u) => u.pathname.startsWith("/bo/bannettes"));
    });
    afterAll(async () => {
      await context?.close();
      await app?.close();
    });

    it("shows the warning on the reply form, and sends only once the agent confirmed", async () => {
      await page.goto(`/bo/conversations/${threadId}/reply`);
      expect(await page.locator("#no-mail-warning").innerText()).toBe(WARNING);
      await page.locator("#body").fill("Réponse sans courriel");
      if (javaScriptEnabled) {
        const dialogs: string[] = [];
        page.once("dialog", (d) => {
          dialogs.push(d.message());
          void d.dismiss();
        });
        await page.getByRole("button", { name: "ENVOYER" }).click();
        await expect.poll(() => dialogs.length).toBe(1);
        expect(dialogs[0]).toContain(WARNING);
        expect(await app.db("messages").where({ conversation_id: threadId, side: "elsm" }).pluck("id")).toEqual([]);
        page.once("dialog", (d) => void d.accept());
        await page.getByRole("button", { name: "ENVOYER" }).click();
      } else {
        await page.getByRole("button", { name: "ENVOYER" }).click();
        await expect.poll(() => page.locator("#confirm_no_mail-error").count()).toBe(1);
        expect(await page.locator("#confirm_no_mail-error").innerText()).toContain(WARNING);
        expect(await page.locator("#body").inputValue()).toBe("Réponse sans courriel");
        expect(await app.db("messages").where({ conversation_id: threadId, side: "elsm" }).pluck("id")).toEqual([]);
        await page.getByLabel("Envoyer sans courriel de notification").check();
        await page.getByRole("button", { name: "ENVOYER" }).click();
      }
      await expect.poll(() => page.locator(".notice").first().innerText()).toContain("Votre message a été envoyé.");
      expect(await app.db("messages").where({ conversation_id: threadId, side: "elsm" }).pluck("body")).toEqual(["Réponse sans courriel"]);
      expect(errors.filter((e) => !/status of 422/.test(e))).toEqual([]);
    });
  });
}
