/**
 * Reference data for `npm run populate` (scripts/populate.ts): départements with their prefecture, the MSA
 * échelons, French names, subjects and message phrases. Plain data, no logic.
 */

/** [code, "de …" form, name, prefecture (search-key form), postal code, weight (≈ population)] */
export type Departement = { code: string; de: string; name: string; city: string; cp: string; weight: number };

const D = (code: string, de: string, name: string, city: string, cp: string, weight = 1): Departement => ({ code, de, name, city, cp, weight });

export const DEPARTEMENTS: Departement[] = [
  D("01", "de l'", "AIN", "BOURG EN BRESSE", "01000"), D("02", "de l'", "AISNE", "LAON", "02000"),
  D("03", "de l'", "ALLIER", "MOULINS", "03000"), D("04", "des ", "ALPES-DE-HAUTE-PROVENCE", "DIGNE LES BAINS", "04000"),
  D("05", "des ", "HAUTES-ALPES", "GAP", "05000"), D("06", "des ", "ALPES-MARITIMES", "NICE", "06000", 2.5),
  D("07", "de l'", "ARDÈCHE", "PRIVAS", "07000"), D("08", "des ", "ARDENNES", "CHARLEVILLE MEZIERES", "08000"),
  D("09", "de l'", "ARIÈGE", "FOIX", "09000"), D("10", "de l'", "AUBE", "TROYES", "10000"),
  D("11", "de l'", "AUDE", "CARCASSONNE", "11000"), D("12", "de l'", "AVEYRON", "RODEZ", "12000"),
  D("13", "des ", "BOUCHES-DU-RHÔNE", "MARSEILLE", "13001", 2.5), D("14", "du ", "CALVADOS", "CAEN", "14000"),
  D("15", "du ", "CANTAL", "AURILLAC", "15000"), D("16", "de la ", "CHARENTE", "ANGOULEME", "16000"),
  D("17", "de la ", "CHARENTE-MARITIME", "LA ROCHELLE", "17000"), D("18", "du ", "CHER", "BOURGES", "18000"),
  D("19", "de la ", "CORRÈZE", "TULLE", "19000"), D("2A", "de la ", "CORSE-DU-SUD", "AJACCIO", "20000"),
  D("2B", "de la ", "HAUTE-CORSE", "BASTIA", "20200"), D("21", "de la ", "CÔTE-D'OR", "DIJON", "21000"),
  D("22", "des ", "CÔTES-D'ARMOR", "SAINT BRIEUC", "22000"), D("23", "de la ", "CREUSE", "GUERET", "23000"),
  D("24", "de la ", "DORDOGNE", "PERIGUEUX", "24000"), D("25", "du ", "DOUBS", "BESANCON", "25000"),
  D("26", "de la ", "DRÔME", "VALENCE", "26000"), D("27", "de l'", "EURE", "EVREUX", "27000"),
  D("28", "d'", "EURE-ET-LOIR", "CHARTRES", "28000"), D("29", "du ", "FINISTÈRE", "QUIMPER", "29000"),
  D("30", "du ", "GARD", "NIMES", "30000"), D("31", "de la ", "HAUTE-GARONNE", "TOULOUSE", "31000", 2.5),
  D("32", "du ", "GERS", "AUCH", "32000"), D("33", "de la ", "GIRONDE", "BORDEAUX", "33000", 2.5),
  D("34", "de l'", "HÉRAULT", "MONTPELLIER", "34000", 2.5), D("35", "d'", "ILLE-ET-VILAINE", "RENNES", "35000"),
  D("36", "de l'", "INDRE", "CHATEAUROUX", "36000"), D("37", "d'", "INDRE-ET-LOIRE", "TOURS", "37000"),
  D("38", "de l'", "ISÈRE", "GRENOBLE", "38000", 2.5), D("39", "du ", "JURA", "LONS LE SAUNIER", "39000"),
  D("40", "des ", "LANDES", "MONT DE MARSAN", "40000"), D("41", "de ", "LOIR-ET-CHER", "BLOIS", "41000"),
  D("42", "de la ", "LOIRE", "SAINT ETIENNE", "42000"), D("43", "de la ", "HAUTE-LOIRE", "LE PUY EN VELAY", "43000"),
  D("44", "de la ", "LOIRE-ATLANTIQUE", "NANTES", "44000", 2.5), D("45", "du ", "LOIRET", "ORLEANS", "45000"),
  D("46", "du ", "LOT", "CAHORS", "46000"), D("47", "de ", "LOT-ET-GARONNE", "AGEN", "47000"),
  D("48", "de la ", "LOZÈRE", "MENDE", "48000"), D("49", "de ", "MAINE-ET-LOIRE", "ANGERS", "49000"),
  D("50", "de la ", "MANCHE", "SAINT LO", "50000"), D("51", "de la ", "MARNE", "CHALONS EN CHAMPAGNE", "51000"),
  D("52", "de la ", "HAUTE-MARNE", "CHAUMONT", "52000"), D("53", "de la ", "MAYENNE", "LAVAL", "53000"),
  D("54", "de ", "MEURTHE-ET-MOSELLE", "NANCY", "54000"), D("55", "de la ", "MEUSE", "BAR LE DUC", "55000"),
  D("56", "du ", "MORBIHAN", "VANNES", "56000"), D("57", "de la ", "MOSELLE", "METZ", "57000"),
  D("58", "de la ", "NIÈVRE", "NEVERS", "58000"), D("59", "du ", "NORD", "LILLE", "59000", 2.5),
  D("60", "de l'", "OISE", "BEAUVAIS", "60000"), D("61", "de l'", "ORNE", "ALENCON", "61000"),
  D("62", "du ", "PAS-DE-CALAIS", "ARRAS", "62000", 2.5), D("63", "du ", "PUY-DE-DÔME", "CLERMONT FERRAND", "63000"),
  D("64", "des ", "PYRÉNÉES-ATLANTIQUES", "PAU", "64000"), D("65", "des ", "HAUTES-PYRÉNÉES", "TARBES", "65000"),
  D("66", "des ", "PYRÉNÉES-ORIENTALES", "PERPIGNAN", "66000"), D("67", "du ", "BAS-RHIN", "STRASBOURG", "67000", 2.5),
  D("68", "du ", "HAUT-RHIN", "COLMAR", "68000"), D("69", "du ", "RHÔNE", "LYON", "69001", 2.5),
  D("70", "de la ", "HAUTE-SAÔNE", "VESOUL", "70000"), D("71", "de ", "SAÔNE-ET-LOIRE", "MACON", "71000"),
  D("72", "de la ", "SARTHE", "LE MANS", "72000"), D("73", "de la ", "SAVOIE", "CHAMBERY", "73000"),
  D("74", "de la ", "HAUTE-SAVOIE", "ANNECY", "74000"), D("75", "de ", "PARIS", "PARIS", "75001", 19),
  D("76", "de la ", "SEINE-MARITIME", "ROUEN", "76000", 2.5), D("77", "de ", "SEINE-ET-MARNE", "MELUN", "77000", 3),
  D("78", "des ", "YVELINES", "VERSAILLES", "78000", 3), D("79", "des ", "DEUX-SÈVRES", "NIORT", "79000"),
  D("80", "de la ", "SOMME", "AMIENS", "80000"), D("81", "du ", "TARN", "ALBI", "81000"),
  D("82", "de ", "TARN-ET-GARONNE", "MONTAUBAN", "82000"), D("83", "du ", "VAR", "TOULON", "83000"),
  D("84", "du ", "VAUCLUSE", "AVIGNON", "84000"), D("85", "de la ", "VENDÉE", "LA ROCHE SUR YON", "85000"),
  D("86", "de la ", "VIENNE", "POITIERS", "86000"), D("87", "de la ", "HAUTE-VIENNE", "LIMOGES", "87000"),
  D("88", "des ", "VOSGES", "EPINAL", "88000"), D("89", "de l'", "YONNE", "AUXERRE", "89000"),
  D("90", "du ", "TERRITOIRE DE BELFORT", "BELFORT", "90000"), D("91", "de l'", "ESSONNE", "EVRY COURCOURONNES", "91000", 3),
  D("92", "des ", "HAUTS-DE-SEINE", "NANTERRE", "92000", 3), D("93", "de la ", "SEINE-SAINT-DENIS", "BOBIGNY", "93000", 3),
  D("94", "du ", "VAL-DE-MARNE", "CRETEIL", "94000", 3), D("95", "du ", "VAL-D'OISE", "CERGY", "95000", 3),
  D("971", "de la ", "GUADELOUPE", "BASSE TERRE", "97100"), D("972", "de la ", "MARTINIQUE", "FORT DE FRANCE", "97200"),
  D("973", "de la ", "GUYANE", "CAYENNE", "97300"), D("974", "de ", "LA RÉUNION", "SAINT DENIS", "97400"),
  D("976", "de ", "MAYOTTE", "MAMOUDZOU", "97600"),
];

