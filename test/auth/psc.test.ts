import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { $, captureLog, csrfFrom, startTestApp, type TestApp } from "../helpers/app.js";
import { throughProvider } from "../helpers/oidc-flow.js";
import { PSC_ACCOUNTS, startOidcProvider, type RunningProvider } from "../helpers/oidc-provider.js";

const PUBLIC_URL = "https://ems.example";
const client = {
  clientId: "ems-psc",
  clientSecret: "psc-secret-0123456789",
  redirectUri: `${PUBLIC_URL}/ps/psc/callback`,
  postLogoutRedirectUri: `${PUBLIC_URL}/ps/psc/deconnecte`,
};
// Another service registered at the same provider, with the same callback address (a code for it must not sign in here).
const other = { ...client, clientId: "another-service", clientSecret: "another-secret-0123456789" };

let provider: RunningProvider;
let app: TestApp;
beforeAll(async () => {
  provider = await startOidcProvider({ kind: "psc", clients: [client, other], accounts: PSC_ACCOUNTS });
  app = await startTestApp({ PSC_DISCOVERY_URL: provider.discoveryUrl, PSC_CLIENT_ID: client.clientId, PSC_CLIENT_SECRET: client.clientSecret });
});
afterAll(async () => {
  await app?.close();
  await provider?.close();
});

const login = (account: string, options: Partial<Parameters<typeof throughProvider>[3]> = {}) =>
  throughProvider(app, provider, account, { loginPage: "/ps/login", start: "/ps/psc/login", ...options });

/** The button's post on a fresh browser: the app's answer (303 to the provider, or why not). */
async function pressPscButton(target: TestApp) {
  const agent = request.agent(target.app);
  const page = await agent.get("/ps/login");
  const res = await agent
    .post("/ps/psc/login")
    .type("form")
    .send({ _csrf: csrfFrom(page.text) });
  return { agent, res };
}

/** Edits the stored sessions that `pick` chooses, as another request of the app would find them. */
type StoredSession = { user?: { kind: string }; startedAt: number; oidcLogout?: unknown; oidcFlow: { nonce: string; createdAt: number } };
async function editSessions(pick: (data: StoredSession) => boolean, edit: (data: StoredSession) => void) {
  for (const row of await app.db("sessions").select("sid", "data")) {
    const data = JSON.parse(row.data) as StoredSession;
    if (!pick(data)) continue;
    edit(data);
    await app
      .db("sessions")
      .where({ sid: row.sid })
      .update({ data: JSON.stringify(data) });
  }
}

async function auditSince(id: number) {
  return app.db("audit_events").where("id", ">", id).orderBy("id");
}
async function lastAuditId(): Promise<number> {
  const row = await app.db("audit_events").max({ id: "id" }).first();
  return Number(row?.id ?? 0);
}
async function practitioner(rpps: string) {
  return app.db("practitioners").where({ rpps }).first("id", "structure_id");
}
const structureId = async (finess: string) => (await app.db("structures").where({ finess }).first("id")).id as number;

describe("the doctor's login page with Pro Santé Connect configured", () => {
  it("offers « Se connecter avec Pro Santé Connect » above the demo card, which is marked « démonstration »", async () => {
    const page = $((await request(app.app).get("/ps/login")).text);
    const button = page('form[action="/ps/psc/login"][method=post] button[type=submit]');
    expect(button.text().replace(/\s+/g, " ").trim()).toBe("PSC Se connecter avec Pro Santé Connect");
    const html = page("main").html()!;
    expect(html.indexOf('action="/ps/psc/login"')).toBeLessThan(html.indexOf('action="/ps/login"'));
    expect(page(".demo-heading").text()).toContain("démonstration");
    expect(page("h1").text()).toBe("Connexion à l'espace professionnel de santé");
  });

  it("sends the browser to the provider with scope_all, acr_values=eidas1, PKCE S256, state and nonce", async () => {
    const { res } = await pressPscButton(app);
    expect(res.status).toBe(303);
    const url = new URL(res.headers.location!);
    expect(url.origin).toBe(provider.issuer);
    expect(url.searchParams.get("scope")).toBe("openid scope_all");
    expect(url.searchParams.get("acr_values")).toBe("eidas1");
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get("state")).toBeTruthy();
    expect(url.searchParams.get("nonce")).toBeTruthy();
    expect(url.searchParams.get("redirect_uri")).toBe(client.redirectUri);
  });

  it("refuses a login start without the form's CSRF token", async () => {
    const res = await request(app.app).post("/ps/psc/login").type("form").send({});
    expect(res.status).toBe(403);
  });
});

