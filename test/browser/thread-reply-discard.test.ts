import crypto from "node:crypto";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import type { Actor } from "../../src/domain/actor.js";
import { submitCompose } from "../../src/domain/conversations/compose.js";
import { loadConversation } from "../../src/domain/conversations/scope.js";
import { axe, formatViolations, launchBrowser, newContext, startServer, watchErrors, type RunningApp } from "./helpers.js";

/**
 * Issue 10: a long thread opens on its newest message with its actions on screen (1024×768); the reply form
 * quotes the message answered; discarding a draft with attachments asks first (a dialog with JavaScript, a page
 * without). Each state is checked by axe and attached to the test output as a screenshot.
 */
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "attachments", "valid");
const subject = "Arrêt de travail durée maxi";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Someone writes in the thread through the same domain operation the forms use. */
async function writes(app: RunningApp, actor: Actor, conversationId: number, body: string) {
  const conversation = await loadConversation(app.db, actor, String(conversationId));
  const outcome = await submitCompose(
    { db: app.db, storage: app.storage },
    { actor, ip: "127.0.0.1" },
    { kind: "reply", conversation },
    { action: "send", subject: "", body, submissionKey: crypto.randomBytes(16).toString("hex"), draft: null, removeAttachmentIds: [], files: [] },
  );
  if (outcome.status !== "sent") throw new Error(`not sent: ${outcome.status}`);
}

