import request from "supertest";
import { csrfFrom, type TestApp } from "./app.js";
import { PROVIDER_PIN, type RunningProvider } from "./oidc-provider.js";

const pathOf = (location: string) => {
  const u = new URL(location);
  return u.pathname + u.search;
};

/**
 * A real login through a test provider, as a browser makes it: the app's button (a form post) → the provider's
 * authorization endpoint → its card + PIN page → back with a code. Answers the app's agent (its cookies) and the
 * callback path the provider sent the browser to — not followed yet, so that a test may tamper first.
 */
export async function throughProvider(
  app: TestApp,
  provider: RunningProvider,
  account: string,
  options: { loginPage: "/ps/login" | "/bo/login"; start: string; agent?: ReturnType<typeof request.agent>; rewrite?: (url: URL) => void },
) {
  const agent = options.agent ?? request.agent(app.app);
  const page = await agent.get(options.loginPage);
  const start = await agent
    .post(options.start)
    .type("form")
    .send({ _csrf: csrfFrom(page.text) });
  if (start.status !== 303) throw new Error(`login start: ${start.status}`);
  const authorize = new URL(start.headers.location!);
  options.rewrite?.(authorize);
  const idp = request.agent(provider.issuer);
  const toInteraction = await idp.get(pathOf(authorize.href));
  if (!toInteraction.headers.location) throw new Error(`authorize: ${toInteraction.status} ${toInteraction.text.slice(0, 300)}`);
  const interaction = new URL(toInteraction.headers.location, provider.issuer);
  await idp.get(interaction.pathname);
  const submitted = await idp.post(interaction.pathname).type("form").send({ account, pin: PROVIDER_PIN });
  const resumed = await idp.get(pathOf(new URL(submitted.headers.location!, provider.issuer).href));
  const back = new URL(resumed.headers.location!);
  return { agent, authorize, callback: back.pathname + back.search, back };
}