describe("signing in with Pro Santé Connect", () => {
  it("a liberal doctor (acr eidas3, above eidas1) lands on the Services patient page, signed in as themselves", async () => {
    const before = await lastAuditId();
    const { agent, callback } = await login("gene");
    const sid = () => agent.jar.getCookie("ems.sid", { domain: "127.0.0.1", path: "/", secure: false, script: false })?.value;
    // The flow in progress lives in an anonymous session; the login gives a new one.
    const cookieBefore = sid();
    expect(cookieBefore).toBeDefined();
    const res = await agent.get(callback);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/ps");
    // A new session id at login, and the signed-in marker.
    const setCookies = String(res.headers["set-cookie"]);
    expect(setCookies).toContain("ems.sid=");
    expect(setCookies).toContain("ems.signed-in=1");
    expect(sid()).not.toBe(cookieBefore);
    const home = await agent.get("/ps/messages");
    expect(home.status).toBe(200);
    expect($(home.text)("body").text()).toContain("Alain GENE");
    const rows = await auditSince(before);
    const gene = await practitioner("10000000011");
    expect(rows.map((r) => [r.action, r.actor_type, r.actor_id, r.org_type])).toEqual([["login", "practitioner", gene.id, "practitioner"]]);
  });

  it("the card login's session rules: past the absolute lifetime (12 h from the login), the session is over", async () => {
    const { agent, callback } = await login("gene");
    await agent.get(callback);
    expect((await agent.get("/ps/messages")).status).toBe(200);
    await editSessions(
      (data) => data.user?.kind === "ps" && Boolean(data.oidcLogout),
      (data) => {
        expect(Math.abs(Date.now() - data.startedAt)).toBeLessThan(60_000);
        data.startedAt -= 12 * 3_600_000 + 1000;
      },
    );
    const after = await agent.get("/ps/messages");
    expect(after.status).toBe(303);
    expect(after.headers.location).toMatch(/^\/ps\/login/);
  });

  it("a doctor known by the RPPS in otherIds (an ADELI SubjectNameID) is found too", async () => {
    const { agent, callback } = await login("mezin");
    expect((await agent.get(callback)).headers.location).toBe("/ps");
    expect($((await agent.get("/ps/messages")).text)("body").text()).toContain("Jean-Luc MEZIN");
  });

  it("a salaried doctor acts for the structure whose FINESS is among their activities", async () => {
    const before = await lastAuditId();
    const { agent, callback } = await login("benali");
    expect((await agent.get(callback)).headers.location).toBe("/ps");
    expect($((await agent.get("/ps/messages")).text)("body").text()).toContain("CENTRE DE SANTE LES TILLEULS");
    const [row] = await auditSince(before);
    expect([row.action, row.org_type, row.org_id]).toEqual(["login", "structure", await structureId("010012345")]);
  });

  it("a liberal practice and a centre: « Pour qui agissez-vous ? » first, no session until the choice", async () => {
    const before = await lastAuditId();
    const { agent, callback } = await login("roux");
    const res = await agent.get(callback);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/ps/psc/choix");
    // Not signed in yet: the doctor's pages send to the login.
    expect((await agent.get("/ps/messages")).status).toBe(303);
    expect(await auditSince(before)).toEqual([]);
    const page = $((await agent.get("/ps/psc/choix")).text);
    expect(page("h1").text()).toBe("Pour qui agissez-vous ?");
    const labels = page("input[type=radio][name=choice]")
      .toArray()
      .map((el) => page(`label[for="${page(el).attr("id")}"]`).text());
    expect(labels).toEqual(["Dr Hélène ROUX — exercice libéral", "CENTRE DE SANTE LES TILLEULS (FINESS 010012345)"]);
    const csrf = csrfFrom(page.html()!);
    const none = await agent.post("/ps/psc/choix").type("form").send({ _csrf: csrf });
    expect(none.status).toBe(422);
    expect($(none.text)(".error-summary").text()).toContain("Choisissez pour qui vous agissez.");
    const chosen = await agent.post("/ps/psc/choix").type("form").send({ _csrf: csrf, choice: "0" });
    expect(chosen.status).toBe(303);
    // The page asked before the login comes next, as after the card login.
    expect(chosen.headers.location).toBe("/ps/messages");
    const rows = await auditSince(before);
    expect(rows.map((r) => [r.action, r.org_type])).toEqual([["login", "practitioner"]]);
    // The choice is spent.
    expect((await agent.get("/ps/psc/choix")).status).toBe(400);
  });

  it("two structures: the doctor chooses one and acts for it", async () => {
    const { agent, callback } = await login("leroy");
    expect((await agent.get(callback)).headers.location).toBe("/ps/psc/choix");
    const page = $((await agent.get("/ps/psc/choix")).text);
    const labels = page("label")
      .toArray()
      .map((el) => page(el).text());
    expect(labels).toEqual(["CENTRE DE SANTE LES TILLEULS (FINESS 010012345)", "CLINIQUE DU PARC (FINESS 340098765)"]);
    const chosen = await agent
      .post("/ps/psc/choix")
      .type("form")
      .send({ _csrf: csrfFrom(page.html()!), choice: "1" });
    expect(chosen.headers.location).toBe("/ps");
    expect($((await agent.get("/ps/messages")).text)("body").text()).toContain("CLINIQUE DU PARC");
  });
});

