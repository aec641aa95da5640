import * as client from "openid-client";
import type { OidcSettings } from "../../config.js";

/** A login left at the provider longer than this fails (« recommencez »): its state, nonce and verifier are spent. */
export const FLOW_MAX_AGE_MS = 10 * 60_000;

/** What a login in progress keeps, server-side only (the session): never in a URL or a cookie. */
export type OidcFlow = { state: string; nonce: string; codeVerifier: string; createdAt: number };

/** Why a callback failed: the flow is too old, or anything the provider or openid-client refused (state, nonce, code…). */
export type FlowFailure = { ok: false; reason: "expired" | "invalid" | "unavailable" };

export type Completed = {
  ok: true;
  /** Kept for logout (id_token_hint), server-side; the access token is used for userinfo and dropped. */
  idToken: string;
  idClaims: Record<string, unknown>;
  userinfo: Record<string, unknown>;
};

/** How a provider is asked: PSC wants `scope_all` and `acr_values=eidas1`; the agents' provider plain `openid`. */
export type DoorOptions = { scope: string; acrValues?: string };

/** One OpenID Connect provider, as the app uses it: start a login, finish it, log out at the provider. */
export type OidcDoor = {
  begin(now?: number): Promise<{ url: string; flow: OidcFlow }>;
  complete(flow: OidcFlow | undefined, callbackUrl: URL, now?: number): Promise<Completed | FlowFailure>;
  /** The provider's end-session address for this id token; null when it has none or cannot be reached. */
  endSessionUrl(idToken: string): Promise<string | null>;
  /** The origins a form of ours may be redirected to (CSP form-action): discovery, authorization, end session. */
  formOrigins(): string[];
  /** Discovery done once (a failure is not retried for a minute), so that formOrigins knows the provider's endpoints. */
  ready(): Promise<void>;
};

/** Seconds a call to the provider may take: a provider down must not hold a login or a logout for long. */
const TIMEOUT_SECONDS = 5;

/**
 * The discovery document, fetched from the configured address. openid-client does not compare the issuer when given a
 * full `/.well-known/…` address (PSC's is non-standard: `wallet-openid-configuration`), so it is compared here: the
 * document must sit under its own issuer, else it is refused.
 */
async function discover(settings: OidcSettings): Promise<client.Configuration> {
  const url = new URL(settings.discoveryUrl);
  const configuration = await client.discovery(url, settings.clientId, settings.clientSecret, undefined, {
    timeout: TIMEOUT_SECONDS,
    execute: settings.insecure ? [client.allowInsecureRequests] : [],
  });
  const issuer = configuration.serverMetadata().issuer.replace(/\/$/, "");
  if (!url.href.startsWith(`${issuer}/.well-known/`)) throw new Error("discovery document issuer mismatch");
  return configuration;
}

function originOf(address: string | undefined): string | null {
  try {
    return address ? new URL(address).origin : null;
  } catch {
    return null;
  }
}

export function oidcDoor(settings: OidcSettings, options: DoorOptions): OidcDoor {
  let known: client.Configuration | null = null;
  let failedAt = 0;
  let warming: Promise<void> | null = null;
  const configuration = async (fresh = false) => {
    if (!known || fresh) {
      try {
        known = await discover(settings);
      } catch (err) {
        failedAt = Date.now();
        throw err;
      }
    }
    return known;
  };

  return {
    async begin(now = Date.now()) {
      // Fetched again at each login: a provider down is said here (« ne répond pas »), not by the browser at its door.
      const config = await configuration(true);
      const flow: OidcFlow = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier(), createdAt: now };
      const parameters: Record<string, string> = {
        redirect_uri: settings.redirectUri,
        response_type: "code",
        scope: options.scope,
        state: flow.state,
        nonce: flow.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(flow.codeVerifier),
        code_challenge_method: "S256",
      };
      if (options.acrValues) parameters.acr_values = options.acrValues;
      return { url: client.buildAuthorizationUrl(config, parameters).href, flow };
    },

    async complete(flow, callbackUrl, now = Date.now()) {
      if (!flow) return { ok: false, reason: "invalid" };
      if (now - flow.createdAt > FLOW_MAX_AGE_MS) return { ok: false, reason: "expired" };
      let config: client.Configuration;
      try {
        config = await configuration();
      } catch {
        return { ok: false, reason: "unavailable" };
      }
      try {
        const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: flow.codeVerifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims();
        if (!idClaims || !tokens.id_token) return { ok: false, reason: "invalid" };
        // The access token lives about 2 minutes (PSC): userinfo is read now, the token is not kept.
        const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        return { ok: true, idToken: tokens.id_token, idClaims: { ...idClaims }, userinfo: { ...userinfo } };
      } catch {
        // A wrong state or nonce, a replayed code, a code for another client, an error the provider sent back: one failure.
        return { ok: false, reason: "invalid" };
      }
    },

    async endSessionUrl(idToken) {
      try {
        // Fetched again: a provider that cannot be reached now would leave the browser on an error page.
        const config = await configuration(true);
        if (!config.serverMetadata().end_session_endpoint) return null;
        return client.buildEndSessionUrl(config, {
          id_token_hint: idToken,
          post_logout_redirect_uri: settings.postLogoutRedirectUri,
          state: client.randomState(),
        }).href;
      } catch {
        return null;
      }
    },

    ready() {
      if (known || Date.now() - failedAt < 60_000) return Promise.resolve();
      // One discovery for all the requests arriving meanwhile.
      warming ??= configuration()
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          warming = null;
        });
      return warming;
    },

    formOrigins() {
      const metadata = known?.serverMetadata();
      const origins = [settings.discoveryUrl, metadata?.authorization_endpoint, metadata?.end_session_endpoint].map(originOf);
      return [...new Set(origins.filter((o): o is string => o !== null))];
    },
  };
}
