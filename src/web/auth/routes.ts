import { Router, type Request } from "express";
import type { AppDeps } from "../../deps.js";
import { audit } from "../../domain/audit/audit.js";
import { agentLogin, cpsLogin, type LoginResult } from "../../domain/auth/cps.js";
import { agentCards, cpsCards } from "../../domain/directory/queries.js";
import { errorItems } from "../forms.js";
import { csrfProtection } from "../middleware/csrf.js";
import { loginLimiters } from "../middleware/rate-limit.js";
import { clearSignedIn, sessionCookieName } from "../middleware/session.js";
import { providerLogout, type Doors } from "./oidc.js";
import { signIn } from "./sign-in.js";

/** A refused login: the same page, the error in the summary and on its field. */
function refusal(result: Extract<LoginResult<unknown>, { ok: false }>) {
  const errors = { [result.field]: result.message };
  return { errors, errorItems: errorItems(errors) };
}

/** Why the login page is shown, when a link or redirect says it: the session expired, or the user logged out. */
function loginNotice(req: Request): string | null {
  if (req.query.expire === "1") return "Votre session a expiré : reconnectez-vous.";
  if (req.query.deconnecte === "1") return "Vous avez été déconnecté.";
  return null;
}

/** The simulated logins (marked « démonstration »), under the real doors' buttons when configured (issue 16);  (CPS card + PIN; agent picker), the session's keep-alive, and logout. */
export function authRoutes(deps: AppDeps, doors: Doors): Router {
  const { db, config } = deps;
  const router = Router();
  const limited = loginLimiters(db, config.loginLimitPerAddress, config.loginLimitPerCard);

  router.get("/ps/login", async (req, res) =>
    res.render("auth/ps-login", { cards: await cpsCards(db), psc: doors.psc !== null, errors: {}, errorItems: [], notice: loginNotice(req) }),
  );
  router.post("/ps/login", csrfProtection, ...limited, async (req, res) => {
    const result = await cpsLogin(db, req.body.card, String(req.body.pin ?? ""), req.ip ?? "");
    if (!result.ok) {
      return res.status(422).render("auth/ps-login", { cards: await cpsCards(db), psc: doors.psc !== null, ...refusal(result), selected: String(req.body.card ?? "") });
    }
    res.redirect(303, await signIn(deps, req, res, result.actor, "/ps"));
  });

  router.get("/bo/login", async (req, res) =>
    res.render("auth/bo-login", { agents: await agentCards(db), sso: doors.sso !== null, errors: {}, errorItems: [], notice: loginNotice(req) }),
  );
  router.post("/bo/login", csrfProtection, ...limited, async (req, res) => {
    const result = await agentLogin(db, req.body.agent, req.ip ?? "");
    if (!result.ok) return res.status(422).render("auth/bo-login", { agents: await agentCards(db), sso: doors.sso !== null, ...refusal(result) });
    res.redirect(303, await signIn(deps, req, res, result.actor, "/bo"));
  });

  // Any signed-in request extends the session (rolling cookie). This one — the warning's "Prolonger", or typing in a
  // form (session.js, at most once a minute) — always writes the new deadline, and says how long is left.
  router.post("/session/prolonger", csrfProtection, (req, res) => {
    if (!req.session.user) return res.status(401).end();
    req.session.activeAt = Date.now();
    res.set("X-Session-Remaining", String(config.sessionIdleMs));
    res.status(204).end();
  });

  router.post("/logout", csrfProtection, async (req, res) => {
    const actor = req.session.user;
    if (actor) await audit(db, { actor, ip: req.ip ?? "" }, "logout");
    const home = actor?.kind === "agent" ? "/bo/login" : "/ps/login";
    const held = req.session.oidcLogout;
    // The local session ends first, whatever the provider does next.
    await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    res.clearCookie(sessionCookieName(config), { path: "/" });
    clearSignedIn(res);
    // A session a provider opened is ended there too (it sends the browser back to our logged-out page); a provider
    // that cannot be reached, or has no end session, leaves the user on our logged-out page at once.
    res.redirect(303, (await providerLogout(doors, held)) ?? `${home}?deconnecte=1`);
  });

  return router;
}
