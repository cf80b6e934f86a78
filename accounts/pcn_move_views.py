"""A practice's page: Record a PCN move (a commissioner; docs/adr/0020-pcn-membership-over-time.md)."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import FormView

from . import pcn_membership, selectors
from .errors import NotAllowed
from .fields import DateInputField
from .inputs import id_or_none
from .mixins import DomainErrorsMixin

NO_PCN = "none"


class PcnMoveForm(forms.Form):
    pcn = forms.ChoiceField(
        label="Primary Care Network from the date",
        error_messages={"required": "Select the PCN the practice is in from the date, or No PCN"},
    )
    effective = DateInputField(label="Date of the move", help_text="The first day in the new PCN. For example, 1 4 2025")

    def __init__(self, *args, pcns, current_pcn_id: int | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pcn"].choices = [("", "Select a PCN"), (NO_PCN, "No PCN (the practice leaves its PCN)")] + [
            (str(pcn.pk), f"{pcn.name} ({pcn.ods_code})") for pcn in pcns if pcn.pk != current_pcn_id
        ]
        self.fields["effective"].max_value = timezone.localdate()  # the PCN of today is Organisation.pcn
        self.helper = FormHelper()
        self.helper.add_input(Submit("record", "Record move"))

    def clean_pcn(self) -> int | None:
        value = self.cleaned_data["pcn"]
        return None if value == NO_PCN else id_or_none(value)


class RecordPcnMoveView(DomainErrorsMixin, FormView):
    """Record a PCN move: the practice joins, leaves or changes PCN from a date.  Only the
    practice's Commissioning Organisation (Commissioning Management); anyone else is refused
    (404 for a practice they cannot see, 403 otherwise)."""

    template_name = "accounts/practice_pcn_move.html"
    form_class = PcnMoveForm

    def dispatch(self, request, *args, **kwargs):
        self.practice = selectors.organisation_get(user=request.user, ods_code=kwargs["ods_code"])
        if not pcn_membership.can_move_practice(request.user, self.practice):
            raise NotAllowed("Only the practice's Commissioning Organisation can record a PCN move.")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["pcns"] = pcn_membership.move_pcn_choices(user=self.request.user, practice=self.practice)
        kwargs["current_pcn_id"] = self.practice.pcn_id
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["organisation"] = self.practice
        context["memberships"] = pcn_membership.practice_memberships(practice=self.practice)
        return context

    def form_valid(self, form):
        move = pcn_membership.practice_pcn_move(
            user=self.request.user,
            practice_id=self.practice.pk,
            pcn_id=form.cleaned_data["pcn"],
            effective=form.cleaned_data["effective"],
        )
        moved = "left its PCN" if move.to_pcn_id is None else "moved PCN"
        messages.success(
            self.request,
            f"{self.practice.name} {moved} from {move.effective:%d/%m/%Y}. The Network Contract DES achievement "
            "of the PCNs concerned is being aggregated again and their payments recalculated.",
        )
        return redirect(reverse("organisation_detail", args=[self.practice.ods_code]))
