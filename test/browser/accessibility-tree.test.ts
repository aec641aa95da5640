import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, newContext, signInAgent, startServer, type RunningApp } from "./helpers.js";

/**
 * What a screen reader is given, read from Chromium's accessibility tree (CDP Accessibility.getFullAXTree), not from
 * the markup: no field announced invalid before a failed submit, the app's error summary instead of the browser's
 * bubbles, list rows named by their subject first, no alertdialog on the confirmation pages, the landmarks, and the
 * live region saying a message once and not keeping it.
 */
let browser: Browser;
let app: RunningApp;
beforeAll(async () => {
  browser = await launchBrowser();
  app = await startServer();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const drGeneCard = "Dr Alain GENE (N°AM 991101197)";

type AXValue = { type: string; value?: unknown };
type AXNode = {
  nodeId: string;
  ignored: boolean;
  role?: AXValue;
  name?: AXValue;
  description?: AXValue;
  properties?: { name: string; value: AXValue }[];
  parentId?: string;
  backendDOMNodeId?: number;
};

async function axTree(page: Page): Promise<AXNode[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send("Accessibility.enable");
    const { nodes } = (await cdp.send("Accessibility.getFullAXTree")) as unknown as { nodes: AXNode[] };
    return nodes.filter((n) => !n.ignored);
  } finally {
    await cdp.detach();
  }
}

const prop = (n: AXNode, name: string) => n.properties?.find((p) => p.name === name)?.value.value;
const describeNode = (n: AXNode) => `${n.role?.value} « ${String(n.name?.value ?? "")} »`;

/** The nodes Chromium exposes as invalid (aria-invalid, or a native constraint it reports). */
async function invalidNodes(page: Page): Promise<string[]> {
  const nodes = await axTree(page);
  return nodes.filter((n) => prop(n, "invalid") !== undefined && prop(n, "invalid") !== "false").map(describeNode);
}

/** The accessibility node of the element a selector finds (name, description, role). */
async function axOf(page: Page, selector: string, index = 0): Promise<AXNode> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  try {
    await cdp.send("Accessibility.enable");
    const { result } = (await cdp.send("Runtime.evaluate", { expression: `document.querySelectorAll(${JSON.stringify(selector)})[${index}]` })) as {
      result: { objectId?: string };
    };
    if (!result.objectId) throw new Error(`no element ${selector}[${index}]`);
    const { nodes } = (await cdp.send("Accessibility.getPartialAXTree", { objectId: result.objectId, fetchRelatives: false })) as unknown as { nodes: AXNode[] };
    return nodes[0];
  } finally {
    await cdp.detach();
  }
}

/** The landmark roles around an element, innermost first. */
async function landmarksAround(page: Page, selector: string): Promise<string[]> {
  const nodes = await axTree(page);
  const byId = new Map(nodes.map((n) => [n.nodeId, n]));
  const target = await axOf(page, selector);
  const landmarks = ["banner", "main", "contentinfo", "navigation", "complementary", "region", "search", "form"];
  const found: string[] = [];
  let cur = byId.get(target.nodeId) ?? target;
  while (cur?.parentId) {
    cur = byId.get(cur.parentId)!;
    if (!cur) break;
    const role = String(cur.role?.value ?? "");
    if (landmarks.includes(role)) found.push(role);
  }
  return found;
}

async function signInPs(page: Page) {
  await page.goto("/ps/login");
  await page.getByLabel("Carte CPS").selectOption({ label: drGeneCard });
  await page.getByLabel("Code PIN").fill("1234");
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForURL((u) => u.pathname === "/ps");
}

async function typeNir(page: Page) {
  await page.goto("/ps/patient");
  await page.getByLabel("NIR", { exact: true }).fill("1700469387111");
  await page.getByLabel("Clé").fill("72");
  await page.locator('form[action="/ps/patient/nir"]').getByRole("button", { name: "Sélectionner le patient" }).click();
  await page.getByRole("group", { name: /Plusieurs bénéficiaires/ }).waitFor();
}