/** Second towns of some départements (more postal codes and cities to search on). */
export const MORE_TOWNS: Record<string, [string, string][]> = {
  "06": [["06400", "CANNES"], ["06600", "ANTIBES"], ["06500", "MENTON"]],
  "13": [["13100", "AIX EN PROVENCE"], ["13200", "ARLES"], ["13500", "MARTIGUES"]],
  "31": [["31300", "TOULOUSE"], ["31500", "TOULOUSE"], ["31600", "MURET"]],
  "33": [["33300", "BORDEAUX"], ["33600", "PESSAC"], ["33700", "MERIGNAC"]],
  "34": [["34500", "BEZIERS"], ["34200", "SETE"], ["34170", "CASTELNAU LE LEZ"]],
  "38": [["38100", "GRENOBLE"], ["38200", "VIENNE"], ["38300", "BOURGOIN JALLIEU"]],
  "44": [["44600", "SAINT NAZAIRE"], ["44300", "NANTES"], ["44400", "REZE"]],
  "59": [["59100", "ROUBAIX"], ["59200", "TOURCOING"], ["59140", "DUNKERQUE"], ["59300", "VALENCIENNES"]],
  "62": [["62100", "CALAIS"], ["62200", "BOULOGNE SUR MER"], ["62300", "LENS"]],
  "67": [["67100", "STRASBOURG"], ["67500", "HAGUENAU"]],
  "69": [["69003", "LYON"], ["69007", "LYON"], ["69100", "VILLEURBANNE"], ["69200", "VENISSIEUX"]],
  "75": Array.from({ length: 20 }, (_, i) => [`750${String(i + 1).padStart(2, "0")}`, "PARIS"] as [string, string]),
  "76": [["76600", "LE HAVRE"], ["76200", "DIEPPE"]],
  "77": [["77100", "MEAUX"], ["77300", "FONTAINEBLEAU"]],
  "78": [["78100", "SAINT GERMAIN EN LAYE"], ["78200", "MANTES LA JOLIE"]],
  "91": [["91300", "MASSY"], ["91120", "PALAISEAU"]],
  "92": [["92100", "BOULOGNE BILLANCOURT"], ["92200", "NEUILLY SUR SEINE"], ["92130", "ISSY LES MOULINEAUX"]],
  "93": [["93100", "MONTREUIL"], ["93200", "SAINT DENIS"], ["93300", "AUBERVILLIERS"]],
  "94": [["94300", "VINCENNES"], ["94400", "VITRY SUR SEINE"], ["94200", "IVRY SUR SEINE"]],
  "95": [["95100", "ARGENTEUIL"], ["95200", "SARCELLES"]],
};