describe("a PSC login refused: a clear French page, no session, an audited reason", () => {
  async function refused(account: string) {
    const before = await lastAuditId();
    const { agent, callback } = await login(account);
    const res = await agent.get(callback);
    const after = await agent.get("/ps/messages");
    return { res, page: $(res.text), rows: await auditSince(before), signedIn: after.status === 200 };
  }

  it.each([
    ["unknown", "login.psc.unknown_rpps", "Votre numéro RPPS n'est pas connu de ce service."],
    ["adeli", "login.psc.unknown_rpps", "Votre numéro RPPS n'est pas connu de ce service."],
    ["martin", "login.psc.no_activity", "Aucune de vos activités déclarées dans Pro Santé Connect"],
    ["lowacr", "login.psc.acr_too_low", "Le niveau d'authentification reçu de Pro Santé Connect est insuffisant."],
  ])("%s → %s", async (account, action, message) => {
    const { res, page, rows, signedIn } = await refused(account);
    expect(res.status).toBe(403);
    expect(page("h1").text()).toBe("Connexion impossible");
    expect(page("[role=alert]").text()).toContain(message);
    expect(page('a[href="/ps/login"]').length).toBe(1);
    expect(signedIn).toBe(false);
    expect(rows.map((r) => r.action)).toEqual([action]);
  });
});

