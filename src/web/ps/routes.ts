import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { AppDeps } from "../../app.js";
import { audit } from "../../domain/audit/audit.js";
import { downloadAttachment } from "../attachments.js";
import { checkNir } from "../../domain/directory/nir.js";
import type { Knex } from "knex";
import { whereStartsWith } from "../../db/dialect.js";
import { nameKey } from "../../domain/directory/names.js";
import { patientById, patientsByNir, vitaleCards, type PatientCard } from "../../domain/directory/queries.js";
import { actorKey, type PsActor } from "../../domain/actor.js";
import { NotFound } from "../middleware/errors.js";
import { flash } from "../middleware/flash.js";
import { readContext, signContext } from "../../domain/conversations/form-context.js";
import { psContext, requirePs } from "../middleware/guards.js";
import { submitCompose, type ComposeOutcome, type ComposeTarget } from "../../domain/conversations/compose.js";
import { composeForm, patientView, readComposeInput, type ComposeFormView } from "../forms.js";
import { newDrafts, parseCursor, psList, psUnreadCount } from "../../domain/conversations/lists.js";
import { deleteForPs, discardDraft, openConversation } from "../../domain/conversations/operations.js";
import { loadConversation, loadDraft, replyDraft, type DraftRow } from "../../domain/conversations/scope.js";
import { threadView } from "../../domain/conversations/thread.js";

const searchFields = z.object({ nom: z.string().catch("").transform((s) => s.trim().slice(0, 80)), nir: z.string().catch("").transform((s) => s.replace(/\s+/g, "").toUpperCase().slice(0, 15)) });

/** What a doctor writes: a new question about a patient, or a reply. */
type PsTarget = Extract<ComposeTarget, { kind: "ps-new" | "reply" }>;

