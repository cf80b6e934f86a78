"""Transition records keep their amounts as data: ``previous_amount`` and ``detail`` (a
recalculation's reason and £ per indicator before and after), and the note is words only.

Existing records whose note quotes amounts (a recalculation's, written before this migration) are
rewritten: the amounts move to the new fields, the note keeps the words.  Reversible.
"""

import re
from decimal import Decimal

import django.core.serializers.json
from django.db import migrations, models

_POUNDS = r"-?£[\d,]+\.\d{2}"
_START = "Recalculated after the achievement data changed"
_LEGACY = {
    "sent_back": re.compile(
        rf"^{_START}: the payment is now ({_POUNDS}), not the ({_POUNDS}) declared(?: \((.*)\))?\. "
        r"It must be declared again\.$",
        re.S,
    ),
    "recalculated": re.compile(rf"^{_START}: the payment is now ({_POUNDS}), was ({_POUNDS})(?: \((.*)\))?\.$", re.S),
}
_CHANGE = re.compile(rf"^(.+) ({_POUNDS}) -> ({_POUNDS})$")
_NOTES = {"recalculated": f"{_START}.", "sent_back": f"{_START}. It must be declared again."}


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace("£", "").replace(",", ""))


def _pounds(value: Decimal) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.2f}"


def amounts_to_data(apps, schema_editor):
    DeclarationTransition = apps.get_model("declarations", "DeclarationTransition")
    for record in DeclarationTransition.objects.filter(note__startswith=_START).iterator():
        for reason, pattern in _LEGACY.items():
            found = pattern.match(record.note)
            if found is None:
                continue
            changes, listed = [], found.group(3)
            for change in listed.split("; ") if listed else []:
                part = _CHANGE.match(change)
                if part is not None:
                    changes.append([part.group(1), str(_decimal(part.group(2))), str(_decimal(part.group(3)))])
            DeclarationTransition.objects.filter(pk=record.pk).update(
                amount=_decimal(found.group(1)),
                previous_amount=_decimal(found.group(2)),
                detail={"reason": reason, "changes": changes},
                note=_NOTES[reason],
            )
            break


def amounts_to_text(apps, schema_editor):
    DeclarationTransition = apps.get_model("declarations", "DeclarationTransition")
    for record in DeclarationTransition.objects.filter(detail__has_key="reason").iterator():
        reason = record.detail["reason"]
        listed = "; ".join(
            f"{code} {_pounds(Decimal(was))} -> {_pounds(Decimal(now))}" for code, was, now in record.detail["changes"]
        )
        listed = f" ({listed})" if listed else ""
        now, before = _pounds(record.amount), _pounds(record.previous_amount)
        if reason == "sent_back":
            note = f"{_START}: the payment is now {now}, not the {before} declared{listed}. It must be declared again."
        else:
            note = f"{_START}: the payment is now {now}, was {before}{listed}."
        DeclarationTransition.objects.filter(pk=record.pk).update(note=note)


class Migration(migrations.Migration):

    dependencies = [
        ("declarations", "0004_data_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="declarationtransition",
            name="previous_amount",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=12, null=True),
        ),
        migrations.AddField(
            model_name="declarationtransition",
            name="detail",
            field=models.JSONField(
                blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder
            ),
        ),
        migrations.RunPython(amounts_to_data, amounts_to_text),
    ]
