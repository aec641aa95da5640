import http from "node:http";
import type { AddressInfo } from "node:net";
import Provider, { type Configuration } from "oidc-provider";

/**
 * A real OpenID provider in the test process (oidc-provider 8), configured like Pro Santé Connect (issue 16): the
 * discovery document also under PSC's non-standard name `/.well-known/wallet-openid-configuration`, a card + PIN
 * interaction page, PSC's userinfo shape (SubjectNameID, otherIds, SubjectRefPro), `acr` eidas1 / eidas3, PKCE
 * required, end session enabled. `kind: "sso"` is the agents' provider: the standard discovery name, claims named by
 * the test. Listens on a random loopback port.
 */

export type TestAccount = { id: string; label: string; acr: string; claims: Record<string, unknown> };
export type TestClient = { clientId: string; clientSecret: string; redirectUri: string; postLogoutRedirectUri: string };
export type RunningProvider = Awaited<ReturnType<typeof startOidcProvider>>;

export const PROVIDER_PIN = "1234";

const activity = (codeModeExercice: "L" | "S", numeroFinessSite: string, raisonSocialeSite: string) => ({
  codeModeExercice,
  numeroFinessSite,
  raisonSocialeSite,
  codeSecteurActivite: codeModeExercice === "L" ? "SA07" : "SA01",
});
const psc = (idnps: string, family: string, given: string, activities: ReturnType<typeof activity>[], otherIds: unknown[] = []) => ({
  SubjectNameID: idnps,
  SubjectRefPro: { codeCivilite: "DR", exercices: [{ codeProfession: "10", activities }] },
  otherIds,
  family_name: family,
  given_name: given,
});

/** The demo doctors as PSC would describe them (RPPS of db/seeds/demo.ts), and the accounts each refusal needs. */
export const PSC_ACCOUNTS: TestAccount[] = [
  { id: "gene", label: "Dr Alain GENE (libéral)", acr: "eidas3", claims: psc("810000000011", "GENE", "Alain", [activity("L", "", "CABINET DU DR GENE")]) },
  {
    id: "benali",
    label: "Dr Karim BENALI (centre de santé)",
    acr: "eidas1",
    claims: psc("810000000060", "BENALI", "Karim", [activity("S", "010012345", "CENTRE DE SANTE LES TILLEULS")]),
  },
  {
    id: "roux",
    label: "Dr Hélène ROUX (libérale et centre de santé)",
    acr: "eidas1",
    claims: psc("810000000052", "ROUX", "Hélène", [activity("L", "", "CABINET DU DR ROUX"), activity("S", "010012345", "CENTRE DE SANTE LES TILLEULS")]),
  },
  {
    id: "leroy",
    label: "Dr Pierre LEROY (deux établissements)",
    acr: "eidas1",
    claims: psc("810000000078", "LEROY", "Pierre", [activity("S", "340098765", "CLINIQUE DU PARC"), activity("S", "010012345", "CENTRE DE SANTE LES TILLEULS")]),
  },
  // An ADELI IDNPS: found only through the bare RPPS in otherIds.
  {
    id: "mezin",
    label: "Dr Jean-Luc MEZIN (ADELI, RPPS dans otherIds)",
    acr: "eidas1",
    claims: psc("0381234567", "MEZIN", "Jean-Luc", [activity("L", "", "CABINET DU DR MEZIN")], [{ identifiant: "10000000029", origine: "RPPS", qualite: 1 }]),
  },
  { id: "adeli", label: "Infirmier ADELI seul", acr: "eidas1", claims: psc("0019999999", "DURAND", "Louis", [activity("L", "", "CABINET DURAND")]) },
  { id: "unknown", label: "RPPS inconnu", acr: "eidas1", claims: psc("819999999999", "INCONNU", "Jean", [activity("L", "", "CABINET INCONNU")]) },
  {
    id: "martin",
    label: "Dr Sophie MARTIN (activité hors service)",
    acr: "eidas1",
    claims: psc("810000000045", "MARTIN", "Sophie", [activity("S", "999999999", "HOPITAL LOINTAIN")]),
  },
  { id: "lowacr", label: "Dr Alain GENE (niveau faible)", acr: "eidas0", claims: psc("810000000011", "GENE", "Alain", [activity("L", "", "CABINET DU DR GENE")]) },
];

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => resolve(new URLSearchParams(body)));
    req.on("error", reject);
  });
}

