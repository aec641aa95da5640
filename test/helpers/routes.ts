import type { Express } from "express";

export type RouteEntry = { method: "get" | "post"; path: string };

/** Every route the app serves, read from Express's own router stack (so new routes are included). */
export function routeTable(app: Express): RouteEntry[] {
  const out: RouteEntry[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: Express does not type its router stack.
  const walk = (stack: any[]) => {
    for (const layer of stack) {
      // A middleware mounted on several routes at once (the multipart parser on the file routes) is not a route.
      if (layer.route && typeof layer.route.path === "string") {
        for (const method of Object.keys(layer.route.methods)) out.push({ method: method as "get" | "post", path: layer.route.path });
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  // biome-ignore lint/suspicious/noExplicitAny: idem.
  walk((app as any).router.stack);
  return out;
}