/** Départements with more than one CPAM (same ELSM). */
export const EXTRA_CAISSES: Record<string, string[]> = {
  "59": ["CPAM de Lille-Douai", "CPAM de Roubaix-Tourcoing", "CPAM du Hainaut", "CPAM des Flandres"],
  "62": ["CPAM de l'Artois", "CPAM de la Côte d'Opale"],
};

/** MSA échelons (régime agricole): name and the départements they cover (Ain and Rhône are the demo's MSA 069). */
export const MSA: { name: string; deps: string[] }[] = [
  { name: "MSA Alpes-Vaucluse", deps: ["04", "05", "84"] }, { name: "MSA Alpes du Nord", deps: ["38", "73", "74"] },
  { name: "MSA Ardèche Drôme Loire", deps: ["07", "26", "42"] }, { name: "MSA d'Armorique", deps: ["22", "29"] },
  { name: "MSA Auvergne", deps: ["03", "15", "43", "63"] }, { name: "MSA Beauce Cœur de Loire", deps: ["18", "28", "45"] },
  { name: "MSA Berry-Touraine", deps: ["36", "37", "41"] }, { name: "MSA Bourgogne", deps: ["21", "58", "71", "89"] },
  { name: "MSA des Charentes", deps: ["16", "17"] }, { name: "MSA de la Corse", deps: ["2A", "2B"] },
  { name: "MSA Côtes Normandes", deps: ["14", "50"] }, { name: "MSA d'Île-de-France", deps: ["75", "77", "78", "91", "92", "93", "94", "95"] },
  { name: "MSA Dordogne Lot-et-Garonne", deps: ["24", "47"] }, { name: "MSA de Franche-Comté", deps: ["25", "39", "70", "90"] },
  { name: "MSA de la Gironde", deps: ["33"] }, { name: "MSA Grand Sud", deps: ["11", "66"] },
  { name: "MSA Haute-Normandie", deps: ["27", "76"] }, { name: "MSA du Languedoc", deps: ["30", "34", "48"] },
  { name: "MSA du Limousin", deps: ["19", "23", "87"] }, { name: "MSA Loire-Atlantique Vendée", deps: ["44", "85"] },
  { name: "MSA de Lorraine", deps: ["54", "55", "57", "88"] }, { name: "MSA Maine-et-Loire", deps: ["49"] },
  { name: "MSA Marne Ardennes Meuse", deps: ["08", "51"] }, { name: "MSA Mayenne Orne Sarthe", deps: ["53", "61", "72"] },
  { name: "MSA Midi-Pyrénées Nord", deps: ["12", "46", "81", "82"] }, { name: "MSA Midi-Pyrénées Sud", deps: ["09", "31", "32", "65"] },
  { name: "MSA Nord-Pas de Calais", deps: ["59", "62"] }, { name: "MSA de Picardie", deps: ["02", "60", "80"] },
  { name: "MSA Poitou", deps: ["79", "86"] }, { name: "MSA Portes de Bretagne", deps: ["35", "56"] },
  { name: "MSA Provence Azur", deps: ["06", "13", "83"] }, { name: "MSA Sud Aquitaine", deps: ["40", "64"] },
  { name: "MSA Sud Champagne", deps: ["10", "52"] }, { name: "MSA d'Alsace", deps: ["67", "68"] },
  { name: "Caisse générale de sécurité sociale - MSA Antilles-Guyane", deps: ["971", "972", "973"] },
  { name: "Caisse générale de sécurité sociale de La Réunion - MSA", deps: ["974", "976"] },
];

