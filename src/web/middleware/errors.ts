import crypto from "node:crypto";
import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Logger } from "pino";
import { isStorageFault, NotFound, StoredFileUnreadable } from "../../domain/errors.js";
import { LIMITS } from "../../domain/limits.js";
import { routeOf } from "./request-log.js";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const TITLES: Record<number, string> = {
  400: "Requête invalide",
  403: "Action refusée",
  404: "Page introuvable",
  405: "Méthode non autorisée",
  413: "Envoi trop volumineux",
  429: "Trop de tentatives",
  500: "Erreur du service",
  503: "Service momentanément indisponible",
};

const MESSAGES: Record<number, string> = {
  400: "La requête n'a pas pu être comprise. Revenez à la page précédente et réessayez.",
  403: "Cette action a été refusée : le formulaire a peut-être expiré. Rechargez la page et recommencez.",
  404: "Cette page n'existe pas ou vous n'y avez pas accès.",
  405: "Cette action n'est pas possible à cette adresse.",
  413: `L'envoi dépasse la taille autorisée (${LIMITS.fileSize} par pièce jointe, ${LIMITS.files} pièces jointes au plus).`,
  429: "Trop de tentatives en peu de temps. Patientez quelques minutes avant de réessayer.",
  500: "Une erreur inattendue est survenue. Réessayez dans quelques instants ; si elle persiste, contactez la hotline en citant la référence.",
  503: "Le service ne peut rien enregistrer pour le moment (espace de stockage indisponible) : votre action n'a pas été prise en compte. Réessayez dans quelques minutes ; si le problème persiste, contactez la hotline en citant la référence.",
};

const UNREADABLE_FILE =
  "Cette pièce jointe n'a pas pu être lue sur le serveur : elle n'a pas été téléchargée. Réessayez plus tard ; si le problème persiste, contactez la hotline en citant la référence.";

export const notFoundHandler: RequestHandler = (_req, _res, next) => next(new NotFound());

export function errorHandler(logger: Logger, showStack: boolean): ErrorRequestHandler {
  return (err, req, res, _next) => {
    // A storage that cannot take a write (disk full, read-only, database full…) is a 503 whatever threw it.
    const raw =
      err instanceof NotFound
        ? 404
        : err instanceof StoredFileUnreadable
          ? 500
          : isStorageFault(err)
            ? 503
            : ((err as { status?: number; statusCode?: number }).status ?? (err as { statusCode?: number }).statusCode ?? 500);
    const status = TITLES[raw] ? raw : raw >= 400 && raw < 500 ? 400 : 500;
    const reference = crypto.randomBytes(4).toString("hex").toUpperCase();
    // The error by its class and code only (src/log.ts: errorFacts), the route by its pattern.
    const unreadable = err instanceof StoredFileUnreadable;
    if (unreadable) {
      logger.error({ reference, method: req.method, route: routeOf(req, res), attachment: err.attachmentId, code: err.code }, "attachment file unreadable");
    } else if (status === 503) {
      logger.error({ reference, method: req.method, route: routeOf(req, res), err }, "storage unavailable");
    } else if (status >= 500) {
      logger.error({ reference, method: req.method, route: routeOf(req, res), err }, "request failed");
    } else {
      logger.info({ reference, method: req.method, route: routeOf(req, res), status }, "request refused");
    }
    // Failed mid-answer (a download cut by a read error): the client must see it broken, not complete. An
    // answer already complete (a late session store error, reported by express-session after it) is left whole.
    if (res.headersSent) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    res.status(status).render("errors/error", {
      title: unreadable ? "Pièce jointe indisponible" : TITLES[status],
      message: unreadable ? UNREADABLE_FILE : MESSAGES[status],
      reference,
      stack: showStack && status >= 500 ? String((err as Error).stack ?? err) : null,
    });
  };
}
