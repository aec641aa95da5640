import type { Knex } from "knex";
import { indexSearchText, textConditions, unindexConversation, unindexedWords, unindexMessage, type SearchTextRow, type TextConditions } from "../../db/dialect.js";

/**
 * Full-text search (issue 13 §6) in subjects and messages — and the échelon's internal notes when asked —, within the
 * searcher's scope, combined with the other criteria. What is typed is reduced here to its words (letters and digits,
 * any alphabet): quotes, `*`, `-`, parentheses, `:` and every other sign are separators, never query syntax; an
 * operator word (NEAR, OR, NOT) is searched as the word it is. The engines are the dialect's (src/db/dialect.ts).
 */
export const TEXT_MAX = 200;
/** Words kept from a query (the rest is ignored: a search of more is a sentence, not a search). */
export const TEXT_WORDS_MAX = 12;

/**
 * The words of a query, lower case, accents kept (each engine folds them), in order, without repeats. Compatibility
 * forms are read as the letters they show (NFKC: ＣＡＲＤＩＯ, 𝐜𝐚𝐫𝐝𝐢𝐨, the ligature ﬁ), and invisible format characters
 * pasted inside a word (a soft hyphen, a zero-width space, a direction mark) are dropped rather than splitting it.
 */
export function textWords(typed: string): string[] {
  const words =
    typed
      .normalize("NFKC")
      .replace(/\p{Cf}/gu, "")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)].slice(0, TEXT_WORDS_MAX);
}

/**
 * The query as kept (and shown again in its field): trimmed, and past TEXT_MAX cut at the last space before it, so that
 * a long paste never ends on half a word (« cardiologie » cut to « cardiol » would be searched as another word).
 */
export function keptQuery(typed: string): string {
  const t = typed.trim();
  if (t.length <= TEXT_MAX) return t;
  const head = t.slice(0, TEXT_MAX + 1);
  const space = head.search(/\s\S*$/);
  return (space > 0 ? head.slice(0, space) : t.slice(0, TEXT_MAX)).trim();
}

/** Why a typed query cannot be searched (nothing but signs), or null. */
export function textError(typed: string): string | null {
  if (!typed) return null;
  return textWords(typed).length ? null : "Saisissez au moins un mot à rechercher (des lettres ou des chiffres) : les guillemets, * et autres signes sont ignorés.";
}

/**
 * Why a query whose words the engine cannot search (only French stop words on PostgreSQL: « le », « de la ») is refused
 * rather than run — it would narrow nothing and show the whole list —, or null.
 */
export async function textRefusal(db: Knex, typed: string): Promise<string | null> {
  const words = textWords(typed);
  const common = await unindexedWords(db, words);
  if (!words.length || common.length < words.length) return null;
  const quoted = common.map((w) => `« ${w} »`).join(", ");
  return common.length === 1
    ? `Le mot ${quoted} est trop courant pour être recherché : ajoutez un mot plus précis.`
    : `Les mots ${quoted} sont trop courants pour être recherchés : ajoutez un mot plus précis.`;
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