/** Most frequent French surnames, roughly in order (the first ones get more people), a few with accents. */
export const LAST_NAMES = `MARTIN BERNARD THOMAS PETIT ROBERT RICHARD DURAND DUBOIS MOREAU LAURENT SIMON MICHEL LEFEBVRE LEROY ROUX
DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT FONTAINE ROUSSEAU VINCENT MULLER LEFÈVRE FAURE ANDRÉ MERCIER
BLANC GUÉRIN BOYER GARNIER CHEVALIER FRANÇOIS LEGRAND GAUTHIER GARCIA PERRIN ROBIN CLÉMENT MORIN NICOLAS HENRY ROUSSEL
MATHIEU GAUTIER MASSON MARCHAND DUVAL DENIS DUMONT MARIE LEMAIRE NOËL MEYER DUFOUR MEUNIER BRUN BLANCHARD GIRAUD JOLY
RIVIÈRE LUCAS BRUNET GAILLARD BARBIER ARNAUD MARTINEZ GÉRARD ROCHE RENARD SCHMITT ROY LEROUX COLIN VIDAL CARON PICARD
ROGER FABRE AUBERT LEMOINE RENAUD DUMAS LACROIX OLIVIER PHILIPPE BOURGEOIS PIERRE BENOÎT REY LECLERC PAYET ROLLAND
LECLERCQ GUILLAUME LECOMTE LOPEZ JEAN DUPUY GUILLOT HUBERT BERGER CARPENTIER SANCHEZ DUPUIS MOULIN LOUIS DESCHAMPS HUET
VASSEUR PEREZ BOUCHER FLEURY ROYER KLEIN JACQUET ADAM PARIS POIRIER MARTY AUBRY GUYOT CARRÉ CHARLES RENAULT CHARPENTIER
MÉNARD MAILLARD BARON BERTIN BAILLY HERVÉ SCHNEIDER FERNANDEZ LE_GALL COLLET LÉGER BOUVIER JULIEN PRÉVOST MILLET PERROT
DANIEL LE_ROUX COUSIN GERMAIN BRETON BESSON LANGLOIS RÉMY LE_GOFF PELLETIER LÉVÊQUE PERRIER LEBLANC BARRÉ LEBRUN MARCHAL
WEBER MALLET HAMON BOULANGER JACOB MONNIER MICHAUD RODRIGUEZ GUICHARD GILLET ÉTIENNE GRONDIN POULAIN TESSIER CHEVALLIER
COLLIN CHAUVIN DA_SILVA BOUCHET GAY LEMAÎTRE BÉNARD MARÉCHAL HUMBERT REYNAUD ANTOINE HOARAU PERRET BARTHÉLEMY CORDIER
PICHON LEJEUNE GILBERT LAMY DELAUNAY PASQUIER CARLIER LAPORTE NGUYEN BENALI HADDAD DIALLO TRAORÉ OUEDRAOGO SOLANA_Y_FUENTES`
  .split(/\s+/).filter(Boolean).map((n) => n.replace(/_/g, " "));