describe("the security of the flow: each failure clean (a French page, no session, no 500)", () => {
  const FAILED = "La connexion n'a pas pu être vérifiée";
  async function expectFailed(agent: ReturnType<typeof request.agent>, res: request.Response, text = FAILED, action = "login.psc.flow_failed", before?: number) {
    expect(res.status).toBe(400);
    expect($(res.text)("[role=alert]").text()).toContain(text);
    expect((await agent.get("/ps/messages")).status).toBe(303);
    if (before !== undefined) expect((await auditSince(before)).map((r) => r.action)).toEqual([action]);
  }

  it("a wrong state", async () => {
    const before = await lastAuditId();
    const { agent, back } = await login("gene");
    back.searchParams.set("state", "not-the-state");
    await expectFailed(agent, await agent.get(back.pathname + back.search), FAILED, "login.psc.flow_failed", before);
  });

  it("a callback without a login in progress (a code replayed, or sent to another browser)", async () => {
    const { agent, callback } = await login("gene");
    expect((await agent.get(callback)).headers.location).toBe("/ps");
    await agent
      .post("/logout")
      .type("form")
      .send({ _csrf: csrfFrom((await agent.get("/ps/messages")).text) });
    const replay = await agent.get(callback);
    await expectFailed(agent, replay);
  });

  it("a replayed code, under a new login's state", async () => {
    const first = await login("gene");
    expect((await first.agent.get(first.callback)).headers.location).toBe("/ps");
    // Another browser starts a login; the used code is sent back with that login's state.
    const second = await login("gene");
    const replayed = new URL(first.back.href);
    replayed.searchParams.set("state", second.back.searchParams.get("state")!);
    await expectFailed(second.agent, await second.agent.get(replayed.pathname + replayed.search));
  });

  it("a wrong nonce (the flow's nonce changed server-side)", async () => {
    const { agent, callback } = await login("gene");
    await editSessions(
      (data) => Boolean(data.oidcFlow),
      (data) => {
        data.oidcFlow.nonce = "another-nonce";
      },
    );
    await expectFailed(agent, await agent.get(callback));
  });

  it("a code issued to another client", async () => {
    const { agent, callback } = await login("gene", { rewrite: (url) => url.searchParams.set("client_id", other.clientId) });
    await expectFailed(agent, await agent.get(callback));
  });

  it("a flow older than 10 minutes (the user took too long at the provider)", async () => {
    const before = await lastAuditId();
    const { agent, callback } = await login("gene");
    await editSessions(
      (data) => Boolean(data.oidcFlow),
      (data) => {
        data.oidcFlow.createdAt -= 10 * 60_000 + 1000;
      },
    );
    await expectFailed(agent, await agent.get(callback), "La connexion a duré plus de 10 minutes et a expiré.", "login.psc.flow_expired", before);
  });

  it("an error sent back by the provider (the user cancelled)", async () => {
    const { agent, res: start } = await pressPscButton(app);
    const state = new URL(start.headers.location!).searchParams.get("state");
    await expectFailed(agent, await agent.get(`/ps/psc/callback?error=access_denied&state=${state}`));
  });

  it("no audit row, session or log holds a token", async () => {
    const { agent, callback } = await login("gene");
    await agent.get(callback);
    const audit = JSON.stringify(await app.db("audit_events").select());
    expect(audit).not.toMatch(/eyJ|code=|access_token|id_token/);
    // The session keeps the id token only (for logout), never the access token.
    const sessions = (await app.db("sessions").select("data")).map((r) => JSON.parse(r.data));
    const signedIn = sessions.filter((s) => s.oidcLogout);
    expect(signedIn.length).toBeGreaterThan(0);
    for (const s of signedIn) expect(Object.keys(s.oidcLogout)).toEqual(["door", "idToken"]);
    expect(JSON.stringify(sessions)).not.toMatch(/access_token|refresh_token/);
  });
});

describe("logout", () => {
  it("ends the local session, then the provider's: end session with id_token_hint, post_logout_redirect_uri, state", async () => {
    const before = await lastAuditId();
    const { agent, callback } = await login("gene");
    await agent.get(callback);
    const csrf = csrfFrom((await agent.get("/ps/messages")).text);
    const res = await agent.post("/logout").type("form").send({ _csrf: csrf });
    expect(res.status).toBe(303);
    const end = new URL(res.headers.location!);
    expect(end.origin).toBe(provider.issuer);
    expect(end.pathname).toBe("/session/end");
    expect(end.searchParams.get("id_token_hint")).toMatch(/^eyJ/);
    expect(end.searchParams.get("post_logout_redirect_uri")).toBe(client.postLogoutRedirectUri);
    expect(end.searchParams.get("state")).toBeTruthy();
    expect((await agent.get("/ps/messages")).status).toBe(303);
    expect((await auditSince(before)).map((r) => r.action)).toEqual(["login", "logout"]);
    // The provider accepts it, and its return lands on our logged-out page.
    const confirm = await request(provider.issuer).get(end.pathname + end.search);
    expect(confirm.status).toBe(200);
    const back = await agent.get("/ps/psc/deconnecte");
    expect(back.headers.location).toBe("/ps/login?deconnecte=1");
    expect($((await agent.get(back.headers.location!)).text)("[role=status]").text()).toBe("Vous avez été déconnecté.");
  });

  it("the card login's logout is unchanged: straight to the logged-out page", async () => {
    const agent = request.agent(app.app);
    const page = await agent.get("/ps/login");
    const gene = await practitioner("10000000011");
    await agent
      .post("/ps/login")
      .type("form")
      .send({ _csrf: csrfFrom(page.text), card: String(gene.id), pin: "1234" });
    const res = await agent
      .post("/logout")
      .type("form")
      .send({ _csrf: csrfFrom((await agent.get("/ps/messages")).text) });
    expect(res.headers.location).toBe("/ps/login?deconnecte=1");
  });
});

