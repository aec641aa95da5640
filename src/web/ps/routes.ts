import { Router, type NextFunction, type Request, type Response } from "express";
import type { AppDeps } from "../../deps.js";
import type { PsActor } from "../../domain/actor.js";
import { submitCompose } from "../../domain/conversations/compose.js";
import { parseCursor } from "../../domain/conversations/lists.js";
import { deleteForPs, markedUnreadNotice, markUnread, traceDisplay } from "../../domain/conversations/operations.js";
import { draftPatient, questionPatient } from "../../domain/conversations/ps-question.js";
import { psSearchFields } from "../../domain/conversations/search.js";
import { openThread } from "../../domain/conversations/thread.js";
import { psWorkspace } from "../../domain/conversations/workspace.js";
import { ThreadDeleted } from "../../domain/errors.js";
import { patientView } from "../../domain/directory/cards.js";
import { patientFromChoice, patientFromNir, patientFromVitale, shownBy, traceShown, type PatientLookup } from "../../domain/directory/patient-lookup.js";
import { NIR_TYPED_MAX } from "../../domain/directory/nir.js";
import { vitaleCards } from "../../domain/directory/queries.js";
import { downloadAttachment } from "../attachments.js";
import { answerSubmission, composePage, formContextOf, readComposePost, type ComposeWhere } from "../compose.js";
import { confirmDiscardPage, deleteDraft, draftPage, postReply, postWithdraw, replyPage, searchHandlers, withdrawPage, type SideHandlers } from "../conversations.js";
import { exportPdf } from "../export.js";
import { errorItems, readComposeForm } from "../forms.js";
import { conversationOf, draftOf, scopedParams } from "../loaders.js";
import { flash } from "../middleware/flash.js";
import { actorOf, contextOf, requirePs } from "../middleware/guards.js";
import { openedByTheUser } from "../middleware/origin.js";
import { workspaceRenderer } from "../workspace.js";

/** The doctor's side (/ps/…): their list, the patient chosen for a question, threads, drafts, attachments. */
const THREAD_DELETED =
  "Ce fil a été supprimé : votre message n'a pas été envoyé. Votre texte est repris ci-dessous ; ENVOYER le pose comme une nouvelle question sur le même patient (joignez de nouveau vos fichiers, le cas échéant).";
const THREAD_DELETED_NO_PATIENT = "Ce fil a été supprimé : votre message n'a pas été envoyé. Votre texte est repris ci-dessous pour que vous puissiez le copier.";

