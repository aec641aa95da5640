import { Router, type Request, type Response } from "express";
import type { AppDeps } from "../../deps.js";
import type { AgentActor } from "../../domain/actor.js";
import { EMPTY_QUESTION, questionStateOfDraft, recipientFields, submitElsmQuestion } from "../../domain/conversations/elsm-question.js";
import { parseCursor } from "../../domain/conversations/lists.js";
import { closeConversation, markedUnreadNotice, markUnread, traceDisplay } from "../../domain/conversations/operations.js";
import { newQuestionDraft, type DraftRow } from "../../domain/conversations/scope.js";
import { boSearchFields } from "../../domain/conversations/search.js";
import { boSearchCriteria } from "../../domain/conversations/search-criteria.js";
import { TRAYS, TRAY_LABELS, isClosed, trayBySlug } from "../../domain/conversations/states.js";
import { cursorOf, DEFAULT_TRAY_VIEW, readTrayView, trayViewQuery } from "../../domain/conversations/tray-view.js";
import { openThread } from "../../domain/conversations/thread.js";
import { addInternalNote, EMPTY_NOTE_FORM, internalNotes, type NoteForm } from "../../domain/conversations/internal-notes.js";
import { colleaguesWriting, writingNotice } from "../../domain/conversations/presence.js";
import { assignmentNotice, assignmentView, changeAssignment } from "../../domain/conversations/assignment.js";
import { patientHistory } from "../../domain/conversations/patient-history.js";
import { parseId } from "../../domain/ids.js";
import { boMine, boSearchResults, boWorkspace } from "../../domain/conversations/workspace.js";
import { NotFound } from "../../domain/errors.js";
import { downloadAttachment } from "../attachments.js";
import { answerSubmission, composePage, formContextOf, readComposePost } from "../compose.js";
import { confirmDiscardPage, deleteDraft, draftPage, postReply, postWithdraw, replyPage, searchHandlers, withdrawPage, type SideHandlers } from "../conversations.js";
import { conversationOf, draftOf, scopedParams } from "../loaders.js";
import { exportPdf } from "../export.js";
import { answerModelInsert } from "../model-insert.js";
import { uploadProblem } from "../middleware/upload.js";
import { replyModelRoutes } from "./reply-models.js";
import { settingsRoutes } from "./settings.js";
import { dashboardRoutes } from "./dashboard.js";
import { closureReasonRoutes } from "./closure-reasons.js";
import { EMPTY_CLOSE_FORM, reasonOptions, type CloseForm } from "../../domain/closure-reasons/reasons.js";
import { errorItems } from "../forms.js";
import { flash } from "../middleware/flash.js";
import { actorOf, contextOf, requireAgent } from "../middleware/guards.js";
import { openedByTheUser } from "../middleware/origin.js";
import { workspaceRenderer } from "../workspace.js";

