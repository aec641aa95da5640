import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, bunyel, casanova2A, drGene, hiddenFields, moreauMsa, selectPatient, signInPs, solana, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { patientCard, postForm, textOf } from "../helpers/ps.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

/** The NIR key computed here, independently of the app: 97 − (NIR mod 97), 2A → 19, 2B → 18. */
function key(nir: string): string {
  return String(97n - (BigInt(nir.replace("2A", "19").replace("2B", "18")) % 97n)).padStart(2, "0");
}

async function typeNir(s: Session, nir: string, k: string) {
  return s.agent.post("/ps/patient/nir").type("form").send({ _csrf: s.csrf, nir, key: k });
}

describe("the NIR form refuses bad input, each case with its own message", () => {
  let s: Session;
  beforeAll(async () => {
    s = await signInPs(app, drGene);
  });

  async function refusal(nir: string, k: string) {
    const res = await typeNir(s, nir, k);
    expect(res.status).toBe(422);
    const page = $(res.text);
    // What was typed stays in the fields.
    expect(page("input#nir").val()).toBe(nir);
    expect(page("input#key").val()).toBe(k);
    expect(page("#patient-panel dl.patient-card").length).toBe(0);
    return { page, nirError: textOf(page, "#nir-error"), keyError: textOf(page, "#key-error"), summary: textOf(page, ".error-summary") };
  }

  it("has NIR and Clé fields and a Sélectionner le patient button", async () => {
    const page = $((await s.agent.get("/ps/patient")).text);
    const form = page('form[action="/ps/patient/nir"]');
    expect(form.find(`#${form.find('label:contains("NIR")').attr("for")}`).attr("name")).toBe("nir");
    expect(form.find(`#${form.find('label:contains("Clé")').attr("for")}`).attr("name")).toBe("key");
    expect(form.find("button[type=submit]").text().trim()).toBe("Sélectionner le patient");
  });

  it("a NIR with letters", async () => {
    const r = await refusal("1700469387ABC", "72");
    expect(r.nirError).toContain("ne peut contenir que des chiffres");
    expect(r.page("input#nir").attr("aria-invalid")).toBe("true");
    expect(r.summary).toContain(r.nirError);
  });

  it("a NIR of the wrong length", async () => {
    const r = await refusal("170046938711", "72");
    expect(r.nirError).toBe("Le NIR doit comporter 13 caractères (vous en avez saisi 12).");
    const longer = await refusal("17004693871112", "72");
    expect(longer.nirError).toContain("vous en avez saisi 14");
  });

  it("a wrong key", async () => {
    const wrong = bunyel.key === "73" ? "74" : "73";
    const r = await refusal(bunyel.nir, wrong);
    expect(r.keyError).toContain("La clé ne correspond pas au NIR");
    expect(r.page("input#key").attr("aria-invalid")).toBe("true");
    expect(r.nirError).toBe("");
  });

  it("a key that is not two digits", async () => {
    const r = await refusal(bunyel.nir, "7");
    expect(r.keyError).toContain("2 chiffres");
  });

  it("a well-formed NIR that no patient holds", async () => {
    const unknown = "1700469387999";
    const r = await refusal(unknown, key(unknown));
    expect(r.nirError).toContain("Aucun patient n'est connu sous ce NIR");
  });

  it("the four messages differ from one another", async () => {
    const messages = [
      (await refusal("1700469387ABC", "72")).nirError,
      (await refusal("170046938711", "72")).nirError,
      (await refusal(bunyel.nir, "00")).keyError,
      (await refusal("1700469387999", key("1700469387999"))).nirError,
    ];
    expect(new Set(messages).size).toBe(4);
    for (const m of messages) expect(m.length).toBeGreaterThan(10);
  });
});