export const FIRST_NAMES_F = `Marie Nathalie Isabelle Sylvie Catherine Sophie Christine Anne Valérie Sandrine Céline Julie Aurélie Émilie
Camille Léa Manon Chloé Inès Sarah Emma Jade Louise Alice Lina Zoé Anaïs Gaëlle Hélène Cécile Élodie Mélanie Laure Agnès
Brigitte Françoise Monique Jacqueline Martine Danielle Nicole Odile Maëlys Clémence Margaux Pauline Justine Océane Noémie`
  .split(/\s+/).filter(Boolean);

export const FIRST_NAMES_M = `Jean Pierre Michel Philippe Alain Nicolas Christophe Patrick Daniel Frédéric Laurent Stéphane Éric David
Julien Thomas Sébastien Jérôme Olivier François Bernard Thierry Pascal Guillaume Antoine Maxime Hugo Lucas Louis Gabriel
Raphaël Arthur Léo Nathan Noé Benoît Loïc Hervé Gérard Yves André René Mathieu Romain Clément Adrien Théo Karim Mehdi`
  .split(/\s+/).filter(Boolean);

export const STREETS = [
  "rue de la République", "avenue Jean Jaurès", "boulevard Pasteur", "rue Victor Hugo", "place de la Mairie", "rue des Écoles",
  "avenue du Général de Gaulle", "rue Nationale", "rue du Moulin", "chemin des Vignes", "rue de la Gare", "allée des Tilleuls",
  "boulevard de la Liberté", "rue Émile Zola", "avenue Foch", "rue Gambetta", "rue du Docteur Roux", "quai des Brumes",
];

export const CENTRE_NAMES = [
  "LES TILLEULS", "PASTEUR", "JEAN JAURES", "DU PARC", "MUNICIPAL", "DES LILAS", "SAINT MICHEL", "LOUISE MICHEL", "DU CENTRE",
  "MEDICAL ET DENTAIRE", "DE LA GARE", "SIMONE VEIL", "MARIE CURIE", "DES QUATRE CHEMINS", "LES CHENES", "VOLTAIRE",
];
export const ETABLISSEMENT_KINDS = ["CLINIQUE", "POLYCLINIQUE", "CENTRE HOSPITALIER", "HOPITAL PRIVE", "CENTRE DE READAPTATION"];
export const ETABLISSEMENT_NAMES = [
  "DU PARC", "SAINT JOSEPH", "DES CEDRES", "DU LITTORAL", "SAINTE ANNE", "DU VAL", "LES PEUPLIERS", "DE L'EUROPE", "SAINT MARTIN",
  "DES FLEURS", "DU PONT", "JEANNE D'ARC", "BELLEVUE", "DES ALPES", "DU LAC", "SAINT GEORGES",
];