function page(res: http.ServerResponse, status: number, title: string, body: string) {
  res.writeHead(status, { "Content-Type": "text/html; charset=utf-8" });
  res.end(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`);
}

export async function startOidcProvider(options: {
  kind: "psc" | "sso";
  clients: TestClient[];
  accounts: TestAccount[];
  /** The agents' provider: which claims its `profile` scope gives (beyond sub). */
  profileClaims?: string[];
  /** As PSC: the authorization endpoint announced on another host (`localhost` for the issuer's 127.0.0.1). */
  authorizationOnOtherHost?: boolean;
}) {
  const accounts = new Map(options.accounts.map((a) => [a.id, a]));
  let provider: Provider | null = null;
  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const title = options.kind === "psc" ? "Pro Santé Connect (test)" : "Compte Assurance Maladie (test)";

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const p = provider!;
    const url = new URL(req.url ?? "/", issuer);
    // No icon: the browser's automatic request answered without an error in its console.
    if (url.pathname === "/favicon.ico") {
      res.writeHead(204);
      return res.end();
    }
    // PSC's discovery name: the provider's own document.
    if (url.pathname === "/.well-known/wallet-openid-configuration") {
      if (options.authorizationOnOtherHost) {
        const document = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
        document.authorization_endpoint = document.authorization_endpoint!.replace("//127.0.0.1:", "//localhost:");
        res.writeHead(200, { "Content-Type": "application/json" });
        return res.end(JSON.stringify(document));
      }
      req.url = "/.well-known/openid-configuration";
    }
    const interaction = /^\/interaction\/([^/]+)$/.exec(url.pathname);
    if (!interaction) return p.callback()(req, res);
    const details = await p.interactionDetails(req, res);
    if (req.method === "GET") {
      const choices = options.accounts.map((a) => `<option value="${escapeHtml(a.id)}">${escapeHtml(a.label)}</option>`).join("");
      return page(
        res,
        200,
        title,
        `<form method="post" action="/interaction/${escapeHtml(details.uid)}">
          <label for="account">Carte CPS</label> <select id="account" name="account">${choices}</select>
          <label for="pin">Code PIN</label> <input id="pin" name="pin" type="password" inputmode="numeric">
          <button type="submit">Valider</button></form>`,
      );
    }
    const form = await readForm(req);
    const account = accounts.get(form.get("account") ?? "");
    if (!account || form.get("pin") !== PROVIDER_PIN) return page(res, 422, title, "<p>Code PIN erroné.</p>");
    const clientId = String(details.params.client_id);
    const grant = new p.Grant({ accountId: account.id, clientId });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await p.interactionFinished(req, res, { login: { accountId: account.id, acr: account.acr }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  const claims: Configuration["claims"] =
    options.kind === "psc"
      ? { openid: ["sub"], scope_all: ["SubjectNameID", "otherIds", "SubjectRefPro", "family_name", "given_name"], acr: null }
      : { openid: ["sub"], profile: ["family_name", "given_name", ...(options.profileClaims ?? [])] };

  provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: [c.redirectUri],
      post_logout_redirect_uris: [c.postLogoutRedirectUri],
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_post",
    })),
    pkce: { required: () => true, methods: ["S256"] },
    scopes: options.kind === "psc" ? ["openid", "scope_all"] : ["openid", "profile"],
    claims,
    acrValues: ["eidas0", "eidas1", "eidas2", "eidas3"],
    findAccount: async (_ctx, id) => {
      const account = accounts.get(id);
      return account ? { accountId: id, claims: async () => ({ sub: id, ...account.claims }) } : undefined;
    },
    interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
    cookies: { keys: ["oidc-provider-test-key"] },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Déconnexion (test)</title></head><body><main><h1>Se déconnecter de ${title} ?</h1>${form.replace("</form>", '<button type="submit" name="logout" value="yes">Se déconnecter</button></form>')}</main></body></html>`;
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = "<!doctype html><title>Déconnecté</title><p>Déconnecté.</p>";
        },
      },
    },
    ttl: { AccessToken: 120, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
  });
  provider.on("server_error", () => undefined);

  return {
    issuer,
    discoveryUrl: options.kind === "psc" ? `${issuer}/.well-known/wallet-openid-configuration` : `${issuer}/.well-known/openid-configuration`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
