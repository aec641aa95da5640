import type { Knex } from "knex";
import { indexSearchText, textConditions, unindexConversation, unindexMessage, type SearchTextRow, type TextConditions } from "../../db/dialect.js";

/**
 * Full-text search (issue 13 §6) in subjects and messages — and the échelon's internal notes when asked —, within the
 * searcher's scope, combined with the other criteria. What is typed is reduced here to its words (letters and digits,
 * any alphabet): quotes, `*`, `-`, parentheses, `:` and every other sign are separators, never query syntax; an
 * operator word (NEAR, OR, NOT) is searched as the word it is. The engines are the dialect's (src/db/dialect.ts).
 */
export const TEXT_MAX = 200;
/** Words kept from a query (the rest is ignored: a search of more is a sentence, not a search). */
export const TEXT_WORDS_MAX = 12;

/** The words of a query, lower case, accents kept (each engine folds them), in order, without repeats. */
export function textWords(typed: string): string[] {
  const words =
    typed
      .normalize("NFC")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)].slice(0, TEXT_WORDS_MAX);
}

/** Why a typed query cannot be searched (nothing but signs), or null. */
export function textError(typed: string): string | null {
  if (!typed) return null;
  return textWords(typed).length ? null : "Saisissez au moins un mot à rechercher (des lettres ou des chiffres) : les guillemets, * et autres signes sont ignorés.";
}

/**
 * The conditions keeping the threads whose subject or messages (and notes, for the échelon that asks) hold every word
 * typed: `where` on the list's query, `inOrder` (when the engine wants it) on its rows already in the list's order.
 */
export function textFilter(db: Knex, typed: string, scope: { elsmId: number; notes: boolean } | { ps: true }): Promise<TextConditions> {
  // The doctor's words: subjects and messages only, never the échelon's notes.
  const options = "ps" in scope ? { notes: false } : { notes: scope.notes, elsmId: scope.elsmId };
  return textConditions(db, "c.id", textWords(typed), options);
}

/** Indexes a subject, message or note in the transaction that writes it. */
export function indexText(trx: Knex, row: SearchTextRow): Promise<void> {
  return indexSearchText(trx, [row]);
}

/** A withdrawn message's words leave the index (its tombstone stays in the thread); in the withdrawal's transaction. */
export function unindexWithdrawn(trx: Knex, message: { conversationId: number; messageId: number }): Promise<void> {
  return unindexMessage(trx, message);
}

/** A thread removed whole (its only message withdrawn) leaves the index; in the withdrawal's transaction. */
export function unindexThread(trx: Knex, conversationId: number): Promise<void> {
  return unindexConversation(trx, conversationId);
}