export const SUBJECTS = [
  "Arrêt de travail - prolongation", "Arrêt de travail durée maxi", "ALD - demande d'info critères HAS", "Protocole de soins ALD",
  "Demande d'entente préalable", "Chirurgie bariatrique - entente préalable", "Reprise à temps partiel thérapeutique",
  "Accident du travail - consolidation", "Maladie professionnelle - reconnaissance", "Transport sanitaire", "Invalidité - demande d'avis",
  "Soins à l'étranger", "Cure thermale", "Médicament hors AMM", "Rendez-vous pour échange confraternel", "Complément d'information",
  "Compte rendu d'hospitalisation", "Kinésithérapie - nombre de séances", "Dispositif médical - prise en charge", "Avis sapiteur",
  "Mi-temps thérapeutique", "Contrôle arrêt de travail", "Rechute d'accident du travail", "Pension d'invalidité catégorie 2",
  "Questionnaire pré-opératoire", "Demande de scanner", "Prise en charge IRM", "Séjour en SSR", "Affection de longue durée - renouvellement",
  "Soins dentaires - entente préalable",
];

export const PS_OPENINGS = ["Bonjour,", "Bonjour Docteur,", "Madame, Monsieur,", "Cher confrère,"];
export const PS_SENTENCES = [
  "Je me permets de vous solliciter au sujet de mon patient.",
  "Pouvez-vous me confirmer la prise en charge en ALD de ce patient ?",
  "Je vous transmets ci-joint le compte rendu d'hospitalisation.",
  "Le patient présente une lombalgie chronique nécessitant une prolongation de l'arrêt de travail.",
  "Quelle est la durée d'arrêt de travail recommandée dans cette situation ?",
  "Je sollicite votre avis concernant une demande d'entente préalable.",
  "Merci de me tenir informé de la décision du service médical.",
  "Le protocole de soins a été mis à jour à la suite de la dernière consultation.",
  "Une reprise à temps partiel thérapeutique me semble indiquée à compter du mois prochain.",
  "L'état de santé de ma patiente ne permet pas une reprise du travail à ce jour.",
  "Le bilan biologique est joint à ce message.",
  "Je vous remercie de bien vouloir réexaminer ce dossier.",
  "Le spécialiste consulté recommande une poursuite des soins de kinésithérapie.",
  "Je reste à votre disposition pour un échange confraternel.",
];
export const PS_CLOSINGS = ["Bien confraternellement.", "Cordialement.", "Bien à vous.", "Merci par avance."];
export const ELSM_OPENINGS = ["Bonjour Docteur,", "Cher confrère,", "Bonjour,"];
export const ELSM_SENTENCES = [
  "Nous accusons réception de votre demande.",
  "Après étude du dossier, le médecin conseil émet un avis favorable.",
  "Pouvez-vous nous adresser le dernier compte rendu de consultation spécialisée ?",
  "La durée indicative d'arrêt pour cette pathologie est de 14 jours pour un emploi sédentaire.",
  "Un rendez-vous de contrôle va être proposé à votre patient.",
  "Le dossier sera examiné lors de la prochaine commission.",
  "La prise en charge au titre de l'affection de longue durée est accordée pour cinq ans.",
  "Les critères retenus par la HAS ne sont pas réunis à ce stade.",
  "Nous restons à votre disposition pour tout complément.",
  "Merci de compléter le questionnaire joint et de nous le retourner.",
  "Votre patient sera convoqué dans les prochaines semaines.",
  "L'entente préalable est accordée.",
];
export const ELSM_CLOSINGS = ["Cordialement,\nLe service médical", "Bien confraternellement,\nLe médecin conseil", "Cordialement,\nÉchelon local du service médical"];

/** [original name, extension, MIME type] of attachment metadata. */
export const ATTACHMENT_NAMES: [string, string, string][] = [
  ["compte-rendu-hospitalisation", "pdf", "application/pdf"], ["bilan-biologique", "pdf", "application/pdf"],
  ["certificat-medical", "pdf", "application/pdf"], ["IRM lombaire", "pdf", "application/pdf"],
  ["ordonnance", "jpg", "image/jpeg"], ["radio thorax", "png", "image/png"], ["courrier specialiste", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
  ["protocole de soins", "pdf", "application/pdf"], ["questionnaire", "doc", "application/msword"],
  ["suivi glycémies", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"], ["scanner", "pdf", "application/pdf"],
];
