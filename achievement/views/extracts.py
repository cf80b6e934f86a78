"""Extract Loads (staff): upload a GPES extract and follow its load."""


from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import FormView, TemplateView

from accounts.errors import NotFound
from achievement import national, presenters, selectors, services
from achievement.forms import UploadExtractForm
from achievement.models import ExtractStatus

REFRESH_SECONDS = 3


class StaffOnlyMixin:
    """Extract Loads are for staff users; to anyone else the pages do not exist (404)."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_staff:
            raise NotFound
        return super().dispatch(request, *args, **kwargs)


class ListExtractLoadsView(StaffOnlyMixin, FormView):
    """Administrative Tasks > Extract Loads: upload a GPES extract, follow the loads."""

    template_name = "achievement/extract_loads.html"
    form_class = UploadExtractForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = [presenters.extract_load_row(e) for e in selectors.extract_load_list()[:50]]
        context["page_title"] = "Extract Loads"
        context["extract_rows"] = rows
        context["refresh_seconds"] = REFRESH_SECONDS if any(r.in_progress for r in rows) else None
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        extract = services.extract_receive(file=upload, file_name=upload.name, user=self.request.user)
        if not extract.newly_received:
            messages.info(
                self.request, f"This file was received before, as extract {extract.pk}: it is not loaded again."
            )
        else:
            messages.success(self.request, f"Extract {extract.pk} received: it is being loaded.")
        return redirect(reverse("achievement:extract_load", kwargs={"pk": extract.pk}))


class ShowExtractLoadView(StaffOnlyMixin, TemplateView):
    template_name = "achievement/extract_load.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        extract = selectors.extract_load_get(extract_id=self.kwargs["pk"])
        row = presenters.extract_load_row(extract)
        context["page_title"] = f"Extract {extract.pk}"
        context["row"] = row
        context["refresh_seconds"] = REFRESH_SECONDS if row.in_progress else None
        context["breadcrumbs"] = [("Extract Loads", reverse("achievement:extract_loads"))]
        # National figures already set which this extract's data change (issue 13): set them again.
        context["national_figures_changes"] = (
            national.national_figures_changes(extract_id=extract.pk) if extract.status == ExtractStatus.LOADED else []
        )
        return context
