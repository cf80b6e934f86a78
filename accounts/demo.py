"""The demo world of `seed_demo`: real organisations (public ODS codes and names from NHS
Digital's mapping file) and the five demo users of docs/design.md ("Demo logins")."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from .models import ListSize, Membership, Organisation, OrganisationKind, Role, User

DEMO_PASSWORD = "cqrs-demo-2026"

NATIONAL = ("X24", "NHS England")  # the National Administrator's organisation (issue 13)
REGION = ("Y63", "North East and Yorkshire")
ICB = ("QHM", "NHS North East and North Cumbria Integrated Care Board")
SUB_ICB = ("16C", "NHS North East and North Cumbria ICB - 16C")
PCNS = [("U89141", "Stockton PCN"), ("U07032", "North Stockton PCN")]
# (ODS code, name, PCN index, registered list size)
PRACTICES = [
    ("A81001", "The Densham Surgery", 0, 4312),
    ("A81017", "Woodbridge Practice", 0, 12480),
    ("A81025", "The Dovecot Surgery", 0, 8921),
    ("A81002", "Queens Park Medical Centre", 1, 22054),
    ("A81006", "Tennant Street Medical Practice", 1, 15876),
    ("A81067", "Alma Medical Centre", 1, 6245),
]
LIST_SIZE_DATES = [dt.date(2024, 1, 1), dt.date(2025, 1, 1)]

# email -> (full name, [(organisation key, role)]); keys: "icb", "practice", "pcn"
USERS = {
    "commissioner@demo.nhs.net": (
        "Chris Commissioner",
        [("icb", Role.COMMISSIONING_MANAGEMENT), ("icb", Role.APPROVAL_MANAGEMENT)],
    ),
    "finance@demo.nhs.net": ("Fran Finance", [("icb", Role.FINANCE_MANAGEMENT)]),
    "practice@demo.nhs.net": (
        "Pat Practice",
        [
            ("practice", Role.SERVICE_MANAGEMENT),
            ("practice", Role.ACHIEVEMENT_ENTRY),
            ("practice", Role.DECLARATION_MANAGEMENT),
        ],
    ),
    "pcnlead@demo.nhs.net": (
        "Priya PCN Lead",
        [("pcn", Role.DECLARATION_MANAGEMENT), ("pcn", Role.ACHIEVEMENT_ENTRY)],
    ),
    "admin@demo.nhs.net": ("Alex Administrator", [("icb", Role.USER_ADMINISTRATOR)]),
    "national@demo.nhs.net": ("Nia National", [("national", Role.NATIONAL_ADMINISTRATOR)]),
}


def _upsert(ods_code: str, name: str, kind: str, **links) -> Organisation:
    org, _ = Organisation.objects.update_or_create(
        ods_code=ods_code, defaults={"name": name, "kind": kind, **links}
    )
    return org


@transaction.atomic
def seed_organisations_and_users() -> dict:
    """Create (or bring back to the demo state) the organisations and users; returns the world."""
    national = _upsert(*NATIONAL, OrganisationKind.NATIONAL)
    region = _upsert(*REGION, OrganisationKind.REGION)
    icb = _upsert(*ICB, OrganisationKind.ICB, parent=region)
    sub_icb = _upsert(*SUB_ICB, OrganisationKind.SUB_ICB, parent=icb)
    pcns = [_upsert(code, name, OrganisationKind.PCN, commissioner=icb) for code, name in PCNS]
    practices = []
    for code, name, pcn_index, size in PRACTICES:
        practice = _upsert(
            code, name, OrganisationKind.PRACTICE, parent=sub_icb, pcn=pcns[pcn_index], commissioner=icb
        )
        for date in LIST_SIZE_DATES:
            ListSize.objects.update_or_create(organisation=practice, date=date, defaults={"size": size})
        practices.append(practice)
    for pcn in pcns:
        for date in LIST_SIZE_DATES:
            size = sum(s for _, _, i, s in PRACTICES if PCNS[i][0] == pcn.ods_code)
            ListSize.objects.update_or_create(organisation=pcn, date=date, defaults={"size": size})

    orgs = {"icb": icb, "practice": practices[0], "pcn": pcns[0], "national": national}
    users = {}
    for email, (full_name, holdings) in USERS.items():
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name)
        else:
            user.full_name = full_name
            user.is_active = True
            user.set_password(DEMO_PASSWORD)
            user.save()
        # The demo administrator also looks after extract loads (a staff screen).
        if email == "admin@demo.nhs.net" and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        for key, role in holdings:
            Membership.objects.get_or_create(user=user, organisation=orgs[key], role=role)
        users[email] = user
    return {
        "region": region,
        "icb": icb,
        "sub_icb": sub_icb,
        "pcns": pcns,
        "practices": practices,
        "users": users,
    }
