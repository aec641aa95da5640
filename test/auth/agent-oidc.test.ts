import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, csrfFrom, startTestApp, type TestApp } from "../helpers/app.js";
import { throughProvider } from "../helpers/oidc-flow.js";
import { startOidcProvider, type RunningProvider, type TestAccount } from "../helpers/oidc-provider.js";

const PUBLIC_URL = "https://ems.example";
const client = {
  clientId: "ems-agents",
  clientSecret: "agents-secret-0123456789",
  redirectUri: `${PUBLIC_URL}/bo/oidc/callback`,
  postLogoutRedirectUri: `${PUBLIC_URL}/bo/oidc/deconnecte`,
};
// The insurer's accounts: `sub` is the demo's sso id (AGENT_OIDC_ID_CLAIM's default); `ameli_uid` another claim.
const ACCOUNTS: TestAccount[] = [
  { id: "anna.ain", label: "Anna AIN", acr: "eidas1", claims: { family_name: "AIN", given_name: "Anna", ameli_uid: "marc.dubois" } },
  { id: "paul.herault", label: "Paul HERAULT", acr: "eidas1", claims: { family_name: "HERAULT", given_name: "Paul", ameli_uid: "paul.herault" } },
  { id: "stranger", label: "Agent inconnu", acr: "eidas1", claims: { family_name: "INCONNU", given_name: "Jean", ameli_uid: "nobody" } },
];

let provider: RunningProvider;
let app: TestApp;
const env = () => ({ AGENT_OIDC_DISCOVERY_URL: provider.discoveryUrl, AGENT_OIDC_CLIENT_ID: client.clientId, AGENT_OIDC_CLIENT_SECRET: client.clientSecret });
beforeAll(async () => {
  provider = await startOidcProvider({ kind: "sso", clients: [client], accounts: ACCOUNTS, profileClaims: ["ameli_uid"] });
  app = await startTestApp(env());
});
afterAll(async () => {
  await app?.close();
  await provider?.close();
});

const login = (target: TestApp, account: string) => throughProvider(target, provider, account, { loginPage: "/bo/login", start: "/bo/oidc/login" });
const lastAuditId = async () => Number((await app.db("audit_events").max({ id: "id" }).first())?.id ?? 0);

describe("the back office's login page with the insurer's SSO configured", () => {
  it("offers « Se connecter avec le compte Assurance Maladie » above the demo picker, marked « démonstration »", async () => {
    const page = $((await request(app.app).get("/bo/login")).text);
    expect(page('form[action="/bo/oidc/login"] button[type=submit]').text()).toContain("Se connecter avec le compte Assurance Maladie");
    const html = page("main").html()!;
    expect(html.indexOf('action="/bo/oidc/login"')).toBeLessThan(html.indexOf('action="/bo/login"'));
    expect(page(".demo-heading").text()).toContain("démonstration");
    // The doctors' page offers no PSC button: that door is not configured.
    expect($((await request(app.app).get("/ps/login")).text)('form[action="/ps/psc/login"]').length).toBe(0);
  });

  it("sends the browser to the standard discovery's authorization endpoint with PKCE, state and nonce", async () => {
    const agent = request.agent(app.app);
    const page = await agent.get("/bo/login");
    const url = new URL(
      (
        await agent
          .post("/bo/oidc/login")
          .type("form")
          .send({ _csrf: csrfFrom(page.text) })
      ).headers.location!,
    );
    expect(url.origin).toBe(provider.issuer);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("state")).toBeTruthy();
    expect(url.searchParams.get("nonce")).toBeTruthy();
    expect(url.searchParams.get("redirect_uri")).toBe(client.redirectUri);
  });
});

describe("signing in with the insurer's SSO", () => {
  it("the agent named by `sub` (the default claim) lands on their trays, audited as a login", async () => {
    const before = await lastAuditId();
    const { agent, callback } = await login(app, "anna.ain");
    const res = await agent.get(callback);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/bo");
    const trays = await agent.get("/bo/bannettes/a-traiter");
    expect(trays.status).toBe(200);
    expect($(trays.text)("body").text()).toContain("AIN Anna");
    const anna = await app.db("agents").where({ sso_id: "anna.ain" }).first("id");
    const rows = await app.db("audit_events").where("id", ">", before);
    expect(rows.map((r) => [r.action, r.actor_type, r.actor_id])).toEqual([["login", "agent", anna.id]]);
  });

  it("an account no agent has: a clear French page, no session, the refusal audited", async () => {
    const before = await lastAuditId();
    const { agent, callback } = await login(app, "stranger");
    const res = await agent.get(callback);
    expect(res.status).toBe(403);
    expect($(res.text)("[role=alert]").text()).toContain("Votre compte Assurance Maladie n'est associé à aucun agent");
    expect((await agent.get("/bo/bannettes/a-traiter")).status).toBe(303);
    expect((await app.db("audit_events").where("id", ">", before)).map((r) => r.action)).toEqual(["login.sso.unknown_agent"]);
  });

  it("a wrong state fails cleanly", async () => {
    const { agent, back } = await login(app, "anna.ain");
    back.searchParams.set("state", "forged");
    const res = await agent.get(back.pathname + back.search);
    expect(res.status).toBe(400);
    expect($(res.text)("[role=alert]").text()).toContain("La connexion n'a pas pu être vérifiée");
    expect((await agent.get("/bo/bannettes/a-traiter")).status).toBe(303);
  });

  it("AGENT_OIDC_ID_CLAIM names another claim: the agent it holds signs in", async () => {
    const other = await startTestApp({ ...env(), AGENT_OIDC_ID_CLAIM: "ameli_uid" });
    try {
      // Anna's account carries ameli_uid = marc.dubois: with this claim, it is Marc DUBOIS who signs in.
      const { agent, callback } = await login(other, "anna.ain");
      expect((await agent.get(callback)).headers.location).toBe("/bo");
      expect($((await agent.get("/bo/bannettes/a-traiter")).text)("body").text()).toContain("DUBOIS Marc");
    } finally {
      await other.close();
    }
  });

  it("logout ends the local session, then redirects to the provider's end session with id_token_hint", async () => {
    const { agent, callback } = await login(app, "paul.herault");
    await agent.get(callback);
    const csrf = csrfFrom((await agent.get("/bo/bannettes/a-traiter")).text);
    const res = await agent.post("/logout").type("form").send({ _csrf: csrf });
    const end = new URL(res.headers.location!);
    expect(end.origin + end.pathname).toBe(`${provider.issuer}/session/end`);
    expect(end.searchParams.get("id_token_hint")).toMatch(/^eyJ/);
    expect(end.searchParams.get("post_logout_redirect_uri")).toBe(client.postLogoutRedirectUri);
    expect((await agent.get("/bo/bannettes/a-traiter")).status).toBe(303);
    expect((await agent.get("/bo/oidc/deconnecte")).headers.location).toBe("/bo/login?deconnecte=1");
  });

  it("the CSP's form-action allows the agents' provider", async () => {
    const csp = String((await request(app.app).get("/bo/login")).headers["content-security-policy"]);
    expect(csp.split(";")).toContain(`form-action 'self' ${provider.issuer}`);
  });
});
