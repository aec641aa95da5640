import { Router, type Request, type Response } from "express";
import type { Knex } from "knex";
import { z } from "zod";
import type { AppDeps } from "../../app.js";
import { audit } from "../../domain/audit/audit.js";
import { downloadAttachment } from "../attachments.js";
import { whereStartsWith } from "../../db/dialect.js";
import { nameKey } from "../../domain/directory/names.js";
import { patientById, practitionerById, structureById } from "../../domain/directory/queries.js";
import { recipientByIdentifier, recipientByNir, recipientCard, type Recipient, type Resolution } from "../../domain/directory/recipients.js";
import { actorKey, type AgentActor } from "../../domain/actor.js";
import { NotFound } from "../middleware/errors.js";
import { flash } from "../middleware/flash.js";
import { readContext, signContext } from "../../domain/conversations/form-context.js";
import { agentContext, requireAgent } from "../middleware/guards.js";
import { accessHistory } from "../../domain/audit/history.js";
import { submitCompose, type ComposeOutcome, type ComposeTarget, type FieldErrors } from "../../domain/conversations/compose.js";
import { composeForm, patientView, readComposeInput, type ComposeFormView } from "../forms.js";
import { newDrafts, parseCursor, trayCounts, trayPage, TRAYS, type Tray } from "../../domain/conversations/lists.js";
import { closeConversation, discardDraft, openConversation } from "../../domain/conversations/operations.js";
import { loadConversation, loadDraft, replyDraft, type DraftRow } from "../../domain/conversations/scope.js";
import { threadView } from "../../domain/conversations/thread.js";

const trayBySlug = new Map(TRAYS.map((t) => [t.slug, t]));
const trayLabels = Object.fromEntries(TRAYS.map((t) => [t.key, t.label])) as Record<Tray, string>;

const trimmed = (max: number) => z.string().catch("").transform((s) => s.trim().slice(0, max));
/** The back-office search panel (manual §11). Sent by POST and kept in the session: never in a URL. */
const searchFields = z.object({
  patient_nom: trimmed(80), patient_prenom: trimmed(80), patient_nir: z.string().catch("").transform((s) => s.replace(/\s+/g, "").toUpperCase().slice(0, 15)),
  ps_nam: z.string().catch("").transform((s) => s.replace(/\s+/g, "").toUpperCase().slice(0, 9)), ps_cp: trimmed(5), ps_ville: trimmed(80), ps_nom: trimmed(160),
  agent_nom: trimmed(80), agent_prenom: trimmed(80),
});
export type BoSearch = z.infer<typeof searchFields>;

declare module "express-session" {
  interface SessionData {
    boSearch?: BoSearch;
    boTray?: Tray;
  }
}

/**
 * Applies each filled search field; all of them must match. Each criterion first finds the few
 * patients / practitioners / structures / agents it names (by index), then their conversations.
 */
function searchFilter(db: Knex, s: BoSearch) {
  const key = (v: string) => nameKey(v);
  const ids = (table: string, build: (q: Knex.QueryBuilder) => void) => {
    const q = db(table).select("id");
    build(q);
    return q;
  };
  return (q: Knex.QueryBuilder) => {
    // The name alone: one index range of the ELSM's conversations (the patient's key is copied onto them).
    if (s.patient_nom) whereStartsWith(q, "c.patient_last_name_key", key(s.patient_nom));
    if (s.patient_prenom || s.patient_nir) {
      q.whereIn("c.patient_id", ids("patients", (p) => {
        if (s.patient_prenom) whereStartsWith(p, "first_name_key", key(s.patient_prenom));
        if (s.patient_nir) p.where("nir", s.patient_nir.slice(0, 13));
      }));
    }
    const professional = (doctor: (p: Knex.QueryBuilder) => void, structure: (p: Knex.QueryBuilder) => void) =>
      q.where((w) => w.whereIn("c.ps_practitioner_id", ids("practitioners", doctor)).orWhereIn("c.ps_structure_id", ids("structures", structure)));
    // A FINESS typed in the N°AM field, or a raison sociale typed in Nom, finds a structure's threads.
    if (s.ps_nam) professional((p) => p.where("nam", s.ps_nam), (p) => p.where("finess", s.ps_nam));
    if (s.ps_cp) professional((p) => p.where("postal_code", s.ps_cp), (p) => p.where("postal_code", s.ps_cp));
    if (s.ps_ville) professional((p) => whereStartsWith(p, "city", key(s.ps_ville)), (p) => whereStartsWith(p, "city", key(s.ps_ville)));
    if (s.ps_nom) professional((p) => whereStartsWith(p, "last_name_key", key(s.ps_nom)), (p) => whereStartsWith(p, "raison_sociale_key", key(s.ps_nom)));
    if (s.agent_nom || s.agent_prenom) {
      q.whereIn("c.redacteur_agent_id", ids("agents", (a) => {
        if (s.agent_nom) whereStartsWith(a, "last_name_key", key(s.agent_nom));
        if (s.agent_prenom) whereStartsWith(a, "first_name_key", key(s.agent_prenom));
      }));
    }
  };
}

