import type { Side } from "./states.js";

/**
 * The pastille telling who started a thread (manual §5–6): the ELSM code, a liberal doctor's
 * initials, or a structure's first 2 letters of raison sociale + first 2 digits of FINESS.
 */
export type Badge = { text: string; label: string; tone: "incoming" | "outgoing" };

export type BadgeSource = {
  started_by: Side;
  elsm_code: string;
  starter_first_name: string | null;
  starter_last_name: string | null;
  structure_raison_sociale: string | null;
  structure_finess: string | null;
};

function initial(name: string | null): string {
  return (name ?? "")
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .replace(/[^A-Za-z]/g, "")
    .charAt(0)
    .toUpperCase();
}

/** `viewer` decides the tone: on the ELSM side, dark (incoming) when the PS started it, light when the ELSM did. */
export function badgeFor(row: BadgeSource, viewer: Side): Badge {
  const incoming = viewer === "elsm" ? row.started_by === "ps" : row.started_by === "elsm";
  const tone = incoming ? "incoming" : "outgoing";
  if (row.started_by === "elsm") return { text: row.elsm_code, label: `Conversation ouverte par l'échelon ${row.elsm_code}`, tone };
  if (row.structure_raison_sociale && row.structure_finess) {
    const letters = row.structure_raison_sociale
      .normalize("NFD")
      .replace(/[^A-Za-z]/g, "")
      .slice(0, 2)
      .toUpperCase();
    return { text: `${letters}${row.structure_finess.slice(0, 2)}`, label: `Conversation ouverte par ${row.structure_raison_sociale}`, tone };
  }
  const text = `${initial(row.starter_first_name)}${initial(row.starter_last_name)}`;
  return { text, label: `Conversation ouverte par le Dr ${row.starter_first_name ?? ""} ${row.starter_last_name ?? ""}`.trim(), tone };
}
