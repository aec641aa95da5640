import fs from "node:fs";
import path from "node:path";
import type { Knex } from "knex";
import nodemailer, { type SendMailOptions, type Transporter } from "nodemailer";
import type { Logger } from "pino";
import type { Db } from "../../db/connection.js";

export type NotificationTarget = { practitionerId: number; email: string } | { structureId: number; email: string } | { elsmId: number; email: string };

/**
 * Which mail: a message waits (sent with it), an answer is overdue (the deadline pass, issue 14 §2), or a thread is
 * soon purged at the end of its retention (issue 17 §1: retention.ts).
 */
export type NotificationKind = "message" | "reminder" | "retention";

const SUBJECTS: Record<NotificationKind, string> = {
  message: "Échanges médicaux sécurisés : un nouveau message vous attend",
  reminder: "Échanges médicaux sécurisés : une réponse est attendue",
  retention: "Échanges médicaux sécurisés : une conversation sera bientôt supprimée",
};
const LEADS: Record<NotificationKind, string> = {
  message: "Un nouveau message vous attend dans le service Échanges médicaux sécurisés.",
  reminder: "Une conversation attend votre réponse depuis la date prévue dans le service Échanges médicaux sécurisés.",
  retention:
    "Une conversation terminée arrive au terme de sa durée de conservation dans le service Échanges médicaux sécurisés : elle sera bientôt supprimée. Si elle doit figurer au dossier du patient, exportez-la en PDF avant sa suppression (la date est indiquée sur la conversation).",
};

/** A stored kind read back (older rows: message). */
export function notificationKind(kind: unknown): NotificationKind {
  return kind === "reminder" || kind === "retention" ? kind : "message";
}

/**
 * Queues a mail, in the transaction that causes it. The row holds only the address, the conversation id and
 * the kind (and the message that caused it); the mail names no patient, subject or content.
 */
export async function queueNotification(
  trx: Knex,
  conversationId: number,
  target: NotificationTarget,
  kind: NotificationKind = "message",
  messageId: number | null = null,
): Promise<void> {
  await trx("notifications").insert({
    kind,
    conversation_id: conversationId,
    // The message that queued it: withdrawn before the mail leaves, the mail is cancelled (recall.ts).
    message_id: messageId,
    recipient_practitioner_id: "practitionerId" in target ? target.practitionerId : null,
    recipient_structure_id: "structureId" in target ? target.structureId : null,
    recipient_elsm_id: "elsmId" in target ? target.elsmId : null,
    email: target.email,
    created_at: new Date().toISOString(),
  });
}

/** The échelon's notification mailbox, or null when it has none. */
export async function elsmMailbox(trx: Knex, elsmId: number): Promise<NotificationTarget | null> {
  const e = await trx("elsms").where({ id: elsmId }).first("mailbox");
  return e?.mailbox ? { elsmId, email: e.mailbox as string } : null;
}

/** The professional side's mailbox: the structure's for a structure's thread, else the doctor's; null when none. */
export async function psMailbox(trx: Knex, practitionerId: number | null, structureId: number | null): Promise<NotificationTarget | null> {
  if (structureId) {
    const s = await trx("structures").where({ id: structureId }).first("mailbox");
    return s?.mailbox ? { structureId, email: s.mailbox } : null;
  }
  if (!practitionerId) return null;
  const p = await trx("practitioners").where({ id: practitionerId }).first("mailbox");
  return p?.mailbox ? { practitionerId, email: p.mailbox } : null;
}

export function mailText(publicUrl: string, forElsm: boolean, kind: NotificationKind = "message"): { subject: string; text: string } {
  const login = `${publicUrl}${forElsm ? "/bo/login" : "/ps/login"}`;
  return {
    subject: SUBJECTS[kind],
    text: [
      "Bonjour,",
      "",
      LEADS[kind],
      `${forElsm ? "Connectez-vous au back office" : "Connectez-vous avec votre carte CPS"} pour ${kind === "retention" ? "la" : "le"} consulter :`,
      login,
      "",
      "Ce courriel est envoyé automatiquement ; il ne contient aucune donnée médicale. Merci de ne pas y répondre.",
      "L'Assurance Maladie",
    ].join("\n"),
  };
}

/** SMTP when SMTP_URL is set; otherwise each mail is written as an .eml file in the outbox folder. */
export function createTransport(smtpUrl: string | undefined, outboxDir: string): Transporter {
  if (smtpUrl) return nodemailer.createTransport(smtpUrl);
  fs.mkdirSync(outboxDir, { recursive: true });
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  const send = transport.sendMail.bind(transport);
  transport.sendMail = (async (mail: SendMailOptions) => {
    const info = await send(mail);
    const file = path.join(outboxDir, `${new Date().toISOString().replace(/[:.]/g, "-")}-${info.messageId.replace(/[^a-z0-9]/gi, "")}.eml`);
    fs.writeFileSync(file, info.message as Buffer);
    return info;
  }) as typeof transport.sendMail;
  return transport;
}

export type Notifier = { flush(): Promise<number> };

const CLAIM_MS = 5 * 60_000;

/**
 * Delivers queued notifications (after commit); failures stay queued and are retried. Each row is
 * claimed first with a conditional update, so that processes flushing at the same time never mail it twice.
 */
export function createNotifier(db: Db, transport: Transporter, from: string, publicUrl: string, logger: Logger): Notifier {
  let running: Promise<number> | null = null;
  const claimable = (q: Knex.QueryBuilder, now: number) => q.whereNull("sent_at").where((w) => w.whereNull("claimed_until").orWhere("claimed_until", "<", now));
  const deliver = async (): Promise<number> => {
    const pending = await claimable(db("notifications"), Date.now()).where("attempts", "<", 5).orderBy("id").limit(50);
    let sent = 0;
    for (const n of pending) {
      const now = Date.now();
      const claimed = await claimable(db("notifications").where({ id: n.id }), now).update({ claimed_until: now + CLAIM_MS });
      if (claimed !== 1) continue;
      const { subject, text } = mailText(publicUrl, n.recipient_elsm_id != null, notificationKind(n.kind));
      try {
        await transport.sendMail({ from, to: n.email, subject, text });
        await db("notifications")
          .where({ id: n.id })
          .update({ sent_at: new Date().toISOString(), attempts: n.attempts + 1 });
        sent += 1;
      } catch (err) {
        logger.warn({ notification: n.id, err }, "notification not delivered");
        await db("notifications")
          .where({ id: n.id })
          .update({ attempts: n.attempts + 1, claimed_until: null, last_error: String((err as Error).message).slice(0, 300) });
      }
    }
    return sent;
  };
  return {
    flush() {
      running = (running ?? Promise.resolve(0)).then(deliver, deliver);
      return running;
    },
  };
}

/** Cancels the mail a message queued, when it has not left yet (its message withdrawn, issue 15 §1). */
export async function cancelNotification(trx: Knex, messageId: number): Promise<number> {
  // A mail being sent right now (claimed) goes once; its row gone, a failure is not retried and nothing follows it.
  return trx("notifications").where({ message_id: messageId }).whereNull("sent_at").del();
}

/** Cancels the retention notices of a thread not mailed yet: a new message made it active again (retention.ts). */
export async function cancelRetentionNotices(trx: Knex, conversationId: number): Promise<number> {
  return trx("notifications").where({ conversation_id: conversationId, kind: "retention" }).whereNull("sent_at").del();
}
