import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axe, browserSuite, formatViolations, signInAgent, watchErrors } from "./helpers.js";

/**
 * Issue 15 §4: a post of the compose form carrying files, on a slow link. With JavaScript (public/js/upload.js) the
 * bytes sent show in a native <progress> named « Envoi des pièces jointes : n % », « Annuler l'envoi » stops the post
 * (nothing sent, the text and the file chosen still in the form), a post that goes through lands on the thread as
 * without JavaScript; files the server would refuse (too big, wrong extension, past the count) are refused in its
 * words before anything is sent. Without JavaScript the plain form still posts its file. The slow link is Chromium's
 * own (DevTools network emulation, which throttles an XMLHttpRequest's upload).
 */
const valid = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "attachments", "valid");
const suite = browserSuite();
let dir: string;
let bigPdf: string;

/** A real PDF (the fixture) grown to `bytes` by a trailing comment: still a PDF by its content and its name. */
function pdfOf(name: string, bytes: number): string {
  const head = fs.readFileSync(path.join(valid, "compte-rendu.pdf"));
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from("\n%"), Buffer.alloc(bytes - head.length - 2, "x")]));
  return file;
}

const messagesOf = async (id: number) => (await suite.app.db("messages").where({ conversation_id: id }).orderBy("id").select("id", "body")) as { id: number; body: string }[];
const attachmentNames = async (messageId: number) =>
  (await suite.app.db("attachments").where({ message_id: messageId }).orderBy("id").select("original_name")).map((r) => r.original_name as string);
const chosenFiles = (page: Page) => page.locator("#attachments").evaluate((input: HTMLInputElement) => Array.from(input.files ?? []).map((f) => f.name));

/** A signed-in agent on the reply form of "info ALD" (no draft), and the posts the page makes from now on (`bypassCSP` false: the CSP holds). */
async function replyForm(javaScriptEnabled: boolean, bypassCSP = true) {
  const context = await suite.context({ javaScriptEnabled, bypassCSP });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const id = await suite.conversationOf("info ALD");
  // Each test starts from a reply without draft (an earlier test's refused send kept its files in one).
  const drafts = suite.app.db("drafts").where({ conversation_id: id }).select("id");
  await suite.app.db("attachments").whereIn("draft_id", drafts).delete();
  await suite.app.db("drafts").where({ conversation_id: id }).delete();
  await signInAgent(page);
  await page.goto(`/bo/conversations/${id}/reply`);
  const posts: Request[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST") posts.push(r);
  });
  return { page, errors, id, posts };
}