describe("the CSP's form-action", () => {
  it("allows the configured provider's origin, besides 'self'", async () => {
    const csp = String((await request(app.app).get("/ps/login")).headers["content-security-policy"]);
    const formAction = csp.split(";").find((d) => d.trim().startsWith("form-action"))!;
    expect(formAction.trim()).toBe(`form-action 'self' ${provider.issuer}`);
  });

  it("is 'self' only when no provider is configured", async () => {
    const plain = await startTestApp();
    try {
      const csp = String((await request(plain.app).get("/ps/login")).headers["content-security-policy"]);
      expect(csp.split(";")).toContain("form-action 'self'");
      const page = $((await request(plain.app).get("/ps/login")).text);
      expect(page('form[action="/ps/psc/login"]').length).toBe(0);
      // No such door: the doctor's space asks for its login, as for any page.
      expect((await request(plain.app).get("/ps/psc/callback?code=x&state=y")).headers.location).toMatch(/^\/ps\/login/);
      expect((await request(plain.app).post("/ps/psc/login")).headers.location ?? "").not.toMatch(/^http/);
    } finally {
      await plain.close();
    }
  });
});

describe("settings", () => {
  const base = { NODE_ENV: "test", SESSION_SECRET: "x".repeat(20) };
  it("half a configuration refuses to start, naming what is missing", () => {
    expect(() =>
      loadConfig({ ...base, PSC_DISCOVERY_URL: "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/.well-known/wallet-openid-configuration", PSC_CLIENT_ID: "x" }),
    ).toThrow("PSC: configuration incomplète, PSC_CLIENT_SECRET manquant");
    expect(() => loadConfig({ ...base, AGENT_OIDC_CLIENT_SECRET: "s" })).toThrow("AGENT_OIDC: configuration incomplète, AGENT_OIDC_DISCOVERY_URL, AGENT_OIDC_CLIENT_ID manquants");
  });

  it("https only in production; plain http on loopback outside it", () => {
    const psc = (url: string, env: Record<string, string> = {}) => loadConfig({ ...base, ...env, PSC_DISCOVERY_URL: url, PSC_CLIENT_ID: "id", PSC_CLIENT_SECRET: "secret" });
    expect(() => psc("http://127.0.0.1:4000/.well-known/wallet-openid-configuration", { NODE_ENV: "production" })).toThrow("doit être en https en production");
    expect(() => psc("http://idp.example/.well-known/openid-configuration")).toThrow("http n'est admis que sur la boucle locale");
    expect(psc("http://localhost:4000/.well-known/wallet-openid-configuration").psc?.insecure).toBe(true);
    const prod = psc("https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/.well-known/wallet-openid-configuration", {
      NODE_ENV: "production",
      PUBLIC_URL: "https://ems.example/",
    });
    expect(prod.psc).toMatchObject({ redirectUri: "https://ems.example/ps/psc/callback", insecure: false });
    expect(loadConfig(base).psc).toBeNull();
  });
});

describe("a provider that goes down", () => {
  let down: RunningProvider;
  let downApp: TestApp;
  beforeAll(async () => {
    down = await startOidcProvider({ kind: "psc", clients: [client], accounts: PSC_ACCOUNTS });
    downApp = await startTestApp({
      PSC_DISCOVERY_URL: down.discoveryUrl,
      PSC_CLIENT_ID: client.clientId,
      PSC_CLIENT_SECRET: client.clientSecret,
      LOGIN_LIMIT_PER_ADDRESS: "3",
    });
  });
  afterAll(async () => {
    await downApp?.close();
  });

  it("failed callbacks are rate limited per address (a French 429 page)", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(downApp.app).get(`/ps/psc/callback?code=c${i}&state=s${i}`)).status);
    expect(statuses).toEqual([400, 400, 400, 429]);
    await downApp.db("rate_limits").where("key", "like", "login-oidc-ip:%").del();
  });

  it("logout still ends the local session and lands on the app's logged-out page; a new login says the service is unavailable", async () => {
    const { agent, callback } = await throughProvider(downApp, down, "gene", { loginPage: "/ps/login", start: "/ps/psc/login" });
    expect((await agent.get(callback)).headers.location).toBe("/ps");
    const csrf = csrfFrom((await agent.get("/ps/messages")).text);
    await down.close();
    const res = await agent.post("/logout").type("form").send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/ps/login?deconnecte=1");
    expect((await agent.get("/ps/messages")).status).toBe(303);
    const page = await agent.get("/ps/login?deconnecte=1");
    expect($(page.text)("[role=status]").text()).toBe("Vous avez été déconnecté.");
    const start = await agent
      .post("/ps/psc/login")
      .type("form")
      .send({ _csrf: csrfFrom(page.text) });
    expect(start.status).toBe(503);
    expect($(start.text)("[role=alert]").text()).toContain("Le service d'identification ne répond pas pour le moment.");
  });
});

