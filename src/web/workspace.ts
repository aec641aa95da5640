import type { Request, Response } from "express";

/** Renders a page of a side's workspace: the page's own model, with the side's list column beside it. */
export type RenderWorkspace = (req: Request, res: Response, view: string, model: Record<string, unknown>, status?: number) => Promise<void>;

export function workspaceRenderer(sidebar: (req: Request, res: Response) => Promise<Record<string, unknown>>): RenderWorkspace {
  return async (req, res, view, model, status = 200) => {
    res.status(status).render(view, { ...(await sidebar(req, res)), ...model });
  };
}