describe("selecting a patient", () => {
  it("accepts a Corsican 2A NIR, also typed in lower case with spaces", async () => {
    expect(key(casanova2A.nir)).toBe(casanova2A.key);
    const s = await signInPs(app, drGene);
    const res = await typeNir(s, "2 78 05 2a 012 034", casanova2A.key);
    expect(res.status).toBe(303);
    const card = patientCard($((await s.agent.get(res.headers.location)).text), "#patient-panel");
    expect(card["Patient(e)"]).toBe("Marie-Ange CASANOVA");
    expect(card.NIR).toBe(`${casanova2A.nir} ${casanova2A.key}`);
    expect(card["Service médical"]).toBe("ELSM de l'HÉRAULT");
  });

  it("accepts a NIR typed with dots, or with spaces and its key in the NIR field, that the field takes whole", async () => {
    const s = await signInPs(app, drGene);
    const form = $((await s.agent.get("/ps/patient")).text);
    expect(Number(form("input#nir").attr("maxlength"))).toBeGreaterThanOrEqual("2 78 05 2A 012 034 04".length);
    for (const [nir, k] of [
      ["2.78.05.2A.012.034", casanova2A.key],
      ["2 78 05 2A 012 034 04", ""],
      ["2.78.05.2a.012.034.04", casanova2A.key],
    ]) {
      const res = await typeNir(s, nir!, k!);
      expect(res.status).toBe(303);
      expect(patientCard($((await s.agent.get(res.headers.location)).text), "#patient-panel")["Patient(e)"]).toBe("Marie-Ange CASANOVA");
    }
  });

  it("under a NIR shared by several beneficiaries, asks to choose by birth date and rang", async () => {
    const s = await signInPs(app, drGene);
    const res = await typeNir(s, bunyel.nir, bunyel.key);
    expect(res.status).toBe(200);
    const page = $(res.text);
    expect(textOf(page, 'form[action="/ps/patient/choose"] legend')).toContain("date de naissance et le rang");
    const labels = page('form[action="/ps/patient/choose"] input[type=radio][name=patient]')
      .toArray()
      .map((el) => textOf(page, `label[for="${page(el).attr("id")}"]`));
    expect(labels).toEqual(["Guillaume BUNYEL — né(e) le 17/04/1970, rang 1", "Léa BUNYEL — né(e) le 02/06/2008, rang 1", "Hugo BUNYEL — né(e) le 02/06/2008, rang 2"]);

    // The twins share a birth date: the rang tells them apart.
    const hugo = page("input[type=radio][name=patient]")
      .toArray()
      .find((el) => textOf(page, `label[for="${page(el).attr("id")}"]`).startsWith("Hugo"))!;
    const chosen = await s.agent
      .post("/ps/patient/choose")
      .type("form")
      .send({ _csrf: s.csrf, patient: String(page(hugo).val()) });
    expect(chosen.status).toBe(303);
    const card = patientCard($((await s.agent.get("/ps/messages")).text), "#patient-panel");
    expect(card["Patient(e)"]).toBe("Hugo BUNYEL");
    expect(card["Né(e) le"]).toBe("02/06/2008");
    expect(card.Rang).toBe("2");
  });

  it("refuses a choice that was not among the beneficiaries offered", async () => {
    const s = await signInPs(app, drGene);
    await typeNir(s, bunyel.nir, bunyel.key);
    const other = (await app.db("patients").where({ nir: solana.nir }).first("id")).id;
    const res = await s.agent
      .post("/ps/patient/choose")
      .type("form")
      .send({ _csrf: s.csrf, patient: String(other) });
    expect(res.status).toBe(422);
    expect($((await s.agent.get("/ps/messages")).text)("#patient-panel dl.patient-card").length).toBe(0);
    // The same three beneficiaries are offered again, the error on their radio group, linked from the summary.
    const page = $(res.text);
    const radios = page('form[action="/ps/patient/choose"] input[type=radio][name=patient]');
    expect(radios.length).toBe(3);
    expect(radios.first().attr("aria-invalid")).toBe("true");
    expect(textOf(page, "#choice-error")).toBe("Choisissez l'un des bénéficiaires proposés.");
    expect(page('form[action="/ps/patient/choose"] fieldset').attr("aria-describedby")).toBe("choice-error");
    expect(page(".error-summary a").attr("href")).toBe(`#${radios.first().attr("id")}`);
  });

  it("with no choice pending (another tab, a forged post), asks for the NIR again", async () => {
    const s = await signInPs(app, drGene);
    const res = await s.agent.post("/ps/patient/choose").type("form").send({ _csrf: s.csrf, patient: "1" });
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page('form[action="/ps/patient/choose"]').length).toBe(0);
    expect(page(".error-summary a").attr("href")).toBe("#nir");
    expect(textOf(page, ".error-summary")).toContain("Saisissez de nouveau le NIR du patient.");
  });

  it("by reading a (simulated) Carte Vitale", async () => {
    const s = await signInPs(app, drGene);
    const page = $((await s.agent.get("/ps/patient")).text);
    expect(textOf(page, 'form[action="/ps/patient/vitale"] button')).toBe("Lire la carte Vitale");
    const option = page('form[action="/ps/patient/vitale"] select[name=patient] option')
      .toArray()
      .find((o) => page(o).text().includes("SOLANA"))!;
    const res = await s.agent
      .post("/ps/patient/vitale")
      .type("form")
      .send({ _csrf: s.csrf, patient: String(page(option).val()) });
    expect(res.status).toBe(303);
    const card = patientCard($((await s.agent.get("/ps/messages")).text), "#patient-panel");
    expect(card["Patient(e)"]).toBe("Inès SOLANA Y FUENTES");
    expect(card.NIR).toBe(`${solana.nir} ${solana.key}`);
  });

  it("reading no Vitale card is refused with a message", async () => {
    const s = await signInPs(app, drGene);
    const res = await s.agent.post("/ps/patient/vitale").type("form").send({ _csrf: s.csrf, patient: "" });
    expect(res.status).toBe(422);
    expect(textOf($(res.text), ".error-summary")).toContain("Aucune carte Vitale n'a été lue");
  });

  it("shows the patient card: name, NIR, born on, rang, régime, service médical, centre de gestion", async () => {
    const s = await signInPs(app, drGene);
    await selectPatient(s, bunyel);
    const expected = {
      "Patient(e)": "Guillaume BUNYEL",
      NIR: "1700469387111 72",
      "Né(e) le": "17/04/1970",
      Rang: "1",
      Régime: "Régime Général",
      "Service médical": "ELSM de l'AIN",
      "Centre de gestion": "1211",
    };
    expect(patientCard($((await s.agent.get("/ps/messages")).text), "#patient-panel")).toEqual(expected);
    expect(patientCard($((await s.agent.get("/ps/conversations/new")).text), "#detail")).toEqual(expected);
  });

  it("shows an MSA patient under the régime agricole and its MSA échelon, and sends there", async () => {
    const s = await signInPs(app, drGene);
    await selectPatient(s, moreauMsa);
    const form = await s.agent.get("/ps/conversations/new");
    const card = patientCard($(form.text), "#detail");
    expect(card.Régime).toBe("Régime Agricole");
    expect(card["Service médical"]).toBe("Échelon médical MSA Ain-Rhône");
    expect(card["Centre de gestion"]).toBe("0691");

    const res = await postForm(s, "/ps/conversations", { ...hiddenFields(form.text), subject: "Question MSA", body: "Bonjour", action: "send" });
    expect(res.status).toBe(303);
    const c = await app.db("conversations as c").join("elsms as e", "e.id", "c.elsm_id").where("c.subject", "Question MSA").first("e.code");
    expect(c.code).toBe("MSA 069");
  });
});