for (const javaScriptEnabled of [true, false]) {
  describe(`${javaScriptEnabled ? "with JavaScript (htmx)" : "without JavaScript"}`, () => {
    let app: RunningApp;
    let context: BrowserContext;
    let page: Page;
    let errors: string[];
    let id: number;

    beforeAll(async () => {
      app = await startServer();
      const c = await app.db("conversations").where({ subject }).first();
      id = c.id;
      const gene = await app.db("practitioners").where({ id: c.ps_practitioner_id }).first();
      const agent = await app.db("agents").where({ elsm_id: c.elsm_id }).first();
      const doctor: Actor = { kind: "ps", practitionerId: gene.id, structureId: null, displayName: "Dr GENE" } as Actor;
      const elsm: Actor = { kind: "agent", agentId: agent.id, elsmId: agent.elsm_id, displayName: agent.last_name } as Actor;
      for (let i = 1; i <= 6; i++) {
        await writes(app, i % 2 ? elsm : doctor, id, `Message ajouté ${i}\n${"Une ligne de texte du fil.\n".repeat(3)}`);
      }
      context = await newContext(browser, app, { javaScriptEnabled });
      page = await context.newPage();
      await page.setViewportSize({ width: 1024, height: 768 });
      errors = watchErrors(page);
      await page.goto("/ps/login");
      await page.getByLabel("Carte CPS").selectOption({ label: "Dr Alain GENE (N°AM 991101197)" });
      await page.getByLabel("Code PIN").fill("1234");
      await page.getByRole("button", { name: "Se connecter" }).click();
      await page.waitForURL((u) => u.pathname === "/ps");
    });
    afterAll(async () => {
      await context?.close();
      await app?.close();
    });

    async function settle() {
      await page.waitForLoadState();
      if (javaScriptEnabled) {
        await page.waitForFunction(() => !document.querySelector(".htmx-request"));
        await page.waitForTimeout(150);
      }
    }

    async function expectAccessible(state: string) {
      const violations = await axe(page);
      expect(violations, `axe on ${state}:\n${formatViolations(violations)}`).toEqual([]);
    }

    async function screenshot(ctx: TestContext, name: string) {
      const file = path.join(os.tmpdir(), `ems-${name.replace(/\W+/g, "-")}-${javaScriptEnabled ? "js" : "nojs"}.png`);
      await page.screenshot({ path: file });
      await ctx.annotate(`screenshot: ${name} (${javaScriptEnabled ? "JS" : "no JS"}, 1024×768)`, { contentType: "image/png", path: file });
    }

    /** Whether the element is wholly on screen: inside the viewport and inside the box it scrolls in, if any. */
    function onScreen(selector: string) {
      return page.evaluate((sel) => {
        const el = document.querySelector(sel);
        if (!el) return `${sel}: absent`;
        const r = el.getBoundingClientRect();
        const box = el.closest(".messages-scroller")?.getBoundingClientRect() ?? { top: 0, bottom: window.innerHeight };
        const top = Math.max(0, box.top);
        const bottom = Math.min(window.innerHeight, box.bottom);
        return r.top >= top - 1 && r.bottom <= bottom + 1 ? "on screen" : `${sel}: ${Math.round(r.top)}–${Math.round(r.bottom)} outside ${Math.round(top)}–${Math.round(bottom)}`;
      }, selector);
    }

    it("a long thread opens on its newest message, RÉPONDRE on screen, the oldest message first in the page", async (ctx) => {
      await page.goto("/ps/messages");
      await page.locator(`#list a[href="/ps/conversations/${id}"]`).click();
      await page.waitForURL((u) => u.pathname === `/ps/conversations/${id}`);
      await page.locator(".thread-skip").waitFor();
      await settle();
      expect(await page.locator(".message").count()).toBe(8);
      expect(await page.locator(".message .message-body").first().innerText()).not.toContain("Message ajouté");
      expect(await page.locator(".message .message-body").last().innerText()).toContain("Message ajouté 6");
      await screenshot(ctx, "a long thread on opening");
      expect(await onScreen(".message:last-child")).toBe("on screen");
      expect(await onScreen("#thread-actions a.button.primary")).toBe("on screen");
      await expectAccessible("a long thread");
    });

    it("« Aller à la réponse » moves to the actions, « Aller au dernier message » to the newest message", async () => {
      await page.locator(".thread-skip a", { hasText: "Aller à la réponse" }).click();
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("thread-actions");
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toMatch(/^Répondre/);
      await page.locator(".thread-skip a", { hasText: "Aller au dernier message" }).click();
      await expect.poll(() => page.evaluate(() => document.activeElement?.matches(".message:last-child") ?? false)).toBe(true);
    });

    it("the reply page quotes the échelon's newest message above the form", async (ctx) => {
      await page.locator("#thread-actions a", { hasText: "RÉPONDRE" }).click();
      await page.waitForURL((u) => u.pathname === `/ps/conversations/${id}/reply`);
      await page.locator(".answered").waitFor();
      await settle();
      expect(await page.locator(".answered blockquote").innerText()).toContain("Message ajouté 5");
      expect(await onScreen(".answered")).toBe("on screen");
      await screenshot(ctx, "the reply page");
      await expectAccessible("the reply page");
    });

    it(`a draft with attachments: Supprimer ce brouillon asks first (${javaScriptEnabled ? "a dialog" : "a page"}), Annuler keeps it, Confirmer discards it`, async (ctx) => {
      await page.getByRole("textbox", { name: "Message" }).fill("Brouillon à jeter");
      await page.locator("input#attachments").setInputFiles([path.join(fixtures, "compte-rendu.pdf"), path.join(fixtures, "radio.png")]);
      await page.getByRole("button", { name: "ENREGISTRER COMME BROUILLON" }).click();
      await page.locator(".attached li").nth(1).waitFor();
      await settle();
      const question = "Supprimer ce brouillon et ses 2 pièces jointes ?";

      const box = await page.getByRole("link", { name: "Supprimer ce brouillon" }).boundingBox();
      expect(box!.height, "a target of 24 px at least (WCAG 2.5.8)").toBeGreaterThanOrEqual(24);
      await page.getByRole("link", { name: "Supprimer ce brouillon" }).click();
      if (javaScriptEnabled) {
        const dialog = page.locator("dialog#discard-dialog[open]");
        await dialog.waitFor();
        expect(await dialog.getByRole("heading").innerText()).toBe(question);
        expect(new URL(page.url()).pathname).toBe(`/ps/conversations/${id}/reply`);
        await screenshot(ctx, "the discard dialog");
        await expectAccessible("the discard dialog");
        await dialog.getByRole("button", { name: "Annuler" }).click();
        await expect.poll(() => page.locator("dialog#discard-dialog[open]").count()).toBe(0);
        await page.getByRole("link", { name: "Supprimer ce brouillon" }).click();
        await page.locator("dialog#discard-dialog[open]").getByRole("button", { name: "Confirmer la suppression" }).click();
      } else {
        await page.waitForURL((u) => /^\/ps\/drafts\/\d+\/delete$/.test(u.pathname));
        expect(await page.locator("#detail h1").innerText()).toBe(question);
        await screenshot(ctx, "the discard confirmation page");
        await expectAccessible("the discard confirmation page");
        await page.getByRole("link", { name: "Annuler" }).click();
        await page.waitForURL((u) => u.pathname === `/ps/conversations/${id}/reply`);
        expect(await page.locator(".attached li").count()).toBe(2);
        await page.getByRole("link", { name: "Supprimer ce brouillon" }).click();
        await page.waitForURL((u) => u.pathname.endsWith("/delete"));
        await page.getByRole("button", { name: "Confirmer la suppression" }).click();
      }
      await page.waitForURL((u) => u.pathname === `/ps/conversations/${id}`);
      await expect.poll(() => page.locator("#detail .notice").innerText()).toBe("Le brouillon a été supprimé.");
      expect(await app.db("drafts").where({ conversation_id: id })).toHaveLength(0);
      expect(errors).toEqual([]);
    });
  });
}