describe("the server with half a configuration", () => {
  it("does not start, and says which setting is missing", async () => {
    const { refusedStart } = await import("../helpers/process.js");
    const run = refusedStart({ DATA_DIR: app.dir, AGENT_OIDC_DISCOVERY_URL: "https://sso.example/.well-known/openid-configuration" });
    expect(run.status).toBe(1);
    expect(run.said).toBe(
      "Démarrage refusé : AGENT_OIDC: configuration incomplète, AGENT_OIDC_CLIENT_ID, AGENT_OIDC_CLIENT_SECRET manquants (renseigner AGENT_OIDC_DISCOVERY_URL, AGENT_OIDC_CLIENT_ID, AGENT_OIDC_CLIENT_SECRET, ou aucun)",
    );
  });
});

describe("PSC's discovery document, as PSC publishes it", () => {
  let split: RunningProvider;
  beforeAll(async () => {
    split = await startOidcProvider({ kind: "psc", clients: [client], accounts: PSC_ACCOUNTS, authorizationOnOtherHost: true });
  });
  afterAll(async () => {
    await split?.close();
  });

  it("an authorization endpoint on another host: the CSP's form-action allows both origins, the login goes through", async () => {
    const splitApp = await startTestApp({ PSC_DISCOVERY_URL: split.discoveryUrl, PSC_CLIENT_ID: client.clientId, PSC_CLIENT_SECRET: client.clientSecret });
    try {
      const csp = String((await request(splitApp.app).get("/ps/login")).headers["content-security-policy"]);
      const other = split.issuer.replace("127.0.0.1", "localhost");
      expect(csp.split(";")).toContain(`form-action 'self' ${split.issuer} ${other}`);
      const { agent, authorize, callback } = await throughProvider(splitApp, split, "gene", { loginPage: "/ps/login", start: "/ps/psc/login" });
      expect(authorize.origin).toBe(other);
      expect((await agent.get(callback)).headers.location).toBe("/ps");
    } finally {
      await splitApp.close();
    }
  });

  it("a document that is not its issuer's (another origin than the address configured) is refused", async () => {
    const elsewhere = split.discoveryUrl.replace("127.0.0.1", "localhost");
    const wrongApp = await startTestApp({ PSC_DISCOVERY_URL: elsewhere, PSC_CLIENT_ID: client.clientId, PSC_CLIENT_SECRET: client.clientSecret });
    try {
      const { res } = await pressPscButton(wrongApp);
      expect(res.status).toBe(503);
      expect($(res.text)("[role=alert]").text()).toContain("Le service d'identification ne répond pas pour le moment.");
    } finally {
      await wrongApp.close();
    }
  });
});

describe("the logs of a real login", () => {
  it("hold neither the code, the state nor any token", async () => {
    const log = captureLog();
    const logged = await startTestApp(
      { PSC_DISCOVERY_URL: provider.discoveryUrl, PSC_CLIENT_ID: client.clientId, PSC_CLIENT_SECRET: client.clientSecret, LOG_LEVEL: "info" },
      { log: log.stream },
    );
    try {
      const { agent, back, callback } = await throughProvider(logged, provider, "gene", { loginPage: "/ps/login", start: "/ps/psc/login" });
      expect((await agent.get(callback)).headers.location).toBe("/ps");
      const logout = await agent
        .post("/logout")
        .type("form")
        .send({ _csrf: csrfFrom((await agent.get("/ps/messages")).text) });
      const idToken = new URL(logout.headers.location!).searchParams.get("id_token_hint")!;
      const text = log.lines.join("\n");
      expect(log.lines.length).toBeGreaterThan(3);
      for (const secret of [back.searchParams.get("code")!, back.searchParams.get("state")!, idToken, client.clientSecret]) expect(text).not.toContain(secret);
    } finally {
      await logged.close();
    }
  });
});
