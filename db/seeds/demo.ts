import type { Knex } from "knex";
import { hashPin } from "../../src/domain/auth/pin.js";
import { addDefaultClosureReasons, DEFAULT_CLOSURE_REASONS } from "../../src/domain/closure-reasons/defaults.js";
import { recountDerived } from "../../src/domain/conversations/counters.js";
import { rebuildSearchText } from "../../src/db/dialect.js";
import { nameKey } from "../../src/domain/directory/names.js";
import { indexAllWords } from "../../src/domain/directory/words.js";

/** Demo PIN of every simulated CPS card. */
export const DEMO_PIN = "1234";

const at = (local: string) => new Date(local).toISOString();

/** The demo data of the spec and the manual, plus what lets every rule be tried. Idempotent: only on an empty database. */
export async function seedDemo(knex: Knex): Promise<boolean> {
  const existing = await knex("elsms").count<{ n: number | string }[]>({ n: "*" });
  if (Number(existing[0]?.n ?? 0) > 0) return false;

  await knex.transaction(async (trx) => {
    const pin = hashPin(DEMO_PIN);
    const insert = async (table: string, row: Record<string, unknown>) => {
      const [r] = await trx(table).insert(row).returning("id");
      return typeof r === "object" ? (r as { id: number }).id : (r as number);
    };

    const ain = await insert("elsms", { code: "ELSM 011", name: "ELSM de l'AIN", mailbox: "elsm011@assurance-maladie.example" });
    const herault = await insert("elsms", { code: "ELSM 341", name: "ELSM de l'HÉRAULT", mailbox: "elsm341@assurance-maladie.example" });
    const msa = await insert("elsms", { code: "MSA 069", name: "Échelon médical MSA Ain-Rhône", mailbox: "echelon@msa-ain-rhone.example" });
    await addDefaultClosureReasons(trx);

    const cpamAin = await insert("caisses", { regime: "general", name: "CPAM de l'Ain", centre_gestion: "1211", elsm_id: ain });
    const cpamHerault = await insert("caisses", { regime: "general", name: "CPAM de l'Hérault", centre_gestion: "3411", elsm_id: herault });
    const msaAinRhone = await insert("caisses", { regime: "agricole", name: "MSA Ain-Rhône", centre_gestion: "0691", elsm_id: msa });

    const structure = (kind: string, finess: string, raison: string, address: string, cp: string, city: string, mailbox: string | null) =>
      insert("structures", { kind, finess, raison_sociale: raison, raison_sociale_key: nameKey(raison), address, postal_code: cp, city, mailbox });
    const tilleuls = await structure("centre_sante", "010012345", "CENTRE DE SANTE LES TILLEULS", "12 rue des Tilleuls", "01000", "BOURG EN BRESSE", "accueil@cds-tilleuls.example");
    const parc = await structure("etablissement", "340098765", "CLINIQUE DU PARC", "50 avenue du Parc", "34000", "MONTPELLIER", "direction@clinique-parc.example");

    // The RPPS number is what Pro Santé Connect names a doctor by (issue 16): README's demo table lists them.
    const doctor = (nam: string, rpps: string, last: string, first: string, cp: string, city: string, mailbox: string | null, structureId: number | null = null) =>
      insert("practitioners", {
        nam, rpps, last_name: last, first_name: first, last_name_key: nameKey(last), postal_code: cp, city,
        mailbox, structure_id: structureId, pin_hash: pin,
      });
    const gene = await doctor("991101197", "10000000011", "GENE", "Alain", "34170", "CASTELNAU LE LEZ", "alain.gene@medecin.example");
    const mezin = await doctor("381711787", "10000000029", "MEZIN", "Jean-Luc", "38000", "GRENOBLE", "jl.mezin@medecin.example");
    const luanikazuzi = await doctor("971609219", "10000000037", "LUANIKAZUZI", "Xavier", "97600", "MAMOUDZOU", "x.luanikazuzi@medecin.example");
    const martin = await doctor("011234567", "10000000045", "MARTIN", "Sophie", "01000", "BOURG EN BRESSE", null);
    const roux = await doctor("011500011", "10000000052", "ROUX", "Hélène", "01000", "BOURG EN BRESSE", null, tilleuls);
    await doctor("011500029", "10000000060", "BENALI", "Karim", "01000", "BOURG EN BRESSE", null, tilleuls);
    const leroy = await doctor("341500017", "10000000078", "LEROY", "Pierre", "34000", "MONTPELLIER", null, parc);

    // sso_id: the agent's identifier at the insurer's identity provider (issue 16), first.last in the demo.
    const agent = (elsm: number, last: string, first: string) =>
      insert("agents", { elsm_id: elsm, sso_id: `${nameKey(first).toLowerCase()}.${nameKey(last).toLowerCase()}`, last_name: last, first_name: first, last_name_key: nameKey(last), first_name_key: nameKey(first) });
    const anna = await agent(ain, "AIN", "Anna");
    await agent(ain, "DUBOIS", "Marc");
    const paul = await agent(herault, "HERAULT", "Paul");
    await agent(msa, "RHONE", "Marie");

    const patient = (nir: string, key: string, last: string, first: string, birth: string, rang: number, caisse: number, mt: number | null, vitale = false) =>
      insert("patients", {
        nir, nir_key: key, last_name: last, first_name: first, last_name_key: nameKey(last), first_name_key: nameKey(first),
        birth_date: birth, rang, caisse_id: caisse, attending_practitioner_id: mt, demo_vitale_card: vitale,
      });
    const bunyel = await patient("1700469387111", "72", "BUNYEL", "Guillaume", "1970-04-17", 1, cpamAin, gene, true);
    await patient("1700469387111", "72", "BUNYEL", "Léa", "2008-06-02", 1, cpamAin, gene);
    await patient("1700469387111", "72", "BUNYEL", "Hugo", "2008-06-02", 2, cpamAin, gene);
    const solana = await patient("2851175123045", "45", "SOLANA Y FUENTES", "Inès", "1985-11-03", 1, cpamAin, mezin, true);
    const ferrand = await patient("1620369387222", "46", "FERRAND", "Freddy Georges", "1962-03-21", 1, cpamAin, gene);
    const moreau = await patient("2450201053456", "19", "MOREAU", "Jeanne", "1945-02-14", 1, msaAinRhone, roux, true);
    await patient("1900534172789", "05", "PETIT", "Lucas", "1990-05-30", 1, cpamHerault, null);
    await patient("278052A012034", "04", "CASANOVA", "Marie-Ange", "1978-05-09", 1, cpamHerault, martin);
    const arnaud = await patient("1660538185099", "15", "ARNAUD", "Paul", "1966-05-12", 1, cpamHerault, leroy, true);

    type Msg = { side: "ps" | "elsm"; at: string; body: string; by: number; read?: boolean };
    const thread = async (c: {
      subject: string; patient: number | null; practitioner?: number; structure?: number; elsm: number;
      startedBy: "ps" | "elsm"; state?: "clos"; messages: Msg[];
    }) => {
      const last = c.messages[c.messages.length - 1]!;
      const lastAgent = [...c.messages].reverse().find((m) => m.side === "elsm");
      const first = c.messages[0]!;
      const id = await insert("conversations", {
        subject: c.subject, patient_id: c.patient, ps_practitioner_id: c.practitioner ?? null, ps_structure_id: c.structure ?? null,
        elsm_id: c.elsm, started_by: c.startedBy,
        started_by_practitioner_id: c.startedBy === "ps" ? first.by : null, started_by_agent_id: c.startedBy === "elsm" ? first.by : null,
        state: c.state ?? (last.side === "ps" ? "a_traiter" : "en_cours"), redacteur_agent_id: lastAgent?.by ?? null,
        last_message_at: at(last.at), last_message_side: last.side, closed_at: c.state ? at(last.at) : null, created_at: at(first.at),
        closed_reason_label: c.state ? DEFAULT_CLOSURE_REASONS[0] : null,
      });
      for (const m of c.messages) {
        await trx("messages").insert({
          conversation_id: id, side: m.side, author_practitioner_id: m.side === "ps" ? m.by : null,
          author_agent_id: m.side === "elsm" ? m.by : null, body: m.body, sent_at: at(m.at), read_at: m.read ? at(m.at) : null,
        });
      }
      return id;
    };

    await thread({ subject: "RV pour échange confraternel", patient: null, practitioner: gene, elsm: ain, startedBy: "elsm", messages: [
      { side: "elsm", by: anna, at: "2018-01-23T16:46:00+01:00", read: true, body: "Bonjour,\n\nSeriez vous disponible pour un échange confraternel le 25/01 ?\n\nCordialement\nDR Martin" },
    ] });
    await thread({ subject: "Arrêt de travail durée maxi", patient: bunyel, practitioner: gene, elsm: ain, startedBy: "ps", messages: [
      { side: "ps", by: gene, at: "2018-12-04T10:05:00+01:00", read: true, body: "Bonjour,\nQuelle est la durée maximale d'arrêt de travail envisageable pour ce patient ?\nBien confraternellement." },
      { side: "elsm", by: anna, at: "2018-12-05T09:30:00+01:00", read: true, body: "Bonjour Docteur,\nLa durée dépend du référentiel ; nous revenons vers vous après étude du dossier.\nCordialement\nEchelon médical" },
    ] });
    await thread({ subject: "complément d'info PSE", patient: null, practitioner: gene, elsm: ain, startedBy: "elsm", messages: [
      { side: "elsm", by: anna, at: "2019-02-13T14:34:00+01:00", read: true, body: "Bonjour Docteur,\nPouvez-vous nous transmettre un complément d'information sur le protocole de soins ?\nCordialement" },
    ] });
    await thread({ subject: "ALD - demande d'info critères HAS", patient: bunyel, practitioner: gene, elsm: ain, startedBy: "ps", messages: [
      { side: "ps", by: gene, at: "2019-04-09T18:45:00+02:00", read: true, body: "Bonjour,\nQuels sont les critères HAS retenus pour l'ALD de ce patient ?" },
    ] });
    await thread({ subject: "info ALD", patient: bunyel, practitioner: gene, elsm: ain, startedBy: "ps", messages: [
      { side: "ps", by: gene, at: "2019-04-15T15:14:00+02:00", body: "merci de confirmer" },
    ] });
    await thread({ subject: "Durée arrêt de travail Lombalgie", patient: null, practitioner: gene, elsm: ain, startedBy: "elsm", messages: [
      { side: "elsm", by: anna, at: "2019-04-23T11:15:00+02:00", body: "Bonjour Docteur,\nPour une lombalgie commune, la durée indicative d'arrêt est de 5 jours pour un emploi sédentaire.\nCordialement\nEchelon médical de l'Ain" },
    ] });
    await thread({ subject: "Recherche", patient: solana, practitioner: mezin, elsm: ain, startedBy: "elsm", messages: [
      { side: "elsm", by: anna, at: "2019-04-09T18:48:00+02:00", body: "Bonjour Docteur,\nPouvez-vous nous adresser le dernier compte rendu d'hospitalisation de votre patiente ?\nCordialement" },
    ] });
    // The échelon's question without a patient (manual §6: light pastille "XL"), answered, then closed.
    await thread({ subject: "Sans dossier", patient: null, practitioner: luanikazuzi, elsm: ain, startedBy: "elsm", state: "clos", messages: [
      { side: "elsm", by: anna, at: "2019-04-08T09:10:00+02:00", read: true, body: "Bonjour Docteur, connaissez-vous la procédure d'accord préalable décrite sur amelipro ? Cordialement." },
      { side: "ps", by: luanikazuzi, at: "2019-04-09T10:00:00+02:00", read: true, body: "Bonjour, oui, merci." },
      { side: "elsm", by: anna, at: "2019-04-09T18:45:00+02:00", read: true, body: "Bonjour Docteur, merci de votre réponse. Cordialement." },
    ] });
    await thread({ subject: "Suivi ALD diabète", patient: moreau, structure: tilleuls, elsm: msa, startedBy: "ps", messages: [
      { side: "ps", by: roux, at: "2019-05-02T10:20:00+02:00", read: true, body: "Bonjour, pouvez-vous confirmer la prise en charge ALD de Mme MOREAU ?" },
      { side: "elsm", by: (await trx("agents").where({ elsm_id: msa }).first("id")).id, at: "2019-05-03T08:40:00+02:00", body: "Bonjour, la prise en charge est confirmée jusqu'au 31/12/2019. Cordialement." },
    ] });
    await thread({ subject: "Chirurgie bariatrique - entente préalable", patient: arnaud, structure: parc, elsm: herault, startedBy: "ps", messages: [
      { side: "ps", by: leroy, at: "2019-05-06T14:00:00+02:00", body: "Bonjour, je vous transmets la demande d'entente préalable pour une sleeve gastrectomie." },
    ] });
    await thread({ subject: "Questionnaire pré-opératoire", patient: arnaud, structure: parc, elsm: herault, startedBy: "elsm", messages: [
      { side: "elsm", by: paul, at: "2019-05-10T09:00:00+02:00", body: "Bonjour, merci de compléter le questionnaire pré-opératoire de ce patient." },
    ] });

    const now = new Date().toISOString();
    await trx("drafts").insert({
      side: "elsm", author_agent_id: anna, elsm_id: ain, patient_id: ferrand, recipient_practitioner_id: gene,
      subject: "TEST ELSM INIT QUESTION", body: "Bonjour Docteur,\n", created_at: now, updated_at: now,
    });
    await trx("drafts").insert({
      side: "ps", author_practitioner_id: gene, patient_id: bunyel, elsm_id: ain,
      subject: "Maladie pro - Urgent", body: "Bonjour,\nDemande d'avis sur une reconnaissance en maladie professionnelle.", created_at: now, updated_at: now,
    });
    await recountDerived(trx);
    await indexAllWords(trx);
    await rebuildSearchText(trx);
  });
  return true;
}

/** Entry point for `knex seed:run`. */
export async function seed(knex: Knex): Promise<void> {
  await seedDemo(knex);
}
