import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axe, formatViolations, launchBrowser, newContext, signInAgent, startServer, watchErrors, type RunningApp } from "./helpers.js";
import { fixture } from "../helpers/app.js";

/** Issue 13 §3 in a real browser: "Insérer un modèle" in the reply form, in place with JavaScript, by a post without it. */
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

for (const javaScriptEnabled of [true, false]) {
  describe(`inserting a saved reply ${javaScriptEnabled ? "with JavaScript (in place)" : "without JavaScript (the form posted)"}`, () => {
    let app: RunningApp;
    let context: BrowserContext;
    let page: Page;
    let errors: string[];
    let thread: { id: number; patient: string };

    beforeAll(async () => {
      app = await startServer();
      const ain = await app.db("elsms").where({ code: "ELSM 011" }).first("id");
      const row = await app
        .db("conversations as c")
        .join("patients as p", "p.id", "c.patient_id")
        .join("practitioners as d", "d.id", "c.ps_practitioner_id")
        .where({ "c.elsm_id": ain.id })
        .whereNot("c.state", "clos")
        .whereNull("c.ps_structure_id")
        .whereNotNull("d.mailbox")
        .first("c.id", "p.first_name", "p.last_name");
      thread = { id: row.id, patient: `${row.first_name} ${row.last_name}` };
      context = await newContext(browser, app, { javaScriptEnabled });
      page = await context.newPage();
      errors = watchErrors(page);
      await signInAgent(page);
    });
    afterAll(async () => {
      await context?.close();
      await app?.close();
    });

    it("creates a model from the page linked in the column (axe 0)", async () => {
      await page.getByRole("link", { name: "Modèles de réponse" }).click();
      await page.waitForURL((u) => u.pathname === "/bo/modeles");
      expect(formatViolations(await axe(page))).toBe("");
      await page.getByRole("link", { name: "Créer un modèle" }).click();
      await page.waitForURL((u) => u.pathname === "/bo/modeles/nouveau");
      await page.getByRole("button", { name: "Enregistrer le modèle" }).click();
      await expect.poll(() => page.locator("#model-title-error").count()).toBe(1);
      expect(formatViolations(await axe(page))).toBe("");
      await page.getByLabel("Titre").fill("Demande de compte rendu");
      await page.getByLabel("Texte", { exact: true }).fill("Au sujet de {patient}, merci de nous adresser le compte rendu.");
      await page.getByRole("button", { name: "Enregistrer le modèle" }).click();
      await expect.poll(() => page.locator("main .notice").first().innerText()).toContain("Le modèle de réponse a été créé.");
      expect(await page.locator(".models a").first().innerText()).toBe("Demande de compte rendu");
    });

    it("adds its text at the end of the message, the file chosen kept, nothing sent (axe 0)", async () => {
      await page.goto(`/bo/conversations/${thread.id}/reply`);
      await page.locator("#body").fill("Bonjour Docteur,");
      await page.locator("#attachments").setInputFiles(fixture("valid", "compte-rendu.pdf"));
      await page.getByLabel("Insérer un modèle").selectOption({ label: "Demande de compte rendu" });
      const sentBefore = await app.db("messages").where({ conversation_id: thread.id }).count<{ n: number }[]>({ n: "*" });
      await page.getByRole("button", { name: "Insérer le modèle" }).click();
      const expected = `Bonjour Docteur,\n\nAu sujet de ${thread.patient}, merci de nous adresser le compte rendu.`;
      await expect.poll(() => page.locator("#body").inputValue()).toBe(expected);
      if (javaScriptEnabled) {
        // In place: the file input still holds the chosen file, the focus is at the end of the message.
        expect(await page.locator("#attachments").evaluate((el) => Array.from((el as HTMLInputElement).files ?? []).map((f) => f.name))).toEqual(["compte-rendu.pdf"]);
        expect(await page.evaluate(() => document.activeElement?.id)).toBe("body");
        expect(await page.locator("#body").evaluate((el) => (el as HTMLTextAreaElement).selectionStart === (el as HTMLTextAreaElement).value.length)).toBe(true);
      } else {
        // The form came back: the file is held by the server, listed with the attachments.
        expect(await page.locator(".attached").innerText()).toContain("compte-rendu.pdf");
        expect(await page.locator("main .notice").first().innerText()).toContain("Le modèle a été ajouté à la fin du message");
      }
      expect(await app.db("messages").where({ conversation_id: thread.id }).count<{ n: number }[]>({ n: "*" })).toEqual(sentBefore);
      expect(formatViolations(await axe(page))).toBe("");
      await page.getByRole("button", { name: "ENVOYER" }).click();
      await expect.poll(() => page.locator(".notice").first().innerText()).toContain("Votre message a été envoyé.");
      const message = await app.db("messages").where({ conversation_id: thread.id }).orderBy("id", "desc").first();
      expect(message.body).toBe(expected);
      expect(await app.db("attachments").where({ message_id: message.id }).pluck("original_name")).toEqual(["compte-rendu.pdf"]);
      expect(errors.filter((e) => !/status of 422/.test(e))).toEqual([]);
    });
  });
}
