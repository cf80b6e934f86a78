"""The choosers of the insight screens: GET forms, shown with the chosen values.

The views read the query string themselves and the selectors refuse an id the user may not see
(404), so these forms only draw the drop-downs; their choices are the user's own.
"""

from __future__ import annotations

from django import forms


def _date_choice(achievement_date) -> tuple[int, str]:
    payment = " (payment date)" if achievement_date.is_payment_date else ""
    return achievement_date.pk, f"{achievement_date.service.name}: {achievement_date.date:%d/%m/%Y}{payment}"


class MoneyLostForm(forms.Form):
    commissioner = forms.ChoiceField(label="Commissioning Organisation")
    achievement_date = forms.ChoiceField(label="Quality Service and achievement date")

    def __init__(self, *, commissioners, dates, initial):
        super().__init__(initial=initial)
        self.fields["commissioner"].choices = [(c.pk, f"{c.name} ({c.ods_code})") for c in commissioners]
        self.fields["achievement_date"].choices = [_date_choice(d) for d in dates]
        if len(self.fields["commissioner"].choices) < 2:
            del self.fields["commissioner"]


class YearOnYearForm(forms.Form):
    provider = forms.ChoiceField(label="Service Provider")
    achievement_date = forms.ChoiceField(label="Quality Service and achievement date")

    def __init__(self, *, providers, dates, initial):
        super().__init__(initial=initial)
        self.fields["provider"].choices = [(p.pk, f"{p.name} ({p.ods_code})") for p in providers]
        self.fields["achievement_date"].choices = [_date_choice(d) for d in dates]
        if len(self.fields["provider"].choices) < 2:
            del self.fields["provider"]
