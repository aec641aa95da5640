import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDER_PIN, PSC_ACCOUNTS, startOidcProvider, type RunningProvider } from "../helpers/oidc-provider.js";
import { axe, launchBrowser, newContext, startServer, watchErrors, type RunningApp } from "./helpers.js";

/**
 * Issue 16 in Chromium: the doctor's « Se connecter avec Pro Santé Connect » goes through a real OpenID provider's
 * card + PIN page and back, with JavaScript and without; the same for an agent and the insurer's SSO; the CSP is the real one (bypassCSP off), so that its
 * form-action must let the button's post and the logout be redirected to the provider.
 */
const text = async (page: Page, selector: string) => (await page.locator(selector).first().innerText()).replace(/\s+/g, " ");

let provider: RunningProvider;
let agentsProvider: RunningProvider;
let app: RunningApp;
let browser: Browser;
beforeAll(async () => {
  app = await startServer(async (baseUrl) => {
    const client = {
      clientId: "ems-psc",
      clientSecret: "psc-secret-0123456789",
      redirectUri: `${baseUrl}/ps/psc/callback`,
      postLogoutRedirectUri: `${baseUrl}/ps/psc/deconnecte`,
    };
    provider = await startOidcProvider({ kind: "psc", clients: [client], accounts: PSC_ACCOUNTS });
    const agents = { ...client, clientId: "ems-agents", redirectUri: `${baseUrl}/bo/oidc/callback`, postLogoutRedirectUri: `${baseUrl}/bo/oidc/deconnecte` };
    agentsProvider = await startOidcProvider({
      kind: "sso",
      clients: [agents],
      accounts: [{ id: "paul.herault", label: "Paul HERAULT", acr: "eidas1", claims: { family_name: "HERAULT", given_name: "Paul" } }],
    });
    return {
      PUBLIC_URL: baseUrl,
      PSC_DISCOVERY_URL: provider.discoveryUrl,
      PSC_CLIENT_ID: client.clientId,
      PSC_CLIENT_SECRET: client.clientSecret,
      AGENT_OIDC_DISCOVERY_URL: agentsProvider.discoveryUrl,
      AGENT_OIDC_CLIENT_ID: agents.clientId,
      AGENT_OIDC_CLIENT_SECRET: agents.clientSecret,
    };
  });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await provider?.close();
  await agentsProvider?.close();
});

/** From a login page, the real door's button, then the provider's card + PIN page: answers once back at the app. */
async function throughProviderPage(page: Page, door: { loginPage: string; button: string; issuer: string }, account: string) {
  await page.goto(door.loginPage);
  await page.getByRole("button", { name: door.button }).click();
  await page.waitForURL((u) => u.origin === door.issuer && u.pathname.startsWith("/interaction/"));
  await page.getByLabel("Carte CPS").selectOption({ label: account });
  await page.getByLabel("Code PIN").fill(PROVIDER_PIN);
  await page.getByRole("button", { name: "Valider" }).click();
  await page.waitForURL((u) => u.origin === app.baseUrl);
}
const psc = () => ({ loginPage: "/ps/login", button: "Se connecter avec Pro Santé Connect", issuer: provider.issuer });

