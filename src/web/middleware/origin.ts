import type { Request } from "express";

/**
 * Who started a request, from the browser's Fetch Metadata (`Sec-Fetch-Site`) and `Origin` headers: the one place
 * where the app tells its own pages from another site's. A browser too old to send them counts as ours (the
 * SameSite cookie and the CSRF token still hold for writes).
 */

/** A form posted from our own pages: same origin, never another site (even a sibling one). */
export function postedFromOurPages(req: Request): boolean {
  const site = req.get("Sec-Fetch-Site");
  const origin = req.get("Origin");
  return !(site && site !== "same-origin") && !(origin && origin !== `${req.protocol}://${req.get("host")}`);
}

/**
 * A page opened by the user: a link or form of our own pages, or typed / bookmarked / opened from a mail program
 * (`none`). A navigation another site started (`cross-site`, `same-site`) may show the page but must change nothing,
 * not even a read mark.
 */
export function openedByTheUser(req: Request): boolean {
  const site = req.get("Sec-Fetch-Site");
  return !site || site === "same-origin" || site === "none";
}