describe("POSER UNE QUESTION", () => {
  it("is disabled until a patient is selected, then leads to the compose form", async () => {
    const s = await signInPs(app, drGene);
    let page = $((await s.agent.get("/ps/messages")).text);
    expect(page('button[disabled]:contains("Poser une question")').length).toBe(1);
    expect(page('a:contains("Poser une question")').length).toBe(0);
    expect(page('a:contains("Sélectionner un patient")').attr("href")).toBe("/ps/patient");

    await selectPatient(s, bunyel);
    page = $((await s.agent.get("/ps/messages")).text);
    expect(page('button[disabled]:contains("Poser une question")').length).toBe(0);
    expect(page('a:contains("Poser une question")').attr("href")).toBe("/ps/conversations/new");
  });

  it("the compose form itself is out of reach without a patient", async () => {
    const s = await signInPs(app, drGene);
    const res = await s.agent.get("/ps/conversations/new");
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/ps/patient");
  });

  it("is disabled again after Changer de patient", async () => {
    const s = await signInPs(app, drGene);
    await selectPatient(s, bunyel);
    await s.agent.post("/ps/patient/clear").type("form").send({ _csrf: s.csrf });
    const page = $((await s.agent.get("/ps/messages")).text);
    expect(page('button[disabled]:contains("Poser une question")').length).toBe(1);
  });
});