const recipientFields = z.object({ nir_od: trimmed(20), destinataire: trimmed(20) });

export function backOfficeRoutes(deps: AppDeps): Router {
  const { db, config } = deps;
  const router = Router();
  const actorOf = (req: Request) => req.session.user as AgentActor;

  /** The tray column shown beside every back-office detail. */
  async function workspace(req: Request, extra: Record<string, unknown> = {}) {
    const actor = actorOf(req);
    const tray = req.session.boTray ?? "a_traiter";
    const cursor = parseCursor(req.query.avant);
    const [counts, list, drafts] = await Promise.all([
      trayCounts(db, actor),
      trayPage(db, actor, tray, cursor),
      tray === "en_cours" && !cursor ? newDrafts(db, actor) : Promise.resolve([]),
    ]);
    return { trays: TRAYS, tray, trayLabels, counts, list, drafts, cursor, search: req.session.boSearch ?? null, ...extra };
  }

  const render = async (req: Request, res: Response, view: string, model: Record<string, unknown>, status = 200) =>
    res.status(status).render(view, await workspace(req, model));

  const signed = (actor: AgentActor, ctx: { t: "reply"; c: number } | { t: "elsm-new"; p: number | null; rp?: number; rs?: number }) =>
    signContext(config.sessionSecret, { a: actorKey(actor), ...ctx });

  router.get("/bo", ...requireAgent, (_req, res) => res.redirect(303, "/bo/bannettes/a-traiter"));

  router.get("/bo/bannettes/:tray", ...requireAgent, async (req, res) => {
    const tray = trayBySlug.get(req.params.tray as string);
    if (!tray) throw new NotFound();
    req.session.boTray = tray.key;
    return render(req, res, "bo/tray", { title: tray.label });
  });

  // ---- search -------------------------------------------------------------------------------
  router.get("/bo/recherche", ...requireAgent, async (req, res) => {
    const search = req.session.boSearch ?? null;
    const results = search ? await trayPage(db, actorOf(req), null, parseCursor(req.query.avant), searchFilter(db, search)) : null;
    return render(req, res, "bo/search", { title: "Recherche", searchOpen: true, results });
  });
  router.post("/bo/recherche", ...requireAgent, async (req, res) => {
    const search = searchFields.parse(req.body ?? {});
    const filled = Object.values(search).some(Boolean);
    if (filled) req.session.boSearch = search;
    else delete req.session.boSearch;
    await audit(db, agentContext(req), "search");
    res.redirect(303, "/bo/recherche");
  });
  router.post("/bo/recherche/reinitialiser", ...requireAgent, (req, res) => {
    delete req.session.boSearch;
    res.redirect(303, "/bo/recherche");
  });

  // ---- write a new question -------------------------------------------------------------------
  type NewForm = { nirOd: string; destinataire: string; recipient: { title: string; detail: string } | null; patientId: number | null; recipientIds: { rp?: number; rs?: number } | null };

  async function newQuestionForm(req: Request, state: NewForm, draft: DraftRow | null, extra: Partial<ComposeFormView> & { notice?: string } = {}) {
    const patient = state.patientId ? await patientById(db, state.patientId) : null;
    const form = await composeForm(db, {
      heading: "POSER UNE QUESTION MÉDICALE", action: draft ? `/bo/drafts/${draft.id}` : "/bo/conversations", base: "/bo",
      backHref: "/bo", discardAction: draft ? `/bo/drafts/${draft.id}/delete` : null, patient: patientView(patient), thread: null,
      showSubject: true, subject: draft?.subject ?? "", body: draft?.body ?? "", draftId: draft?.id ?? null,
      ctxToken: signed(actorOf(req), { t: "elsm-new", p: state.patientId, ...(state.recipientIds ?? {}) }), ...extra,
    });
    return { form, recipientForm: state, notice: extra.notice ?? null };
  }

  function recipientIds(r: Recipient) {
    return r.kind === "structure" ? { rs: r.structure.id } : { rp: r.practitioner.id };
  }

  async function resolve(req: Request): Promise<{ typed: { nir_od: string; destinataire: string }; resolution: Resolution | null }> {
    const typed = recipientFields.parse(req.body ?? {});
    if (typed.nir_od) return { typed, resolution: await recipientByNir(db, actorOf(req).elsmId, typed.nir_od) };
    if (typed.destinataire) return { typed, resolution: await recipientByIdentifier(db, typed.destinataire) };
    return { typed, resolution: null };
  }

  async function submitNew(req: Request, res: Response, draft: DraftRow | null) {
    const actor = actorOf(req);
    const { typed, resolution } = await resolve(req);
    const input = readComposeInput(req, draft);
    const action = typeof req.body?.action === "string" ? req.body.action : "draft";
    const state: NewForm = { nirOd: typed.nir_od, destinataire: typed.destinataire, recipient: null, patientId: null, recipientIds: null };
    const keep = { subject: input.subject, body: input.body, submissionKey: input.submissionKey };

    if (!resolution || !resolution.ok) {
      const message = resolution?.ok === false ? resolution.message : "Indiquez le destinataire : le NIR OD du patient, ou le N°AM du médecin ou le FINESS de la structure.";
      const field = resolution?.ok === false ? resolution.field : "nir_od";
      const errors: FieldErrors = { [field]: message };
      // Nothing typed is lost: text and valid attachments wait in a draft until the recipient is right.
      let kept: DraftRow | null = draft;
      let fileErrors: string[] = [];
      if (draft || input.subject.trim() || input.body.trim() || input.files.length) {
        const outcome = await submitCompose(deps, agentContext(req), { kind: "elsm-new", patientId: null, recipient: null }, { ...input, action: "draft" });
        if (outcome.status !== "sent" && outcome.draftId) kept = await loadDraft(db, actor, String(outcome.draftId));
        fileErrors = outcome.status === "sent" ? [] : outcome.fileErrors;
      }
      const view = await newQuestionForm(req, state, kept, { ...keep, errors, fileErrors });
      return render(req, res, "bo/compose", { title: "Poser une question", ...view }, 422);
    }

    state.recipient = recipientCard(resolution.recipient);
    state.patientId = resolution.patient?.id ?? null;
    state.recipientIds = recipientIds(resolution.recipient);
    const previous = readContext(config.sessionSecret, req.body?._ctx);
    // The recipient must have been shown to the agent before a send goes out.
    const confirmed = Boolean(previous && previous.a === actorKey(actor) && previous.t === "elsm-new"
      && (previous.p ?? null) === state.patientId && previous.rp === state.recipientIds.rp && previous.rs === state.recipientIds.rs);
    const target: ComposeTarget = { kind: "elsm-new", patientId: state.patientId, recipient: resolution.recipient.kind === "structure" ? { structureId: resolution.recipient.structure.id } : { practitionerId: resolution.recipient.practitioner.id } };
    const wantsSend = action === "send" && confirmed;
    const hasContent = Boolean(draft || input.subject.trim() || input.body.trim() || input.files.length);

    if (action === "lookup" || (action === "send" && !confirmed)) {
      let kept: DraftRow | null = draft;
      let fileErrors: string[] = [];
      if (hasContent) {
        const outcome = await submitCompose(deps, agentContext(req), target, { ...input, action: "draft" });
        if (outcome.status !== "sent" && outcome.draftId) kept = await loadDraft(db, actor, String(outcome.draftId));
        fileErrors = outcome.status === "sent" ? [] : outcome.fileErrors;
      }
      const notice = action === "send" ? "Vérifiez le destinataire affiché ci-dessous, puis cliquez à nouveau sur ENVOYER." : null;
      const view = await newQuestionForm(req, state, kept, { ...keep, fileErrors, ...(notice ? { notice } : {}) });
      return render(req, res, "bo/compose", { title: "Poser une question", ...view }, action === "send" ? 422 : 200);
    }

    const outcome = await submitCompose(deps, agentContext(req), target, { ...input, action: wantsSend ? "send" : "draft" });
    return answer(req, res, outcome, { kind: "new", state }, keep);
  }

  async function replyForm(req: Request, conversationId: number, subject: string, draft: DraftRow | null, extra: Partial<ComposeFormView> = {}) {
    return composeForm(db, {
      heading: "RÉPONDRE", action: `/bo/conversations/${conversationId}/messages`, base: "/bo", backHref: `/bo/conversations/${conversationId}`,
      discardAction: draft ? `/bo/drafts/${draft.id}/delete` : null, patient: null, thread: subject, showSubject: false, subject: "",
      body: draft?.body ?? "", ctxToken: signed(actorOf(req), { t: "reply", c: conversationId }), draftId: draft?.id ?? null, ...extra,
    });
  }

  async function answer(req: Request, res: Response, outcome: ComposeOutcome, where: { kind: "new"; state: NewForm } | { kind: "reply"; id: number; subject: string }, keep: { subject: string; body: string; submissionKey: string }) {
    if (outcome.status === "sent") {
      void deps.notifier.flush().catch(() => undefined);
      flash(req, "Votre message a été envoyé.");
      return res.redirect(303, `/bo/conversations/${outcome.conversationId}`);
    }
    if (outcome.status === "saved" && outcome.fileErrors.length === 0) {
      flash(req, "Le brouillon a été enregistré.");
      return res.redirect(303, where.kind === "reply" ? `/bo/conversations/${where.id}/reply` : `/bo/drafts/${outcome.draftId}`);
    }
    const draft = outcome.draftId ? await loadDraft(db, actorOf(req), String(outcome.draftId)) : null;
    const errors = outcome.status === "invalid" ? outcome.errors : {};
    const extra = { ...keep, errors, fileErrors: outcome.fileErrors };
    if (draft) res.set("HX-Replace-Url", where.kind === "reply" ? `/bo/conversations/${where.id}/reply` : `/bo/drafts/${draft.id}`);
    if (where.kind === "reply") {
      const form = await replyForm(req, where.id, where.subject, draft, extra);
      return render(req, res, "bo/compose", { title: "Répondre", form, current: where.id }, errors.conversation ? 409 : 422);
    }
    const view = await newQuestionForm(req, where.state, draft, extra);
    return render(req, res, "bo/compose", { title: "Poser une question", ...view }, 422);
  }

  async function draftState(draft: DraftRow): Promise<NewForm> {
    const [patient, practitioner, structure] = await Promise.all([
      draft.patient_id ? patientById(db, draft.patient_id) : null,
      draft.recipient_practitioner_id ? practitionerById(db, draft.recipient_practitioner_id) : null,
      draft.recipient_structure_id ? structureById(db, draft.recipient_structure_id) : null,
    ]);
    const recipient: Recipient | null = structure ? { kind: "structure", structure } : practitioner ? { kind: "practitioner", practitioner } : null;
    return {
      nirOd: patient ? patient.nir : "",
      destinataire: !patient && recipient ? (recipient.kind === "structure" ? recipient.structure.finess : recipient.practitioner.nam) : "",
      recipient: recipient ? recipientCard(recipient) : null,
      patientId: patient?.id ?? null,
      recipientIds: recipient ? recipientIds(recipient) : null,
    };
  }

  router.get("/bo/conversations/new", ...requireAgent, async (req, res) => {
    const view = await newQuestionForm(req, { nirOd: "", destinataire: "", recipient: null, patientId: null, recipientIds: null }, null);
    return render(req, res, "bo/compose", { title: "Poser une question", ...view });
  });
  router.post("/bo/conversations", ...requireAgent, (req, res) => submitNew(req, res, null));

  router.get("/bo/drafts/:draftId", ...requireAgent, async (req, res) => {
    const draft = await loadDraft(db, actorOf(req), req.params.draftId);
    if (draft.conversation_id) return res.redirect(303, `/bo/conversations/${draft.conversation_id}/reply`);
    const view = await newQuestionForm(req, await draftState(draft), draft);
    return render(req, res, "bo/compose", { title: `Brouillon : ${draft.subject || "sans objet"}`, ...view, currentDraft: draft.id });
  });
  router.post("/bo/drafts/:draftId", ...requireAgent, async (req, res) => {
    const draft = await loadDraft(db, actorOf(req), req.params.draftId);
    if (draft.conversation_id) throw new NotFound();
    return submitNew(req, res, draft);
  });
  router.post("/bo/drafts/:draftId/delete", ...requireAgent, async (req, res) => {
    const draft = await loadDraft(db, actorOf(req), req.params.draftId);
    await discardDraft(deps, agentContext(req), draft);
    flash(req, "Le brouillon a été supprimé.");
    res.redirect(303, draft.conversation_id ? `/bo/conversations/${draft.conversation_id}` : "/bo");
  });

  // ---- a conversation -------------------------------------------------------------------------
  router.get("/bo/conversations/:id", ...requireAgent, async (req, res) => {
    const conversation = await loadConversation(db, actorOf(req), req.params.id);
    await openConversation(db, agentContext(req), conversation);
    const [thread, history, draft] = await Promise.all([
      threadView(db, actorOf(req), conversation),
      accessHistory(db, conversation.id),
      replyDraft(db, actorOf(req), conversation.id),
    ]);
    return render(req, res, "bo/thread", { title: conversation.subject, thread, history, hasDraft: Boolean(draft), current: conversation.id });
  });
  router.get("/bo/conversations/:id/reply", ...requireAgent, async (req, res) => {
    const conversation = await loadConversation(db, actorOf(req), req.params.id);
    if (conversation.state === "clos") {
      flash(req, "Cette conversation est close : l'échelon ne peut plus y répondre.");
      return res.redirect(303, `/bo/conversations/${conversation.id}`);
    }
    const draft = await replyDraft(db, actorOf(req), conversation.id);
    const form = await replyForm(req, conversation.id, conversation.subject, draft);
    return render(req, res, "bo/compose", { title: `Répondre : ${conversation.subject}`, form, current: conversation.id });
  });
  router.post("/bo/conversations/:id/messages", ...requireAgent, async (req, res) => {
    const conversation = await loadConversation(db, actorOf(req), req.params.id);
    const draftId = typeof req.body?.draft_id === "string" && req.body.draft_id ? req.body.draft_id : null;
    const draft = draftId ? await loadDraft(db, actorOf(req), draftId) : null;
    if (draft && draft.conversation_id !== conversation.id) throw new NotFound();
    const input = readComposeInput(req, draft);
    const outcome = await submitCompose(deps, agentContext(req), { kind: "reply", conversation }, input);
    return answer(req, res, outcome, { kind: "reply", id: conversation.id, subject: conversation.subject }, { subject: "", body: input.body, submissionKey: input.submissionKey });
  });
  router.get("/bo/conversations/:id/close", ...requireAgent, async (req, res) => {
    const conversation = await loadConversation(db, actorOf(req), req.params.id);
    if (conversation.state === "clos") return res.redirect(303, `/bo/conversations/${conversation.id}`);
    return render(req, res, "bo/confirm-close", { title: "Clôturer la conversation", id: conversation.id, subject: conversation.subject, current: conversation.id });
  });
  router.post("/bo/conversations/:id/close", ...requireAgent, async (req, res) => {
    const conversation = await loadConversation(db, actorOf(req), req.params.id);
    if (conversation.state !== "clos") await closeConversation(deps, agentContext(req), conversation);
    flash(req, "La conversation a été clôturée : elle est rangée dans la bannette CLOS.");
    res.redirect(303, `/bo/conversations/${conversation.id}`);
  });

  router.get("/bo/attachments/:id", ...requireAgent, (req, res) => downloadAttachment(deps, req, res));

  return router;
}