export function psRoutes(deps: AppDeps): Router {
  const { db } = deps;
  const router = Router();
  const render = workspaceRenderer((req, res) =>
    psWorkspace(db, actorOf<PsActor>(res), {
      cursor: parseCursor(req.query.avant),
      search: req.session.psSearch ?? null,
      selectedPatientId: req.session.selectedPatientId ?? null,
      overdueOnly: req.path === "/ps/messages" && req.query.retard === "1",
    }),
  );
  const ps: SideHandlers = { side: "ps", base: "/ps", home: "/ps/messages", render };

  // Every page below: a signed-in doctor (others: login, or 404 for an agent), CSRF checked on posts.
  router.use("/ps", ...requirePs);
  scopedParams(router, deps);

  router.get("/ps", (_req, res) => res.render("ps/portal", { title: "Services patient", identity: actorOf(res).displayName }));
  router.get("/ps/messages", (req, res) => render(req, res, "ps/messages", { title: "Mes échanges" }));
  const search = searchHandlers(deps, "psSearch", psSearchFields, "/ps/messages", (req, res, form) => render(req, res, "ps/messages", { title: "Mes échanges", ...form }, 422));
  router.post("/ps/search", search.save);
  router.post("/ps/search/reset", search.reset);

  // ---- the patient of a new question (manual §2) -------------------------------------------------
  async function patientPage(req: Request, res: Response, model: Record<string, unknown> = {}, status = 200) {
    return render(
      req,
      res,
      "ps/patient",
      {
        title: "Sélectionner un patient",
        vitaleCards: await vitaleCards(db),
        errors: {},
        errorItems: [],
        values: { nir: "", key: "" },
        ...model,
      },
      status,
    );
  }
  /** A patient found is selected (PRG); a refusal shows the page again with the error on its field. */
  async function answerLookup(req: Request, res: Response, lookup: PatientLookup, values?: { nir: string; key: string }) {
    await traceShown(db, contextOf(req, res), shownBy(lookup));
    if (lookup.status === "found") {
      req.session.selectedPatientId = lookup.patient.id;
      delete req.session.patientCandidates;
      flash(req, `Patient sélectionné : ${lookup.patient.firstName} ${lookup.patient.lastName}.`);
      return res.redirect(303, "/ps/messages");
    }
    if (lookup.status === "several") {
      req.session.patientCandidates = lookup.candidates.map((p) => p.id);
      return patientPage(req, res, { values, candidates: lookup.candidates.map(patientView) });
    }
    const errors = { [lookup.field]: lookup.message };
    const offered = lookup.candidates?.map(patientView) ?? null;
    return patientPage(
      req,
      res,
      {
        ...(values ? { values } : {}),
        errors,
        errorItems: errorItems(errors),
        candidates: offered,
        choiceError: offered ? lookup.message : null,
      },
      422,
    );
  }

  router.get("/ps/patient", (req, res) => patientPage(req, res));
  router.post("/ps/patient/vitale", async (req, res) => answerLookup(req, res, await patientFromVitale(db, req.body.patient)));
  router.post("/ps/patient/nir", async (req, res) => {
    const values = { nir: String(req.body.nir ?? "").slice(0, NIR_TYPED_MAX), key: String(req.body.key ?? "").slice(0, 5) };
    return answerLookup(req, res, await patientFromNir(db, values.nir, values.key), values);
  });
  router.post("/ps/patient/choose", async (req, res) => answerLookup(req, res, await patientFromChoice(db, req.session.patientCandidates ?? [], req.body.patient)));
  router.post("/ps/patient/clear", (req, res) => {
    delete req.session.selectedPatientId;
    res.redirect(303, "/ps/patient");
  });

  // ---- a new question, its drafts --------------------------------------------------------------
  router.get("/ps/conversations/new", async (req, res) => {
    const patient = await questionPatient(db, req.session.selectedPatientId).catch(() => null);
    if (!patient) {
      flash(req, "Sélectionnez d'abord un patient pour poser une question.");
      return res.redirect(303, "/ps/patient");
    }
    return composePage(req, res, deps, ps, { kind: "ps-new", patient }, null);
  });
  async function postQuestion(req: Request, res: Response, where: Extract<ComposeWhere, { kind: "ps-new" }>) {
    const draft = res.locals.draft ?? null;
    const { input } = readComposePost(deps, req, res, draft);
    return answerSubmission(req, res, deps, ps, { where, draft }, input, () => submitCompose(deps, contextOf(req, res), where, input));
  }
  router.post("/ps/conversations", async (req, res) => {
    const signed = formContextOf(deps, res, req.body?._ctx, "ps-new");
    const patient = await questionPatient(db, signed ? signed.p : req.session.selectedPatientId);
    return postQuestion(req, res, { kind: "ps-new", patient });
  });
  router.get(
    "/ps/drafts/:draftId",
    draftPage(deps, ps, async (draft) => ({ kind: "ps-new", patient: await draftPatient(db, draft) })),
  );
  router.post("/ps/drafts/:draftId", async (req, res) => postQuestion(req, res, { kind: "ps-new", patient: await draftPatient(db, draftOf(res)) }));
  router.get("/ps/drafts/:draftId/delete", confirmDiscardPage(deps, ps));
  router.post("/ps/drafts/:draftId/delete", deleteDraft(deps, ps));

  // ---- a conversation ----------------------------------------------------------------------------
  router.get("/ps/conversations/:conversationId", async (req, res) => {
    const conversation = conversationOf(res);
    const { thread, hasDraft } = await openThread(db, contextOf(req, res), conversation, { markRead: openedByTheUser(req) });
    return render(req, res, "ps/thread", { title: conversation.subject, thread, hasDraft, current: conversation.id });
  });
  router.get("/ps/conversations/:conversationId/pdf", exportPdf(deps));
  router.get("/ps/conversations/:conversationId/reply", replyPage(deps, ps));
  // « Retirer le message » (issue 15 §1): the question, then the withdrawal.
  router.get("/ps/conversations/:conversationId/messages/:messageId/retirer", withdrawPage(deps, ps));
  router.post("/ps/conversations/:conversationId/messages/:messageId/retirer", postWithdraw(deps, ps));
  router.post("/ps/conversations/:conversationId/messages", postReply(deps, ps));
  router.get("/ps/conversations/:conversationId/delete", async (req, res) => {
    const conversation = conversationOf(res);
    await traceDisplay(db, contextOf(req, res), conversation);
    return render(req, res, "ps/confirm-delete", {
      title: "Supprimer la conversation",
      id: conversation.id,
      subject: conversation.subject,
      structure: Boolean(actorOf<PsActor>(res).structureId),
      current: conversation.id,
    });
  });
  router.post("/ps/conversations/:conversationId/delete", async (req, res) => {
    await deleteForPs(deps, contextOf<PsActor>(req, res), conversationOf(res));
    flash(req, "La conversation a été supprimée de votre liste.");
    res.redirect(303, "/ps/messages");
  });
  // « Marquer comme non lu » (issue 14 §4): back to the list, not to the thread (which would open it again).
  router.post("/ps/conversations/:conversationId/unread", async (req, res) => {
    flash(req, markedUnreadNotice(await markUnread(db, contextOf<PsActor>(req, res), conversationOf(res))));
    res.redirect(303, "/ps/messages");
  });

  router.get("/ps/attachments/:attachmentId", downloadAttachment(deps));

  // A reply posted into a thread this doctor's side deleted meanwhile (another tab; Back after deleting):
  // not sent, and its text given back — in a new question about the same patient when the thread had one.
  router.use(async (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof ThreadDeleted) || req.method !== "POST" || req.route?.path !== "/ps/conversations/:conversationId/messages") return next(err);
    const { input } = readComposeForm(req, null);
    const { conversation } = err;
    if (conversation.patientId === null) {
      return render(req, res, "ps/thread-deleted", { title: "Conversation supprimée", notice: THREAD_DELETED_NO_PATIENT, body: input.body }, 410);
    }
    const patient = await questionPatient(db, conversation.patientId);
    return composePage(req, res, deps, ps, { kind: "ps-new", patient }, null, { subject: conversation.subject, body: input.body, notice: THREAD_DELETED }, 410);
  });

  return router;
}