/** The page's uploads throttled by Chromium to `bytesPerSecond`, until the returned function lifts the limit. */
async function slowUploads(page: Page, bytesPerSecond: number): Promise<() => Promise<void>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const conditions = (uploadThroughput: number) => cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput });
  await conditions(bytesPerSecond);
  return async () => {
    await conditions(-1);
  };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ems-upload-"));
  bigPdf = pdfOf("gros-compte-rendu.pdf", 3 * 1024 * 1024);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("with JavaScript", () => {
  it("a throttled upload shows its bytes going in « Envoi des pièces jointes : n % »; « Annuler l'envoi » stops it: nothing sent, text and file kept", async () => {
    const { page, errors, id, posts } = await replyForm(true);
    const before = await messagesOf(id);
    expect(await page.locator("#upload-progress").isHidden(), "no bar before a post").toBe(true);
    await page.locator("#body").fill("Réponse avec le compte rendu complet");
    await page.locator("#attachments").setInputFiles(bigPdf);
    // 3 MB at 300 KB/s: some 10 s if left to go.
    const lift = await slowUploads(page, 300 * 1024);
    // What the polite live region says, change by change.
    await page.locator("#upload-status").evaluate((status) => {
      const said: string[] = [];
      (window as unknown as { said: string[] }).said = said;
      new MutationObserver(() => said.push(status.textContent ?? "")).observe(status, { childList: true, characterData: true, subtree: true });
    });
    const said = () => page.evaluate(() => (window as unknown as { said: string[] }).said);
    await page.getByRole("button", { name: "ENVOYER" }).click();

    const bar = page.getByRole("progressbar", { name: /^Envoi des pièces jointes : \d+ %$/ });
    await bar.waitFor();
    const read = () => bar.evaluate((p: HTMLProgressElement) => ({ value: p.value, max: p.max }));
    await expect.poll(async () => (await read()).value, { timeout: 10_000 }).toBeGreaterThan(0);
    const first = await read();
    await expect.poll(async () => (await read()).value, { timeout: 10_000 }).toBeGreaterThan(first.value);
    const later = await read();
    expect(later.max, "the bar counts the bytes of the post").toBeGreaterThan(3 * 1024 * 1024);
    expect(later.value, "still going").toBeLessThan(later.max);
    expect(posts.map((r) => r.resourceType())).toEqual(["xhr"]);
    // Said at coarse steps, not at each of the many moves of the bar.
    await page.locator("#upload-status", { hasText: "Envoi des pièces jointes : 25 %" }).waitFor({ timeout: 15_000 });
    expect(await page.locator("#upload-status").getAttribute("aria-live")).toBe("polite");
    expect(await said()).toEqual(["Envoi des pièces jointes en cours…", "Envoi des pièces jointes : 25 %"]);
    const violations = await axe(page);
    expect(violations, `axe during the upload:\n${formatViolations(violations)}`).toEqual([]);

    await page.getByRole("button", { name: "Annuler l'envoi" }).click();
    await page.locator("#upload-status", { hasText: "Envoi annulé — votre message n'a pas été envoyé." }).waitFor();
    expect(await page.locator("#upload-progress").isHidden()).toBe(true);
    expect(await page.locator("#body").inputValue()).toBe("Réponse avec le compte rendu complet");
    expect(await chosenFiles(page)).toEqual(["gros-compte-rendu.pdf"]);
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim()), "the focus back on the button pressed").toBe("Envoyer");
    expect(await messagesOf(id)).toEqual(before);

    // The link back to speed: the same form sends, once — the cancelled post never reached the thread.
    await lift();
    await page.getByRole("button", { name: "ENVOYER" }).click();
    await page.locator(".notice", { hasText: "Votre message a été envoyé." }).waitFor();
    const after = await messagesOf(id);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.slice(before.length).map((m) => m.body)).toEqual(["Réponse avec le compte rendu complet"]);
    expect(await attachmentNames(after.at(-1)!.id)).toEqual(["gros-compte-rendu.pdf"]);
    expect(errors).toEqual([]);
  });

  it("an upload left to go lands on the thread with its attachments, as without JavaScript (sent through XMLHttpRequest, under the strict CSP)", async () => {
    const { page, errors, id, posts } = await replyForm(true, false);
    await page.locator("#body").fill("Voici le compte rendu et la photo");
    await page.locator("#attachments").setInputFiles([bigPdf, path.join(valid, "photo.jpg")]);
    await page.getByRole("button", { name: "ENVOYER" }).click();
    await page.locator(".notice", { hasText: "Votre message a été envoyé." }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/bo/conversations/${id}`);
    const last = page.locator(".messages .message").last();
    expect(await last.innerText()).toContain("Voici le compte rendu et la photo");
    expect(await last.locator(".attachments a").allInnerTexts()).toEqual(["gros-compte-rendu.pdf", "photo.jpg"]);
    expect(posts.map((r) => r.resourceType())).toEqual(["xhr"]);
    expect(errors).toEqual([]);
  });

  it("files the server would refuse are refused before anything is sent, in the server's own words, by the field and in the focused summary", async () => {
    const tooBig = pdfOf("trop-gros.pdf", 10 * 1024 * 1024 + 1);
    const text = path.join(dir, "notes.txt");
    fs.writeFileSync(text, "des notes en texte brut");
    // Six good files: the sixth is one too many.
    const six = ["compte-rendu.pdf", "photo.jpg", "radio.png", "compte-rendu.doc", "compte-rendu.docx", "releve.xls"].map((f) => path.join(valid, f));
    const files = [tooBig, text, ...six];

    // What the server says of them (the plain form, without JavaScript).
    const plain = await replyForm(false);
    await plain.page.locator("#body").fill("Avec trop de pièces");
    await plain.page.locator("#attachments").setInputFiles(files);
    await plain.page.getByRole("button", { name: "ENVOYER" }).click();
    await plain.page.locator("#attachments-error").waitFor();
    const serverSays = await plain.page.locator("#attachments-error li").allInnerTexts();
    expect(serverSays).toEqual([
      "« trop-gros.pdf » dépasse la taille maximale de 10 Mo : il n'a pas été joint.",
      "« notes.txt » n'est pas dans un format accepté (PDF, XLS, WORD, JPG, PNG) : il n'a pas été joint.",
      "« releve.xls » n'a pas été joint : 5 pièces jointes au maximum par message.",
    ]);

    const { page, errors, id, posts } = await replyForm(true);
    const before = await messagesOf(id);
    await page.locator("#body").fill("Avec trop de pièces");
    await page.locator("#attachments").setInputFiles(files);
    await page.getByRole("button", { name: "ENVOYER" }).click();
    const summary = page.locator("#error-summary");
    await summary.waitFor();
    expect(await page.locator("#attachments-error li").allInnerTexts()).toEqual(serverSays);
    expect(await summary.locator("li").allInnerTexts()).toEqual(serverSays);
    expect(await summary.locator("h2").innerText()).toBe("Le formulaire contient 3 erreurs");
    expect(await summary.getAttribute("role")).toBe("alert");
    expect(await page.evaluate(() => document.activeElement?.id), "the summary takes the focus, as the server's does").toBe("error-summary");
    expect(await page.locator("#attachments").getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("#attachments").getAttribute("aria-describedby")).toBe("attachments-hint attachments-error");
    expect(await page.title()).toMatch(/^Erreur : /);
    const violations = await axe(page);
    expect(violations, `axe on the refusal:\n${formatViolations(violations)}`).toEqual([]);
    // A summary link leads to the field.
    await summary.getByRole("link").first().click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("attachments");

    // Nothing left the browser (the check is made as the form is submitted, before htmx's request).
    await page.waitForTimeout(300);
    expect(posts.filter((r) => r.headers()["x-autosave"] !== "1")).toEqual([]);
    expect(await messagesOf(id)).toEqual(before);
    expect(await page.locator("#body").inputValue()).toBe("Avec trop de pièces");

    // Good files chosen instead: what was said goes, the post leaves and lands on the thread.
    await page.locator("#attachments").setInputFiles(path.join(valid, "radio.png"));
    await page.getByRole("button", { name: "ENVOYER" }).click();
    await page.locator(".notice", { hasText: "Votre message a été envoyé." }).waitFor();
    expect(await page.locator(".messages .message").last().locator(".attachments a").allInnerTexts()).toEqual(["radio.png"]);
    expect(errors).toEqual([]);
  });

  it("the button pressed goes with the files (ENREGISTRER COMME BROUILLON saves them), and the server's own refusal comes back in the form as htmx shows it", async () => {
    const { page, errors, posts } = await replyForm(true);
    await page.locator("#body").fill("Brouillon avec une photo");
    await page.locator("#attachments").setInputFiles(path.join(valid, "photo.jpg"));
    await page.getByRole("button", { name: "ENREGISTRER COMME BROUILLON" }).click();
    await page.locator(".notice", { hasText: "Le brouillon a été enregistré." }).waitFor();
    expect(await page.locator("ul.attached a").allInnerTexts()).toEqual(["photo.jpg"]);
    expect(await page.locator("#body").inputValue()).toBe("Brouillon avec une photo");

    // Text named .pdf: the browser cannot tell, the server can (by its content); its 422 is swapped in like any answer.
    await page.locator("#attachments").setInputFiles(path.join(valid, "..", "hostile", "notes.pdf"));
    await page.getByRole("button", { name: "ENVOYER" }).click();
    await page.locator("#error-summary").waitFor();
    expect(await page.locator("#attachments-error li").allInnerTexts()).toEqual([
      "« notes.pdf » n'est pas dans un format accepté (PDF, XLS, WORD, JPG, PNG) : il n'a pas été joint.",
    ]);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("error-summary");
    expect(await page.locator("#body").inputValue()).toBe("Brouillon avec une photo");
    expect(await page.locator("ul.attached a").allInnerTexts(), "the draft's photo still there").toEqual(["photo.jpg"]);
    expect(posts.map((r) => r.resourceType())).toEqual(["xhr", "xhr"]);
    // The 422 is the answer under test (Chromium logs its status).
    expect(errors.filter((e) => !e.includes("422"))).toEqual([]);
  });
});

describe("without JavaScript", () => {
  it("the plain form still posts its file: the thread shows the message and its attachment", async () => {
    const { page, id } = await replyForm(false);
    expect(await page.locator("#upload-progress").isHidden()).toBe(true);
    await page.locator("#body").fill("Réponse sans JavaScript avec pièce jointe");
    await page.locator("#attachments").setInputFiles(bigPdf);
    await page.getByRole("button", { name: "ENVOYER" }).click();
    await page.locator(".notice", { hasText: "Votre message a été envoyé." }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/bo/conversations/${id}`);
    const last = page.locator(".messages .message").last();
    expect(await last.innerText()).toContain("Réponse sans JavaScript avec pièce jointe");
    expect(await last.locator(".attachments a").allInnerTexts()).toEqual(["gros-compte-rendu.pdf"]);
  });
});