for (const javaScriptEnabled of [false, true]) {
  describe(`JavaScript ${javaScriptEnabled ? "on" : "off"}`, () => {
    let context: BrowserContext;
    let page: Page;
    beforeAll(async () => {
      context = await newContext(browser, app, { javaScriptEnabled });
      page = await context.newPage();
    });
    afterAll(async () => {
      await context?.close();
    });

    it("the logins: nothing invalid on load; submitted empty, the app's error summary (not a bubble) and the field invalid", async () => {
      for (const [path, field, button] of [
        ["/bo/login", "#agent", "Se connecter"],
        ["/ps/login", "#card", "Se connecter"],
      ] as const) {
        await page.goto(path);
        expect(await invalidNodes(page), `${path} on load`).toEqual([]);
        await page.getByRole("button", { name: button }).click();
        await page.locator(".error-summary").waitFor({ timeout: 3000 });
        expect(await invalidNodes(page), `${path} after an empty submit`).toContain(describeNode(await axOf(page, field)));
      }
    });

    it("the patient page, the beneficiary choice, the search panel and the compose form: nothing invalid on load", async () => {
      await signInPs(page);
      await page.goto("/ps/patient");
      expect(await invalidNodes(page), "/ps/patient").toEqual([]);
      await page.locator(".search summary").click();
      await page.getByLabel("Nom du patient").waitFor();
      expect(await invalidNodes(page), "/ps/patient with the search panel open").toEqual([]);
      const withFields = "form:has(select, textarea, input:not([type=hidden]))";
      expect(await page.locator(withFields).evaluateAll((forms) => forms.filter((f) => !(f as HTMLFormElement).noValidate).map((f) => f.getAttribute("action")))).toEqual([]);

      await typeNir(page);
      expect(await invalidNodes(page), "the beneficiary choice as it appears").toEqual([]);
      if (javaScriptEnabled) {
        // The choice is announced when it appears: the focus is on its legend.
        await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe("LEGEND");
      }
      // Chosen none: the app's error summary, and the radios invalid.
      await page.getByRole("button", { name: "Choisir ce bénéficiaire" }).click();
      await page.locator(".error-summary").waitFor({ timeout: 3000 });
      const invalid = await invalidNodes(page);
      expect(invalid.filter((n) => n.startsWith("radio")).length, invalid.join("\n")).toBe(3);

      await page
        .getByRole("group", { name: /Plusieurs bénéficiaires/ })
        .getByLabel(/Guillaume BUNYEL/)
        .check();
      await page.getByRole("button", { name: "Choisir ce bénéficiaire" }).click();
      await page.waitForURL((u) => u.pathname === "/ps/messages");
      await page.goto("/ps/conversations/new");
      expect(await invalidNodes(page), "the doctor's compose form").toEqual([]);
    });

    it("the back office's search and compose pages: nothing invalid on load; a search landmark", async () => {
      const agent = await newContext(browser, app, { javaScriptEnabled });
      const p = await agent.newPage();
      await signInAgent(p);
      await p.goto("/bo/recherche");
      expect(await invalidNodes(p), "/bo/recherche").toEqual([]);
      expect((await axTree(p)).filter((n) => n.role?.value === "search").length, "a search landmark").toBe(1);
      await p.goto("/bo/conversations/new");
      expect(await invalidNodes(p), "/bo/conversations/new").toEqual([]);
      // Bunyel's NIR OD has three beneficiaries: the choice appears, nothing invalid, its legend focused.
      await p.locator("#nir_od").fill("1700469387111");
      await p.getByRole("button", { name: "Afficher le destinataire" }).click();
      await p.locator("fieldset.beneficiaries").waitFor();
      expect(await invalidNodes(p), "the agent's beneficiary choice as it appears").toEqual([]);
      if (javaScriptEnabled) await expect.poll(() => p.evaluate(() => document.activeElement?.tagName)).toBe("LEGEND");
      await agent.close();
    });

    it("rows are named by their subject, then unread state, patient, date (< 100 characters); the pastille and [Lu] described", async () => {
      const agent = await newContext(browser, app, { javaScriptEnabled });
      const p = await agent.newPage();
      await signInAgent(p);
      let sawUnread = false;
      let sawLu = false;
      for (const tray of ["a-traiter", "en-cours", "clos"]) {
        await p.goto(`/bo/bannettes/${tray}`);
        const count = await p.locator(".item-link").count();
        for (let i = 0; i < count; i++) {
          const row = p.locator(".item-link").nth(i);
          const subject = (await row.locator(".item-subject").innerText()).trim();
          const badge = (await row.locator(".badge").getAttribute("title")) ?? "";
          const patient = await row.locator(".item-line", { hasText: "Patient" }).count();
          const unread = await row.evaluate((a) => a.closest("li")!.classList.contains("unread"));
          const lu = await row.locator(".tag", { hasText: "[Lu]" }).count();
          const date = (await row.locator(".item-date").innerText()).trim();
          const node = await axOf(p, ".item-link", i);
          const name = String(node.name?.value ?? "");
          const description = String(node.description?.value ?? "");
          const where = `${tray} row ${i}: « ${name} »`;
          expect(name.toLowerCase().startsWith(subject.toLowerCase()), `${where} starts with its subject « ${subject} »`).toBe(true);
          expect(name.length, where).toBeLessThan(100);
          // The date as shown, without its weekday (the name stays short).
          expect(name, where).toContain(date.replace(/^\S+, /, ""));
          expect(name.startsWith(badge), `${where}: not the pastille first`).toBe(false);
          expect(description, `${where}: the pastille in its description`).toContain(badge);
          if (unread) {
            sawUnread = true;
            expect(name.slice(subject.length), where).toMatch(/^, non lu/);
          } else expect(name, where).not.toMatch(/non lu/i);
          if (patient) expect(name, where).toMatch(/patient\(e\) \S+/i);
          if (lu) {
            sawLu = true;
            expect(`${name} ${description}`, where).toContain("Lu par le destinataire");
          }
        }
      }
      expect(sawUnread, "an unread row was seen").toBe(true);
      expect(sawLu, "a [Lu] row was seen").toBe(true);
      await agent.close();

      // The doctor's list too.
      await page.goto("/ps/messages");
      const n = await page.locator(".item-link").count();
      expect(n).toBeGreaterThan(0);
      for (let i = 0; i < n; i++) {
        const row = page.locator(".item-link").nth(i);
        const subject = (await row.locator(".item-subject").innerText()).trim();
        const name = String((await axOf(page, ".item-link", i)).name?.value ?? "");
        expect(name.toLowerCase().startsWith(subject.toLowerCase()), `doctor's row « ${name} »`).toBe(true);
        expect(name.length, name).toBeLessThan(100);
      }
    });

    it("the confirmations are no alertdialog: a heading and a region", async () => {
      await page.goto("/ps/messages");
      const href = await page.locator('.item-link[href*="/conversations/"]').first().getAttribute("href");
      await page.goto(`${href}/delete`);
      const nodes = await axTree(page);
      expect(nodes.filter((n) => n.role?.value === "alertdialog").map(describeNode)).toEqual([]);
      expect(nodes.filter((n) => n.role?.value === "region" && /Supprimer la conversation/.test(String(n.name?.value))).length).toBe(1);

      const agent = await newContext(browser, app, { javaScriptEnabled });
      const p = await agent.newPage();
      await signInAgent(p);
      const bo = await p.locator('.item-link[href*="/conversations/"]').first().getAttribute("href");
      await p.goto(`${bo}/close`);
      const boNodes = await axTree(p);
      expect(boNodes.filter((n) => n.role?.value === "alertdialog").map(describeNode)).toEqual([]);
      expect(boNodes.filter((n) => n.role?.value === "region" && /Clôturer la conversation/.test(String(n.name?.value))).length).toBe(1);
      await agent.close();
    });

    it("landmarks: the search panel, the footer's links in a list, the session note inside a landmark", async () => {
      await page.goto("/ps/messages");
      const nodes = await axTree(page);
      expect(nodes.filter((n) => n.role?.value === "search").length, "a search landmark").toBe(1);
      const footerLinks = await page.locator("footer a[href^='/']").count();
      expect(await page.locator("footer ul > li > a[href^='/']").count()).toBe(footerLinks);
      expect(footerLinks).toBeGreaterThanOrEqual(3);
      expect(await landmarksAround(page, "footer a[href='/cgu']")).toContain("contentinfo");
      const around = await landmarksAround(page, "#session-note");
      expect(around.length, "#session-note is inside a landmark").toBeGreaterThan(0);
    });

    if (javaScriptEnabled) {
      it("the live region: search results said once (by the focus), a message cleared once stale", async () => {
        await page.goto("/ps/messages");
        await page.locator(".search summary").click();
        await page.getByLabel("Nom du patient").fill("bunyel");
        const heard: string[] = [];
        await page.exposeFunction("__heard", (text: string) => heard.push(text));
        await page.evaluate(() => {
          const live = document.getElementById("live")!;
          new MutationObserver(() => {
            if (live.textContent) (window as unknown as { __heard: (t: string) => void }).__heard(live.textContent);
          }).observe(live, { childList: true, characterData: true, subtree: true });
        });
        await page.getByRole("button", { name: "RECHERCHER" }).click();
        await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("search-results");
        await page.waitForTimeout(800);
        expect(
          heard.filter((t) => /Résultats de la recherche/.test(t)),
          "the focus says the results; #live does not say them again",
        ).toEqual([]);

        // A confirmation is said in #live, then taken away.
        await page.getByRole("button", { name: "RÉINITIALISER" }).click();
        await page.goto("/ps/patient");
        await page.getByLabel("NIR", { exact: true }).fill("1700469387111");
        await page.getByLabel("Clé").fill("72");
        await page.locator('form[action="/ps/patient/nir"]').getByRole("button", { name: "Sélectionner le patient" }).click();
        await page
          .getByRole("group", { name: /Plusieurs bénéficiaires/ })
          .getByLabel(/Guillaume BUNYEL/)
          .check();
        await page.getByRole("button", { name: "Choisir ce bénéficiaire" }).click();
        await expect.poll(() => page.locator("#live").innerText()).toContain("Patient sélectionné");
        await expect.poll(() => page.locator("#live").innerText(), { timeout: 12_000, message: "#live is emptied once its message is stale" }).toBe("");
      });
    }
  });
}