export function psRoutes(deps: AppDeps): Router {
  const { db, config } = deps;
  const router = Router();
  const actorOf = (req: Request) => req.session.user as PsActor;

  /** The list column every PS page shows beside its detail (one query set, one partial). */
  async function workspace(req: Request, extra: Record<string, unknown> = {}) {
    const actor = actorOf(req);
    const cursor = parseCursor(req.query.avant);
    const search = req.session.psSearch;
    const filter = search ? (q: Knex.QueryBuilder) => {
      // By name as in the back office: the patient's key copied onto the conversation.
      if (search.nom) whereStartsWith(q, "c.patient_last_name_key", nameKey(search.nom));
      if (search.nir) q.whereIn("c.patient_id", db("patients").select("id").where("nir", search.nir.slice(0, 13)));
    } : undefined;
    const selected = req.session.selectedPatientId ? await patientById(db, req.session.selectedPatientId) : null;
    const [list, unread, drafts] = await Promise.all([psList(db, actor, cursor, filter), psUnreadCount(db, actor), newDrafts(db, actor)]);
    return { list, unread, drafts, search, cursor, patient: patientView(selected), ...extra };
  }

  const render = async (req: Request, res: Response, view: string, model: Record<string, unknown>, status = 200) =>
    res.status(status).render(view, await workspace(req, model));

  const context = (actor: PsActor, target: ComposeTarget) => signContext(config.sessionSecret, {
    a: actorKey(actor), t: target.kind === "reply" ? "reply" : "ps-new",
    ...(target.kind === "reply" ? { c: target.conversation.id } : target.kind === "ps-new" ? { p: target.patient.id } : {}),
  });

  async function newQuestionForm(req: Request, target: Extract<ComposeTarget, { kind: "ps-new" }>, draft: DraftRow | null, extra: Partial<ComposeFormView> = {}) {
    return composeForm(db, {
      heading: "POSER UNE QUESTION MÉDICALE", action: draft ? `/ps/drafts/${draft.id}` : "/ps/conversations", base: "/ps",
      backHref: "/ps/messages", discardAction: draft ? `/ps/drafts/${draft.id}/delete` : null, patient: patientView(target.patient), thread: null,
      showSubject: true, subject: draft?.subject ?? "", body: draft?.body ?? "", ctxToken: context(actorOf(req), target), draftId: draft?.id ?? null, ...extra,
    });
  }

  async function replyForm(req: Request, target: Extract<ComposeTarget, { kind: "reply" }>, draft: DraftRow | null, extra: Partial<ComposeFormView> = {}) {
    const c = target.conversation;
    return composeForm(db, {
      heading: "RÉPONDRE", action: `/ps/conversations/${c.id}/messages`, base: "/ps", backHref: `/ps/conversations/${c.id}`,
      discardAction: draft ? `/ps/drafts/${draft.id}/delete` : null, patient: null, thread: c.subject, showSubject: false,
      subject: "", body: draft?.body ?? "", ctxToken: context(actorOf(req), target), draftId: draft?.id ?? null, ...extra,
    });
  }

  /** Post/Redirect/Get on success; the same form with its errors and everything typed otherwise. */
  async function answer(req: Request, res: Response, target: PsTarget, outcome: ComposeOutcome, typed: { subject: string; body: string }, submissionKey: string) {
    if (outcome.status === "sent") {
      flash(req, "Votre message a été envoyé.");
      return res.redirect(303, `/ps/conversations/${outcome.conversationId}`);
    }
    if (outcome.status === "saved" && outcome.fileErrors.length === 0) {
      flash(req, "Le brouillon a été enregistré.");
      return res.redirect(303, target.kind === "reply" ? `/ps/conversations/${target.conversation.id}/reply` : `/ps/drafts/${outcome.draftId}`);
    }
    const draft = outcome.draftId ? await loadDraft(db, actorOf(req), String(outcome.draftId)) : null;
    const extra = {
      subject: typed.subject, body: typed.body, errors: outcome.status === "invalid" ? outcome.errors : {}, fileErrors: outcome.fileErrors, submissionKey,
    };
    const form = target.kind === "reply" ? await replyForm(req, target, draft, extra) : await newQuestionForm(req, target, draft, extra);
    // The refused send was kept as a draft: a reload (htmx history) shows that draft, not an empty form.
    if (draft) res.set("HX-Replace-Url", target.kind === "reply" ? `/ps/conversations/${target.conversation.id}/reply` : `/ps/drafts/${draft.id}`);
    return render(req, res, "ps/compose", { title: form.heading, form }, 422);
  }

  async function submit(req: Request, res: Response, target: PsTarget, draft: DraftRow | null) {
    const input = readComposeInput(req, draft);
    const outcome = await submitCompose(deps, psContext(req), target, input);
    if (outcome.status === "sent") void deps.notifier.flush().catch(() => undefined);
    return answer(req, res, target, outcome, input, input.submissionKey);
  }

  async function selectPatient(req: Request, res: Response, patient: PatientCard) {
    req.session.selectedPatientId = patient.id;
    delete req.session.patientCandidates;
    flash(req, `Patient sélectionné : ${patient.firstName} ${patient.lastName}.`);
    res.redirect(303, "/ps/messages");
  }

  async function patientPage(req: Request, res: Response, model: Record<string, unknown> = {}, status = 200) {
    return render(req, res, "ps/patient", {
      title: "Sélectionner un patient", vitaleCards: await vitaleCards(db), errors: {}, errorItems: [], values: { nir: "", key: "" }, ...model,
    }, status);
  }

  router.get("/ps", ...requirePs, (req, res) => {
    res.render("ps/portal", { title: "Services patient", identity: actorOf(req).displayName });
  });

  router.get("/ps/messages", ...requirePs, (req, res) => render(req, res, "ps/messages", { title: "Mes échanges" }));

  router.post("/ps/search", ...requirePs, async (req, res) => {
    const search = searchFields.parse(req.body ?? {});
    req.session.psSearch = search.nom || search.nir ? search : undefined;
    await audit(db, psContext(req), "search");
    res.redirect(303, "/ps/messages");
  });
  router.post("/ps/search/reset", ...requirePs, (req, res) => {
    delete req.session.psSearch;
    res.redirect(303, "/ps/messages");
  });

  router.get("/ps/patient", ...requirePs, (req, res) => patientPage(req, res));
  router.post("/ps/patient/vitale", ...requirePs, async (req, res) => {
    const id = typeof req.body.patient === "string" && /^\d{1,9}$/.test(req.body.patient) ? Number(req.body.patient) : 0;
    const card = (await vitaleCards(db)).find((c) => c.id === id);
    if (!card) return patientPage(req, res, { errors: { vitale: "Aucune carte Vitale n'a été lue : choisissez une carte." }, errorItems: [{ field: "vitale", message: "Aucune carte Vitale n'a été lue : choisissez une carte." }] }, 422);
    return selectPatient(req, res, card);
  });
  router.post("/ps/patient/nir", ...requirePs, async (req, res) => {
    const values = { nir: String(req.body.nir ?? "").slice(0, 20), key: String(req.body.key ?? "").slice(0, 5) };
    const check = checkNir(values.nir, values.key);
    if (!check.ok) {
      return patientPage(req, res, { values, errors: { [check.field]: check.message }, errorItems: [{ field: check.field, message: check.message }] }, 422);
    }
    const found = await patientsByNir(db, check.nir);
    if (found.length === 0) {
      const message = "Aucun patient n'est connu sous ce NIR : vérifiez la saisie ou lisez la carte Vitale.";
      return patientPage(req, res, { values, errors: { nir: message }, errorItems: [{ field: "nir", message }] }, 422);
    }
    if (found.length === 1) return selectPatient(req, res, found[0]!);
    req.session.patientCandidates = found.map((p) => p.id);
    return patientPage(req, res, { values, candidates: found.map(patientView) });
  });
  router.post("/ps/patient/choose", ...requirePs, async (req, res) => {
    const id = typeof req.body.patient === "string" && /^\d{1,9}$/.test(req.body.patient) ? Number(req.body.patient) : 0;
    const offered = req.session.patientCandidates ?? [];
    if (!offered.includes(id)) {
      // The same choice again, the error on its radio group; with nothing offered any more, back to the NIR.
      const candidates = (await Promise.all(offered.map((c) => patientById(db, c)))).filter((p) => p !== null).map(patientView);
      const message = candidates.length ? "Choisissez l'un des bénéficiaires proposés." : "Saisissez de nouveau le NIR du patient.";
      const field = candidates.length ? `patient-${candidates[0]!.id}` : "nir";
      return patientPage(req, res, { candidates, choiceError: candidates.length ? message : null, errorItems: [{ field, message }] }, 422);
    }
    return selectPatient(req, res, (await patientById(db, id))!);
  });
  router.post("/ps/patient/clear", ...requirePs, (req, res) => {
    delete req.session.selectedPatientId;
    res.redirect(303, "/ps/patient");
  });

  router.get("/ps/conversations/new", ...requirePs, async (req, res) => {
    const patient = req.session.selectedPatientId ? await patientById(db, req.session.selectedPatientId) : null;
    if (!patient) {
      flash(req, "Sélectionnez d'abord un patient pour poser une question.");
      return res.redirect(303, "/ps/patient");
    }
    const form = await newQuestionForm(req, { kind: "ps-new", patient }, null);
    return render(req, res, "ps/compose", { title: "Poser une question", form });
  });
  router.post("/ps/conversations", ...requirePs, async (req, res) => {
    const target = await newQuestionTarget(req);
    return submit(req, res, target, null);
  });

  /** The patient of a new question is the one the server signed into the form, never a client id. */
  async function newQuestionTarget(req: Request): Promise<Extract<ComposeTarget, { kind: "ps-new" }>> {
    const ctx = readContext(config.sessionSecret, req.body?._ctx);
    const patientId = ctx && ctx.a === actorKey(actorOf(req)) && ctx.t === "ps-new" ? ctx.p : req.session.selectedPatientId;
    const patient = patientId ? await patientById(db, patientId) : null;
    if (!patient) throw new NotFound();
    return { kind: "ps-new", patient };
  }

  router.get("/ps/drafts/:draftId", ...requirePs, async (req, res) => {
    const draft = await loadDraft(db, actorOf(req), req.params.draftId);
    if (draft.conversation_id) return res.redirect(303, `/ps/conversations/${draft.conversation_id}/reply`);
    const patient = draft.patient_id ? await patientById(db, draft.patient_id) : null;
    if (!patient) throw new NotFound();
    const form = await newQuestionForm(req, { kind: "ps-new", patient }, draft);
    return render(req, res, "ps/compose", { title: `Brouillon : ${draft.subject || "sans objet"}`, form, currentDraft: draft.id });
  });
  router.post("/ps/drafts/:draftId", ...requirePs, async (req, res) => {
    const draft = await loadDraft(db, actorOf(req), req.params.draftId);
    if (draft.conversation_id) throw new NotFound();
    const patient = draft.patient_id ? await patientById(db, draft.patient_id) : null;
    if (!patient) throw new NotFound();
    return submit(req, res, { kind: "ps-new", patient }, draft);
  });
  router.post("/ps/drafts/:draftId/delete", ...requirePs, async (req, res) => {
    const draft = await loadDraft(db, actorOf(req), req.params.draftId);
    await discardDraft(deps, psContext(req), draft);
    flash(req, "Le brouillon a été supprimé.");
    res.redirect(303, draft.conversation_id ? `/ps/conversations/${draft.conversation_id}` : "/ps/messages");
  });

  router.get("/ps/conversations/:id", ...requirePs, async (req, res) => {
    const conversation = await loadConversation(db, actorOf(req), req.params.id);
    await openConversation(db, psContext(req), conversation);
    const thread = await threadView(db, actorOf(req), conversation);
    return render(req, res, "ps/thread", { title: conversation.subject, thread, current: conversation.id });
  });
  router.get("/ps/conversations/:id/reply", ...requirePs, async (req, res) => {
    const conversation = await loadConversation(db, actorOf(req), req.params.id);
    const draft = await replyDraft(db, actorOf(req), conversation.id);
    const form = await replyForm(req, { kind: "reply", conversation }, draft);
    return render(req, res, "ps/compose", { title: `Répondre : ${conversation.subject}`, form, current: conversation.id });
  });
  router.post("/ps/conversations/:id/messages", ...requirePs, async (req, res) => {
    const conversation = await loadConversation(db, actorOf(req), req.params.id);
    const draftId = typeof req.body?.draft_id === "string" && req.body.draft_id ? req.body.draft_id : null;
    const draft = draftId ? await loadDraft(db, actorOf(req), draftId) : null;
    if (draft && draft.conversation_id !== conversation.id) throw new NotFound();
    return submit(req, res, { kind: "reply", conversation }, draft);
  });
  router.get("/ps/conversations/:id/delete", ...requirePs, async (req, res) => {
    const conversation = await loadConversation(db, actorOf(req), req.params.id);
    return render(req, res, "ps/confirm-delete", {
      title: "Supprimer la conversation", id: conversation.id, subject: conversation.subject, structure: Boolean(actorOf(req).structureId), current: conversation.id,
    });
  });
  router.post("/ps/conversations/:id/delete", ...requirePs, async (req, res) => {
    const conversation = await loadConversation(db, actorOf(req), req.params.id);
    await deleteForPs(deps, psContext(req), conversation);
    flash(req, "La conversation a été supprimée de votre liste.");
    res.redirect(303, "/ps/messages");
  });

  router.get("/ps/attachments/:id", ...requirePs, (req, res) => downloadAttachment(deps, req, res));

  return router;
}