describe.each([
  ["with JavaScript", true],
  ["without JavaScript", false],
])("Pro Santé Connect in Chromium, %s", (_name, javaScriptEnabled) => {
  it("the button leads to the provider's card + PIN page, back signed in; logout ends both sessions", async () => {
    const context = await newContext(browser, app, { javaScriptEnabled, bypassCSP: false });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto("/ps/login");
    expect(await page.getByText("démonstration", { exact: true }).isVisible()).toBe(true);
    await throughProviderPage(page, psc(), "Dr Alain GENE (libéral)");
    await page.waitForURL((u) => u.origin === app.baseUrl && u.pathname.startsWith("/ps") && !u.pathname.startsWith("/ps/login") && !u.pathname.startsWith("/ps/psc"));
    expect(await text(page, ".who")).toContain("Dr Alain GENE");

    await page.getByRole("button", { name: "Se déconnecter" }).click();
    await page.waitForURL((u) => u.origin === provider.issuer && u.pathname.startsWith("/session/end"));
    await page.getByRole("button", { name: "Se déconnecter" }).click();
    await page.waitForURL((u) => u.origin === app.baseUrl && u.pathname === "/ps/login");
    expect(await text(page, "p.notice[role=status]")).toBe("Vous avez été déconnecté.");
    // Signed out here too: the doctor's pages ask for the login again.
    await page.goto("/ps/messages");
    expect(new URL(page.url()).pathname).toBe("/ps/login");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("a doctor with a liberal practice and a centre chooses « Pour qui agissez-vous ? » and acts for the centre", async () => {
    const context = await newContext(browser, app, { javaScriptEnabled, bypassCSP: false });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await throughProviderPage(page, psc(), "Dr Hélène ROUX (libérale et centre de santé)");
    await page.waitForURL((u) => u.origin === app.baseUrl && u.pathname === "/ps/psc/choix");
    expect(await page.getByRole("heading", { level: 1 }).innerText()).toBe("Pour qui agissez-vous ?");
    expect(await page.getByRole("radio").count()).toBe(2);
    await page.getByRole("radio", { name: "CENTRE DE SANTE LES TILLEULS (FINESS 010012345)" }).check();
    await page.getByRole("button", { name: "Continuer" }).click();
    await page.waitForURL((u) => u.pathname.startsWith("/ps") && !u.pathname.startsWith("/ps/psc"));
    expect(await text(page, ".who")).toContain("CENTRE DE SANTE LES TILLEULS");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("an unknown RPPS: the French page, a way back to the login, no session", async () => {
    const context = await newContext(browser, app, { javaScriptEnabled, bypassCSP: false });
    const page = await context.newPage();
    await throughProviderPage(page, psc(), "RPPS inconnu");
    await page.waitForURL((u) => u.origin === app.baseUrl && u.pathname === "/ps/psc/callback");
    expect(await page.getByRole("heading", { level: 1 }).innerText()).toBe("Connexion impossible");
    expect(await page.getByRole("alert").innerText()).toContain("Votre numéro RPPS n'est pas connu de ce service.");
    await page.getByRole("link", { name: "Revenir à la page de connexion" }).click();
    await page.waitForURL((u) => u.pathname === "/ps/login");
    await context.close();
  });

  it("an agent signs in with the Assurance Maladie account and out again", async () => {
    const context = await newContext(browser, app, { javaScriptEnabled, bypassCSP: false });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await throughProviderPage(page, { loginPage: "/bo/login", button: "Se connecter avec le compte Assurance Maladie", issuer: agentsProvider.issuer }, "Paul HERAULT");
    await page.waitForURL((u) => u.origin === app.baseUrl && u.pathname.startsWith("/bo/bannettes"));
    expect(await text(page, ".who")).toContain("HERAULT Paul");
    await page.getByRole("button", { name: "Se déconnecter" }).click();
    await page.waitForURL((u) => u.origin === agentsProvider.issuer && u.pathname.startsWith("/session/end"));
    await page.getByRole("button", { name: "Se déconnecter" }).click();
    await page.waitForURL((u) => u.origin === app.baseUrl && u.pathname === "/bo/login");
    expect(await text(page, "p.notice[role=status]")).toBe("Vous avez été déconnecté.");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("the new pages pass axe-core: both login pages with their real door, the choice, the refusal", async () => {
    const context = await newContext(browser, app, { javaScriptEnabled });
    const page = await context.newPage();
    const found: string[] = [];
    const check = async (name: string) => {
      for (const v of await axe(page)) found.push(`${name}: ${v.id}`);
    };
    await page.goto("/bo/login");
    await check("bo login");
    await throughProviderPage(page, psc(), "Dr Pierre LEROY (deux établissements)");
    await check("choice");
    await page.getByRole("button", { name: "Continuer" }).click();
    await page.locator(".error-summary").waitFor();
    await check("choice refused");
    await page.context().clearCookies();
    await page.goto("/ps/login");
    await check("ps login");
    await throughProviderPage(page, psc(), "Dr Sophie MARTIN (activité hors service)");
    await check("refusal");
    expect(found).toEqual([]);
    await context.close();
  });
});
