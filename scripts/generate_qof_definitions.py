"""Generate the QOF service definitions (participation/service_definitions/qof-*.yaml).

Developer tool, not used by the app at run time. It reads NHS Digital's public QOF metadata
(INDICATOR_REFERENCE_CONTROL.csv for codes, groups, domains, sub-domains, points, register and
prevalence flags, entry; INDICATOR_VALUES.csv for the register FIELD_NAMEs) and adds what those
files do not hold: indicator names, thresholds and national prevalences, kept in the tables below.
A value not found in published material is written with a trailing ``# estimated`` comment.

    .venv/bin/python scripts/generate_qof_definitions.py [--reference DIR] [--out DIR]

--reference is a copy of NHS Digital's public QOF metadata (the ``public_metadata`` files of its
QOF publication), optional input the repository does not ship: the default looks for it in
``../shared/reference/nhsd-qof-2023-24`` beside the project.  --out defaults to
participation/service_definitions.  The payment rules the definitions feed are in
docs/payment-rules.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference" / "nhsd-qof-2023-24"
DEFAULT_OUT = ROOT / "participation" / "service_definitions"

DOMAIN_NAMES = {"CL": "Clinical", "PH": "Public Health", "QI": "Quality Improvement"}
DOMAIN_ORDER = ("CL", "PH", "QI")


@dataclass(frozen=True)
class Year:
    code: str
    name: str
    financial_year: str
    value_per_point: str
    average_list_size: int
    file_name: str


YEARS = (
    Year("QOF2324", "Quality and Outcomes Framework 2023/24", "2023/24", "213.43", 9639, "qof-2023-24.yaml"),
    Year("QOF2425", "Quality and Outcomes Framework 2024/25", "2024/25", "220.62", 9964, "qof-2024-25.yaml"),
)

# Income protection and aspiration (issue 13; ../shared/reference/qof-payment-parameters.md): the
# service-level keys each year carries, and the indicators paid at their points in the year named by
# protected_from (the reference CSV's INCOME_PROTECTED_2425 = Y: 32 indicators, 212 points).
SERVICE_KEYS: dict[str, tuple[str, ...]] = {
    "QOF2324": ("aspiration: {percent: 70, from: QOF2223}   # 70% of 2022/23's achievement payment",),
    "QOF2425": (
        "protected_from: QOF2324              # income-protected indicators keep their 2023/24 points",
        "aspiration: {percent: 80, from: QOF2324}   # 80% of 2023/24's achievement payment",
    ),
}
INCOME_PROTECTED: dict[str, frozenset[str]] = {
    "QOF2425": frozenset(
        "AF001 AST005 AST008 CAN001 CAN004 CAN005 CHD001 CKD005 COPD014 COPD015 DEM001 DEP004 DM017 EP001 "
        "HF001 HYP001 LD004 MH001 MH021 OB003 OST004 PAD001 PC001 QI013 QI014 QI016 QI017 QI018 QI019 "
        "RA001 SMOK005 STIA001".split()
    ),
}

# Short descriptions of the indicators (QOF guidance wording, abridged). A year-specific entry
# (code, financial_year) wins over the plain code.
NAMES: dict[str | tuple[str, str], str] = {
    "AF001": "Register of patients with atrial fibrillation",
    "AF006": "AF: CHA2DS2-VASc score recorded in the preceding 12 months (unless previously 2 or more)",
    "AF008": "AF with CHA2DS2-VASc score of 2 or more: currently treated with anticoagulation drug therapy",
    "AST005": "Register of patients with asthma aged 6 or over (excluding no asthma-related drugs in 12 months)",
    "AST007": "Asthma: review in the preceding 12 months with a validated control questionnaire, "
    "exacerbations and a written personalised action plan",
    "AST008": "Asthma aged 19 or under: personal smoking status or exposure to second-hand smoke recorded "
    "in the preceding 12 months",
    "AST011": "New asthma diagnosis: objective test (FeNO, reversibility or variability) recorded "
    "3 months before to 3 months after diagnosis",
    "BP002": "Patients aged 45 or over with a record of blood pressure in the preceding 5 years",
    "CAN001": "Register of patients with cancer (excluding non-melanotic skin cancers) diagnosed on or after "
    "1 April 2003",
    "CAN004": "Cancer diagnosed in the preceding 24 months: Cancer Care Review within 12 months of diagnosis",
    "CAN005": "Cancer diagnosed in the preceding 24 months: informed of the support available from primary "
    "care within 3 months of diagnosis",
    "CHD001": "Register of patients with coronary heart disease",
    "CHD005": "CHD: aspirin, an alternative anti-platelet therapy or an anti-coagulant is being taken",
    "CHD015": "CHD aged 79 or under: last blood pressure (preceding 12 months) 140/90 mmHg or less",
    "CHD016": "CHD aged 80 or over: last blood pressure (preceding 12 months) 150/90 mmHg or less",
    "CHOL001": "CHD, PAD, stroke/TIA or CKD G3a-G5: currently prescribed a statin, or another lipid-lowering "
    "therapy where a statin is declined or unsuitable",
    ("CHOL002", "2023/24"): "CHD, PAD or stroke/TIA: last LDL cholesterol 1.8 mmol/l or less, or non-HDL "
    "cholesterol 2.5 mmol/l or less (preceding 12 months)",
    ("CHOL002", "2024/25"): "CHD, PAD or stroke/TIA: last LDL cholesterol 2.0 mmol/l or less, or non-HDL "
    "cholesterol 2.6 mmol/l or less (preceding 12 months)",
    "CKD005": "Register of patients aged 18 or over with CKD categories G3a to G5",
    "COPD010": "COPD: review in the preceding 12 months including breathlessness on the MRC dyspnoea scale",
    "COPD014": "COPD with MRC dyspnoea grade 3 or more: offered referral to pulmonary rehabilitation",
    "COPD015": "Register of patients with COPD (diagnosed from 1 April 2023: confirmed by post-bronchodilator "
    "spirometry)",
    "CS005": "Women aged 25 to 49: adequate cervical screening test in the preceding 3 years 6 months",
    "CS006": "Women aged 50 to 64: adequate cervical screening test in the preceding 5 years 6 months",
    "DEM001": "Register of patients diagnosed with dementia",
    "DEM004": "Dementia: care plan reviewed in a face-to-face review in the preceding 12 months",
    "DEP004": "New diagnosis of depression (aged 18 or over): reviewed 10 to 56 days after diagnosis",
    "DM006": "Diabetes with nephropathy or micro-albuminuria: currently treated with an ACE-I or ARB",
    "DM012": "Diabetes: foot examination and risk classification in the preceding 12 months",
    "DM014": "Newly diagnosed diabetes: referred to a structured education programme within 9 months",
    "DM017": "Register of patients aged 17 or over with diabetes mellitus, specifying type 1 or type 2",
    "DM020": "Diabetes without moderate or severe frailty: last IFCC-HbA1c 58 mmol/mol or less",
    "DM021": "Diabetes with moderate or severe frailty: last IFCC-HbA1c 75 mmol/mol or less",
    "DM022": "Diabetes aged 40 or over, no history of CVD, without moderate or severe frailty: treated with "
    "a statin",
    "DM023": "Diabetes with a history of CVD (excluding haemorrhagic stroke): treated with a statin",
    "DM033": "Diabetes without moderate or severe frailty: last blood pressure (preceding 12 months) at or "
    "below target",
    "EP001": "Register of patients aged 18 or over receiving drug treatment for epilepsy",
    "HF001": "Register of patients with heart failure",
    "HF003": "Heart failure with reduced ejection fraction: currently treated with an ACE-I or ARB",
    "HF006": "Heart failure with reduced ejection fraction: currently treated with a beta-blocker",
    "HF007": "Heart failure: review in the preceding 12 months including functional capacity and medication",
    "HF008": "Heart failure diagnosed from 1 April 2023: confirmed by echocardiogram or specialist assessment",
    "HYP001": "Register of patients with established hypertension",
    "HYP008": "Hypertension aged 79 or under: last blood pressure (preceding 12 months) 140/90 mmHg or less",
    "HYP009": "Hypertension aged 80 or over: last blood pressure (preceding 12 months) 150/90 mmHg or less",
    "LD004": "Register of patients with learning disabilities",
    "MH001": "Register of patients with schizophrenia, bipolar affective disorder and other psychoses, "
    "and other patients on lithium therapy",
    "MH002": "Severe mental illness: comprehensive care plan agreed in the preceding 12 months",
    "MH003": "Severe mental illness: blood pressure recorded in the preceding 12 months",
    "MH006": "Severe mental illness: BMI recorded in the preceding 12 months",
    "MH007": "Severe mental illness: alcohol consumption recorded in the preceding 12 months",
    "MH011": "Severe mental illness: lipid profile recorded in the preceding 12 months",
    "MH012": "Severe mental illness: blood glucose or HbA1c recorded in the preceding 12 months",
    "MH021": "Severe mental illness: physical health check recorded in the preceding 12 months",
    "NDH002": "Non-diabetic hyperglycaemia: HbA1c or fasting blood glucose in the preceding 12 months",
    "OB003": "Register of patients aged 18 or over with a BMI of 30 or more (27.5 or more for some ethnic "
    "groups) in the preceding 12 months",
    "OST004": "Register of patients aged 50 or over with a fragility fracture and a diagnosis of osteoporosis",
    "PAD001": "Register of patients with peripheral arterial disease",
    "PC001": "Register of patients in need of palliative care or support, irrespective of age",
    "QI013": "Workforce and wellbeing: quality improvement activity (self-evaluation, plan and review)",
    "QI014": "Workforce and wellbeing: participation in network peer review meetings",
    "QI016": "Optimising demand and capacity: analysis of staff capacity and appointment data",
    "QI017": "Optimising demand and capacity: changes implemented to optimise staff capacity",
    "QI018": "Optimising demand and capacity: participation in network peer review meetings",
    "QI019": "Optimising demand and capacity: changes implemented to reduce avoidable appointments",
    "RA001": "Register of patients aged 16 or over with rheumatoid arthritis",
    "SMOK002": "Patients with long-term conditions: smoking status recorded in the preceding 12 months",
    "SMOK004": "Current smokers aged 15 or over: offer of support and treatment in the preceding 24 months",
    "SMOK005": "Smokers with long-term conditions: offer of support and treatment in the preceding 12 months",
    "STIA001": "Register of patients with stroke or transient ischaemic attack (TIA)",
    "STIA007": "Non-haemorrhagic stroke or TIA: an anti-platelet agent or an anti-coagulant is being taken",
    "STIA014": "Stroke or TIA aged 79 or under: last blood pressure (preceding 12 months) 140/90 mmHg or less",
    "STIA015": "Stroke or TIA aged 80 or over: last blood pressure (preceding 12 months) 150/90 mmHg or less",
    "VI001": "Babies reaching 8 months: 3 doses of a diphtheria, tetanus and pertussis containing vaccine "
    "before 8 months",
    "VI002": "Children reaching 18 months: at least 1 dose of MMR between 12 and 18 months",
    "VI003": "Children reaching 5 years: DTaP/IPV booster and 2 doses of MMR between 1 and 5 years",
    "VI004": "Patients reaching 80 years: shingles vaccine between the ages of 70 and 79",
}

# Thresholds (lower, upper, sourced). sourced=False writes "# estimated".
# Sourced: VI001 89-96% (Management in Practice, "Boosting QOF income: vaccination and
# immunisations", Oct 2023; docs/payment-rules.md); CHOL001 upper 95% (Management in Practice,
# "QOF 2023/24: what practices need to consider", Jun 2023) - its lower threshold is estimated.
THRESHOLDS: dict[str, tuple[int, int, str | None]] = {
    "AF006": (40, 90, None),
    "AF008": (70, 95, None),
    "AST007": (45, 70, None),
    "AST008": (45, 80, None),
    "AST011": (45, 80, None),
    "BP002": (50, 90, None),
    "CAN004": (50, 90, None),
    "CAN005": (70, 80, None),
    "CHD005": (56, 96, None),
    "CHD015": (52, 92, None),
    "CHD016": (72, 92, None),
    "CHOL001": (50, 95, "# estimated lower (upper 95% published)"),
    "CHOL002": (20, 35, None),
    "COPD010": (50, 90, None),
    "COPD014": (40, 90, None),
    "CS005": (45, 80, None),
    "CS006": (45, 80, None),
    "DEM004": (35, 70, None),
    "DEP004": (45, 80, None),
    "DM006": (57, 97, None),
    "DM012": (50, 90, None),
    "DM014": (40, 90, None),
    "DM020": (35, 75, None),
    "DM021": (52, 92, None),
    "DM022": (50, 90, None),
    "DM023": (50, 90, None),
    "DM033": (38, 78, None),
    "HF003": (60, 92, None),
    "HF006": (60, 92, None),
    "HF007": (50, 90, None),
    "HF008": (50, 90, None),
    "HYP008": (40, 77, None),
    "HYP009": (63, 93, None),
    "MH002": (40, 90, None),
    "MH003": (50, 90, None),
    "MH006": (50, 90, None),
    "MH007": (50, 90, None),
    "MH011": (50, 90, None),
    "MH012": (50, 90, None),
    "MH021": (50, 90, None),
    "NDH002": (50, 90, None),
    "SMOK002": (50, 90, None),
    "SMOK004": (40, 90, None),
    "SMOK005": (56, 96, None),
    "STIA007": (57, 97, None),
    "STIA014": (42, 82, None),
    "STIA015": (57, 97, None),
    "VI001": (89, 96, ""),  # published
    "VI002": (86, 91, None),
    "VI003": (80, 87, None),
    "VI004": (50, 60, None),
}

# National prevalence per prevalence-weighted group, as register / total registered list (the
# engine's APDF compares a practice's register / list size with it). All estimated from the
# recorded prevalences NHS Digital publishes (some over age-specific lists, rescaled to the whole
# list); none is an official APDF figure.
PREVALENCES: dict[str, str] = {
    "AF": "0.0219",
    "AST": "0.0650",
    "CAN": "0.0370",
    "CHD": "0.0300",
    "CKD": "0.0350",
    "COPD": "0.0190",
    "DEM": "0.0080",
    "DEP": "0.1040",
    "DM": "0.0610",
    "EP": "0.0065",
    "HF": "0.0110",
    "HYP": "0.1480",
    "LD": "0.0060",
    "MH": "0.0100",
    "NDH": "0.0620",
    "OB": "0.1000",
    "OST": "0.0035",
    "PAD": "0.0060",
    "PC": "0.0050",
    "RA": "0.0065",
    "STIA": "0.0190",
}


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    dates, year, month = [], first.year, first.month
    while True:
        following = dt.date(year + (month == 12), month % 12 + 1, 1)
        end = following - dt.timedelta(days=1)
        if end > last:
            return dates
        dates.append(end)
        year, month = following.year, following.month


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_reference(reference: Path) -> tuple[list[dict], dict[str, list[str]]]:
    with (reference / "INDICATOR_REFERENCE_CONTROL.csv").open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    fields: dict[str, list[str]] = {}
    with (reference / "INDICATOR_VALUES.csv").open(newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            fields.setdefault(row["IND_CODE"], []).append(row["FIELD_NAME"])
    return rows, fields


def register_field(code: str, fields: dict[str, list[str]]) -> str:
    candidates = [f for f in fields.get(code, []) if "register" in f.lower()]
    if len(candidates) != 1:
        raise SystemExit(
            f"{code}: expected one register FIELD_NAME in INDICATOR_VALUES.csv, got {candidates}"
        )
    return candidates[0]


def render(year: Year, rows: list[dict], fields: dict[str, list[str]]) -> str:
    start = dt.date(int(year.financial_year[:4]), 4, 1)
    end = dt.date(start.year + 1, 3, 31)
    out = [
        f"# {year.name}: generated by scripts/generate_qof_definitions.py from NHS Digital's public QOF",
        "# metadata (INDICATOR_REFERENCE_CONTROL.csv: codes, groups, points, flags; INDICATOR_VALUES.csv:",
        "# register FIELD_NAMEs). Values marked `# estimated` were not found in published material.",
        "# national_prevalence = national register / national registered list (whole list, all ages).",
        "# Register indicators carry their group's register; DEP004 and NDH002 are paid on",
        "# Numerator/Denominator and carry their group's register field (REGISTER_FLAG=1 in the CSV).",
        f"code: {year.code}",
        f"name: {year.name}",
        "payment_type: QOF",
        "payment_frequency: Annual",
        f"financial_year: {year.financial_year}",
        "provider_level: practice",
        "no_declaration_required: false",
        "no_approval_required: false",
        "payment:",
        f'  value_per_point: "{year.value_per_point}"',
        f"  average_list_size: {year.average_list_size}",
        *SERVICE_KEYS.get(year.code, ()),
        "achievement_dates:                # monthly; 31 March is the payment date",
    ]
    for date in month_ends(start, end):
        out.append(f"  - {{date: {date.isoformat()}, payment: {'true' if date == end else 'false'}}}")
    out.append("domains:")
    for domain in DOMAIN_ORDER:
        out += [f"  - code: {domain}", f"    name: {DOMAIN_NAMES[domain]}", "    groups:"]
        groups: dict[str, list[dict]] = {}
        for row in rows:
            if row["DOMAIN_CODE"] == domain:
                groups.setdefault(row["GROUP_CODE"], []).append(row)
        for group_code, members in groups.items():
            first = members[0]
            weighted = domain != "QI" and not first["NO_PREVALENCE_FLAG"].strip()
            out += [
                f"      - code: {group_code}",
                f"        name: {quote(first['GROUP_DESCRIPTION'].strip())}",
            ]
            if first["SUB_DOMAIN_CODE"] != first["DOMAIN_CODE"]:
                out.append(f"        sub_domain: {quote(first['SUB_DOMAIN_DESCRIPTION'].strip())}")
            if weighted:
                out.append(f'        national_prevalence: "{PREVALENCES[group_code]}"   # estimated')
            out.append("        indicators:")
            for row in members:
                out.append("          - " + render_indicator(row, year, fields))
    return "\n".join(out) + "\n"


def render_indicator(row: dict, year: Year, fields: dict[str, list[str]]) -> str:
    code = row["INDICATOR_CODE"]
    name = NAMES.get((code, year.financial_year)) or NAMES[code]
    points = int(row["INDICATOR_POINT_VALUE"])
    is_register = row["REGISTER_FLAG"].strip() == "1"
    manual = row["AUTOMATIC_MANUAL_ENTRY"].strip() == "M"
    parts = [f"code: {code}", f"name: {quote(name)}"]
    comment = ""
    if manual:
        parts += ["kind: yes_no", f"points: {points}", "entry: manual"]
    elif is_register and code not in THRESHOLDS:
        parts += [
            "kind: register",
            f"points: {points}",
            f"register_field: {quote(register_field(code, fields))}",
        ]
    else:
        lower, upper, note = THRESHOLDS[code]
        parts += ["kind: fraction", f"points: {points}", f"lower: {lower}", f"upper: {upper}"]
        if is_register:  # the group's register arrives with this fraction (DEP004, NDH002)
            parts.append(f"register_field: {quote(register_field(code, fields))}")
        comment = "   # estimated" if note is None else (f"   {note}" if note else "")
    if code in INCOME_PROTECTED.get(year.code, ()):
        parts.append("income_protected: true")
    return "{" + ", ".join(parts) + "}" + comment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    rows, fields = read_reference(args.reference)
    args.out.mkdir(parents=True, exist_ok=True)
    for year in YEARS:
        path = args.out / year.file_name
        path.write_text(render(year, rows, fields), encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
