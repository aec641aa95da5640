import type { Request, RequestHandler } from "express";

/** A one-time confirmation shown after a Post/Redirect/Get. */
export function flash(req: Request, message: string): void {
  req.session.flash = message;
}

export const flashLocals: RequestHandler = (req, res, next) => {
  if (req.method === "GET" && req.session?.flash) {
    res.locals.flash = req.session.flash;
    delete req.session.flash;
  }
  next();
};