/** The back office (/bo/…): the échelon's three trays, search, threads, questions to professionals, drafts shared by its agents. */
export function backOfficeRoutes(deps: AppDeps): Router {
  const { db } = deps;
  const router = Router();
  const render = workspaceRenderer(async (req, res) => {
    const trayView = req.session.boTrayView ?? DEFAULT_TRAY_VIEW;
    return {
      trays: TRAYS,
      trayLabels: TRAY_LABELS,
      search: req.session.boSearch ?? null,
      ...(await boWorkspace(db, actorOf<AgentActor>(res), {
        tray: req.session.boTray ?? "a_traiter",
        trayView,
        cursor: cursorOf(trayView, req.query),
        draftCursor: parseCursor(req.query.brouillons),
      })),
    };
  });
  const bo: SideHandlers = { side: "elsm", base: "/bo", home: "/bo", render };

  // Every page below: a signed-in agent (others: login, or 404 for a doctor), CSRF checked on posts.
  router.use("/bo", ...requireAgent);
  scopedParams(router, deps);

  router.get("/bo", (_req, res) => res.redirect(303, "/bo/bannettes/a-traiter"));
  router.get("/bo/bannettes/:tray", (req, res) => {
    const tray = trayBySlug(req.params.tray as string);
    if (!tray) throw new NotFound();
    req.session.boTray = tray.key;
    // The tray's URL says how it is shown; the list beside the next pages keeps it.
    req.session.boTrayView = readTrayView(req.query);
    return render(req, res, "bo/tray", { title: tray.label });
  });

  // "Tous mes échanges" (issue 13 §1): the agent's threads across the three trays.
  router.get("/bo/mes-echanges", async (req, res) => {
    // Its own pager parameter (suite): `avant` pages the tray beside it.
    const cursor = parseCursor(req.query.suite);
    const list = await boMine(db, actorOf<AgentActor>(res), cursor);
    return render(req, res, "bo/mine", { title: "Tous mes échanges", minePage: true, mine: list, mineCursor: cursor });
  });

  // ---- search (manual §11) ------------------------------------------------------------------------
  router.get("/bo/recherche", async (req, res) => {
    const search = req.session.boSearch ?? null;
    const results = search ? await boSearchResults(db, actorOf<AgentActor>(res), search, parseCursor(req.query.avant)) : null;
    return render(req, res, "bo/search", { title: "Recherche", searchOpen: true, searchCriteria: boSearchCriteria(search), results });
  });
  const search = searchHandlers(deps, "boSearch", boSearchFields, "/bo/recherche", (req, res, form) =>
    render(req, res, "bo/search", { title: "Recherche", searchOpen: true, results: null, ...form }, 422),
  );
  router.post("/bo/recherche", search.save);
  router.post("/bo/recherche/reinitialiser", search.reset);

  // ---- a question to a professional (manual §7–8), its drafts ------------------------------------
  async function postQuestion(req: Request, res: Response, draft: DraftRow | null) {
    const { intent, input } = readComposePost(deps, req, res, draft);
    const signed = formContextOf(deps, res, req.body?._ctx, "elsm-new");
    const shown = signed ? { patientId: signed.p ?? null, rp: signed.rp, rs: signed.rs } : null;
    const fields = recipientFields.parse(req.body ?? {});
    // Given back as typed when the storage fails (the recipient is looked up again on the next post).
    const typedState = { ...EMPTY_QUESTION, nirOd: fields.nir_od, destinataire: fields.destinataire };
    // "Insérer le modèle": the recipient typed is shown (as "Afficher le destinataire" does), the files held, nothing written.
    if (intent === "insert_model" && !uploadProblem(req))
      return answerModelInsert(req, res, deps, bo, draft, input, async () => {
        const shownNow = await submitElsmQuestion(deps, contextOf(req, res), fields, "lookup", input, shown);
        const held = shownNow.status === "form" ? shownNow.held : [];
        return { where: { kind: "elsm-new", state: shownNow.state }, held, fileErrors: shownNow.status === "form" ? shownNow.fileErrors : [] };
      });
    return answerSubmission(
      req,
      res,
      deps,
      bo,
      { where: { kind: "elsm-new", state: typedState }, draft },
      input,
      // An insert whose post was not received whole writes nothing either (its answer: the limit broken).
      () => submitElsmQuestion(deps, contextOf(req, res), fields, intent === "insert_model" ? "lookup" : intent, input, shown),
      (outcome) => ({ kind: "elsm-new", state: outcome.state }),
    );
  }
  router.get("/bo/conversations/new", (req, res) => composePage(req, res, deps, bo, { kind: "elsm-new", state: EMPTY_QUESTION }, null));
  router.post("/bo/conversations", (req, res) => postQuestion(req, res, null));
  router.get(
    "/bo/drafts/:draftId",
    draftPage(deps, bo, async (draft) => ({ kind: "elsm-new", state: await questionStateOfDraft(db, draft) })),
  );
  router.post("/bo/drafts/:draftId", (req, res) => postQuestion(req, res, newQuestionDraft(draftOf(res))));
  router.get("/bo/drafts/:draftId/delete", confirmDiscardPage(deps, bo));
  router.post("/bo/drafts/:draftId/delete", deleteDraft(deps, bo));

  // ---- a conversation ----------------------------------------------------------------------------
  // The thread page, with the échelon's own blocks: its internal notes, their form, the patient's other threads.
  async function threadPage(
    req: Request,
    res: Response,
    options: { markRead: boolean; displayOnly?: boolean },
    refused: { noteForm?: NoteForm; assignmentError?: string } = {},
    status = 200,
  ) {
    const conversation = conversationOf(res);
    const actor = actorOf<AgentActor>(res);
    const opened = await openThread(db, contextOf(req, res), conversation, options);
    const [notes, patientHistoryView, assignment, writers] = await Promise.all([
      internalNotes(db, actor, conversation),
      patientHistory(db, actor, conversation.patient_id, conversation.id),
      assignmentView(db, actor, conversation, refused.assignmentError ?? null),
      colleaguesWriting(db, actor, conversation.id),
    ]);
    // ?note=… (an id, after a note was added): the focus goes to that note when htmx swaps the page in.
    const noteFocus = parseId(req.query.note);
    const blocks = { notes, noteForm: refused.noteForm ?? EMPTY_NOTE_FORM, noteFocus, patientHistory: patientHistoryView, assignment, writing: writingNotice(writers) };
    return render(req, res, "bo/thread", { title: conversation.subject, ...opened, ...blocks, current: conversation.id }, status);
  }
  router.get("/bo/conversations/:conversationId", (req, res) => threadPage(req, res, { markRead: openedByTheUser(req) }));
  // An internal note (issue 13 §2): PRG to the thread on the new note; refused, the page again with the text whole.
  router.post("/bo/conversations/:conversationId/notes", async (req, res) => {
    const conversation = conversationOf(res);
    const outcome = await addInternalNote(db, contextOf<AgentActor>(req, res), conversation, req.body);
    if (outcome.status === "refused") return threadPage(req, res, { markRead: false, displayOnly: true }, { noteForm: outcome.form }, 422);
    flash(req, "La note interne a été ajoutée : seuls les agents de l'échelon la voient.");
    return res.redirect(303, `/bo/conversations/${conversation.id}?note=${outcome.noteId}#note-${outcome.noteId}`);
  });
  // Prendre / Attribuer à / Libérer (issue 13 §1): PRG to the thread; refused or overtaken, the thread again with why.
  router.post("/bo/conversations/:conversationId/attribution", async (req, res) => {
    const conversation = conversationOf(res);
    const outcome = await changeAssignment(db, contextOf<AgentActor>(req, res), conversation, req.body);
    if (outcome.status === "refused" || outcome.status === "conflict")
      return threadPage(req, res, { markRead: false, displayOnly: true }, { assignmentError: outcome.error }, outcome.status === "refused" ? 422 : 409);
    flash(req, assignmentNotice(outcome));
    return res.redirect(303, `/bo/conversations/${conversation.id}#assignment-holder`);
  });
  router.get("/bo/conversations/:conversationId/pdf", exportPdf(deps));
  router.get("/bo/conversations/:conversationId/reply", replyPage(deps, bo));
  // « Retirer le message » (issue 15 §1): the question, then the withdrawal.
  router.get("/bo/conversations/:conversationId/messages/:messageId/retirer", withdrawPage(deps, bo));
  router.post("/bo/conversations/:conversationId/messages/:messageId/retirer", postWithdraw(deps, bo));
  router.post("/bo/conversations/:conversationId/messages", postReply(deps, bo));
  // The close confirmation, with its reason (issue 14 §3); refused, the same page with the errors and what was typed.
  const closePage = async (req: Request, res: Response, form: CloseForm, status = 200) => {
    const conversation = conversationOf(res);
    await traceDisplay(db, contextOf(req, res), conversation);
    const reasons = await reasonOptions(db, actorOf<AgentActor>(res));
    const errorList = errorItems({ "closure-reason": form.errors.reason, "closure-text": form.errors.text });
    return render(
      req,
      res,
      "bo/confirm-close",
      { title: "Clôturer la conversation", id: conversation.id, subject: conversation.subject, current: conversation.id, reasons, form, errorItems: errorList },
      status,
    );
  };
  router.get("/bo/conversations/:conversationId/close", async (req, res) => {
    const conversation = conversationOf(res);
    if (isClosed(conversation.state)) return res.redirect(303, `/bo/conversations/${conversation.id}`);
    return closePage(req, res, EMPTY_CLOSE_FORM);
  });
  // A second or concurrent close answers like the first: the thread is closed.
  router.post("/bo/conversations/:conversationId/close", async (req, res) => {
    const conversation = conversationOf(res);
    const outcome = await closeConversation(deps, contextOf<AgentActor>(req, res), conversation, req.body);
    if ("refused" in outcome) return closePage(req, res, outcome.refused, 422);
    flash(req, "La conversation a été clôturée : elle est rangée dans la bannette CLOS.");
    res.redirect(303, `/bo/conversations/${conversation.id}`);
  });
  // « Marquer comme non lu » (issue 14 §4): back to the tray the list column showed, as it was shown (not to the
  // thread, which would open it again); a thread already unread is left as it is, and said so.
  router.post("/bo/conversations/:conversationId/unread", async (req, res) => {
    const outcome = await markUnread(db, contextOf<AgentActor>(req, res), conversationOf(res));
    flash(req, markedUnreadNotice(outcome));
    const tray = TRAYS.find((t) => t.key === (req.session.boTray ?? "a_traiter"))!;
    const view = trayViewQuery(req.session.boTrayView ?? DEFAULT_TRAY_VIEW);
    res.redirect(303, `/bo/bannettes/${tray.slug}${view ? `?${view}` : ""}`);
  });

  router.get("/bo/attachments/:attachmentId", downloadAttachment(deps));

  // ---- the échelon's saved replies (modèles de réponse) --------------------------------------------
  replyModelRoutes(router, deps, render);
  settingsRoutes(router, deps, render);
  dashboardRoutes(router, deps, render);
  // ---- the échelon's closure reasons (motifs de clôture) -------------------------------------------
  closureReasonRoutes(router, deps, render);

  return router;
}
