"""Data Submission > Record Provider Achievement: the Commissioning Organisation enters and adjusts
its providers' data (Commissioning Organisation entries), and marks providers without automatic
extracts."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views.generic import TemplateView, View

from accounts.errors import NotFound
from accounts.mixins import RoleRequiredMixin
from accounts.models import Organisation
from achievement import commissioner_selectors, presenters, services
from achievement import rules as achievement_rules
from achievement.forms import AddAchievementForm, ManualEntryProviderForm, RecordProviderAchievementFilterForm
from participation.models import FinancialYear, OfferStatus, ServiceOffer

from .record import SetTickBoxView, ShowAchievementView, ShowGroupView, _achievement_add, _pick

# --- Data Submission > Record Provider Achievement (the Commissioning Organisation) ---------

# Commissioning Management at an ICB: the achievement of every provider it commissions, entered
# and adjusted as a Commissioning Organisation entry; and its providers with no automatic
# extract for a service.  Another ICB's provider or achievement is a 404.
RECORD_PROVIDER_ACHIEVEMENT = "achievement.view_record_provider_achievement"
ACHIEVEMENTS_PER_PAGE = 50  # an ICB of 400 practices has hundreds per service
_COMMISSIONER_ROLES = achievement_rules.COMMISSIONER_ENTRY_ROLES


def _provider_url(*, financial_year_id=None, service_id=None, provider_id=None) -> str:
    params = {
        k: v
        for k, v in (("financial_year", financial_year_id), ("service", service_id), ("provider", provider_id))
        if v
    }
    url = reverse("achievement:record_provider_achievement")
    return f"{url}?{urlencode(params)}" if params else url


def _commissioned_providers(*, user, service):
    """The providers the user commissions that take part in the service (an Approved offer):
    for a PCN-level service, the PCNs (their achievement is entered) and the practices (whose
    extract rows may be refused)."""
    offers = ServiceOffer.objects.filter(service=service, status=OfferStatus.APPROVED)
    providers = commissioner_selectors.commissioned_provider_list(user=user, roles=_COMMISSIONER_ROLES)
    return providers.filter(Q(pk__in=offers.values("provider_id")) | Q(pk__in=offers.values("provider__pcn_id")))


class RecordProviderAchievementView(RoleRequiredMixin, TemplateView):
    """Record Provider Achievement: Financial Year, Quality Service and Service Provider filters;
    the achievement panel of the providers the user commissions; Add New Achievement for a
    provider and date; and the providers with no automatic extract for the service (mark,
    unmark).  A fixed number of queries whatever the number of achievements."""

    permission = RECORD_PROVIDER_ACHIEVEMENT
    template_name = "achievement/record_provider_achievement.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        years = commissioner_selectors.commissioner_financial_year_list(user=user, roles=_COMMISSIONER_ROLES)
        year = _pick(years, self.request.GET.get("financial_year"))
        if year is None:
            current = FinancialYear.current()
            year = next((y for y in years if current and y.pk == current.pk), None) or years.first()
        services_qs = commissioner_selectors.commissioner_service_list(user=user, roles=_COMMISSIONER_ROLES, financial_year=year)
        service = _pick(services_qs, self.request.GET.get("service"))
        providers = _commissioned_providers(user=user, service=service) if service is not None else None
        provider = _pick(providers, self.request.GET.get("provider")) if providers is not None else None
        filter_form = RecordProviderAchievementFilterForm(
            initial={"financial_year": year, "service": service, "provider": provider},
            financial_years=years,
            services=services_qs,
            providers=providers if providers is not None else Organisation.objects.none(),
        )
        context.update(
            page_title="Record Provider Achievement",
            filter_form=filter_form,
            financial_year=year,
            service=service,
            provider=provider,
            screens=presenters.COMMISSIONER_SCREENS,
        )
        if service is None:
            return context
        achievements = commissioner_selectors.commissioner_achievement_list(
            user=user, roles=_COMMISSIONER_ROLES, service=service, provider_id=provider.pk if provider else None
        )
        page = Paginator(achievements, ACHIEVEMENTS_PER_PAGE).get_page(self.request.GET.get("page"))
        context.update(
            page=page,
            panel_rows=presenters.achievement_panel_rows(page.object_list, presenters.COMMISSIONER_SCREENS),
            date_rows=[
                presenters.DateRow(f"{d.date:%d/%m/%Y}", d.is_payment_date, False)
                for d in service.achievement_dates.order_by("date")
            ],
            add_form=AddAchievementForm(
                achievement_dates=service.achievement_dates.order_by("date"),
                providers=providers,
                initial={"provider": provider},
                auto_id="add-%s",
            ),
            manual_rows=presenters.manual_entry_rows(
                commissioner_selectors.manual_entry_provider_list(user=user, roles=_COMMISSIONER_ROLES, service=service)
            ),
            manual_form=ManualEntryProviderForm(providers=providers, initial={"provider": provider}, auto_id="manual-%s"),
        )
        return context


class CommissionerAddAchievementView(RoleRequiredMixin, View):
    """Add New Achievement on Record Provider Achievement: the provider's achievement for the
    selected date, created when absent."""

    permission = RECORD_PROVIDER_ACHIEVEMENT
    http_method_names = ["post"]

    def post(self, request):
        user = request.user
        services_qs = commissioner_selectors.commissioner_service_list(user=user, roles=_COMMISSIONER_ROLES)
        service = _pick(services_qs, request.POST.get("service"))
        if service is None:
            raise NotFound("No such Quality Service")
        form = AddAchievementForm(
            request.POST,
            achievement_dates=service.achievement_dates.all(),
            providers=_commissioned_providers(user=user, service=service),
        )
        back = _provider_url(financial_year_id=service.financial_year_id, service_id=service.pk)
        return _achievement_add(
            request,
            form=form,
            back=back,
            add=services.commissioner_achievement_add,
            detail="achievement:record_provider_achievement_detail",
        )


class ShowProviderAchievementView(ShowAchievementView):
    """A provider's achievement on Record Provider Achievement: as the provider's page, entered
    as the Commissioning Organisation."""

    permission = RECORD_PROVIDER_ACHIEVEMENT
    screens = presenters.COMMISSIONER_SCREENS

    def get_achievement(self):
        return commissioner_selectors.commissioner_achievement_get(
            user=self.request.user, roles=_COMMISSIONER_ROLES, achievement_id=self.kwargs["achievement_id"]
        )


class ShowProviderGroupView(ShowGroupView):
    """An Indicator Group of a provider's achievement on Record Provider Achievement: every field
    takes a New Value until the payment is financially approved; what is submitted is a
    Commissioning Organisation entry."""

    permission = RECORD_PROVIDER_ACHIEVEMENT
    screens = presenters.COMMISSIONER_SCREENS
    save = staticmethod(services.commissioner_values_save)

    def get_achievement(self):
        return commissioner_selectors.commissioner_achievement_get(
            user=self.request.user, roles=_COMMISSIONER_ROLES, achievement_id=self.kwargs["achievement_id"]
        )


class SetProviderTickBoxView(SetTickBoxView):
    """The tick-box drop-down on Record Provider Achievement (the commissioner changes it until
    the payment is financially approved: tick-box job aid)."""

    permission = RECORD_PROVIDER_ACHIEVEMENT
    screens = presenters.COMMISSIONER_SCREENS

    def get_achievement(self, achievement_id: int):
        return commissioner_selectors.commissioner_achievement_get(
            user=self.request.user, roles=_COMMISSIONER_ROLES, achievement_id=achievement_id
        )


class MarkManualEntryProviderView(RoleRequiredMixin, View):
    """Mark a provider as having no automatic extract for the service, with the reason."""

    permission = RECORD_PROVIDER_ACHIEVEMENT
    http_method_names = ["post"]

    def post(self, request):
        user = request.user
        service = _pick(
            commissioner_selectors.commissioner_service_list(user=user, roles=_COMMISSIONER_ROLES), request.POST.get("service")
        )
        if service is None:
            raise NotFound("No such Quality Service")
        form = ManualEntryProviderForm(request.POST, providers=_commissioned_providers(user=user, service=service))
        back = _provider_url(financial_year_id=service.financial_year_id, service_id=service.pk)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, errors[0])
                break
            return HttpResponseRedirect(back)
        provider = form.cleaned_data["provider"]
        try:
            services.manual_entry_provider_set(
                user=user, provider_id=provider.pk, service_id=service.pk, reason=form.cleaned_data["reason"]
            )
        except services.AchievementEntryError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                f"{provider.name} ({provider.ods_code}) has no automatic extract for {service.label}: its data are "
                "entered manually, and GPES extract rows for it are refused.",
            )
        return HttpResponseRedirect(back)


class RemoveManualEntryProviderView(RoleRequiredMixin, View):
    """Unmark: the provider's data for the service come from GPES extracts again."""

    permission = RECORD_PROVIDER_ACHIEVEMENT
    http_method_names = ["post"]

    def post(self, request, manual_entry_id: int):
        mark = services.manual_entry_provider_remove(user=request.user, manual_entry_id=manual_entry_id)
        messages.success(
            request,
            f"{mark.provider.name} ({mark.provider.ods_code}) has automatic extracts for {mark.service.label} again.",
        )
        return HttpResponseRedirect(
            _provider_url(financial_year_id=mark.service.financial_year_id, service_id=mark.service_id)
        )
