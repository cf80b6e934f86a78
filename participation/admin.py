"""Admin: the catalogue is read-mostly (it comes from the YAML definitions), offers and their
transitions are read-only (they change only through the services, which record who and why)."""

from django.contrib import admin

from .models import (
    AchievementDate,
    Domain,
    FinancialYear,
    Indicator,
    IndicatorGroup,
    OfferTransition,
    QualityService,
    ServiceOffer,
)


@admin.register(FinancialYear)
class FinancialYearAdmin(admin.ModelAdmin):
    list_display = ("label", "start_date", "end_date")


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ("position", "code", "name")


class AchievementDateInline(admin.TabularInline):
    model = AchievementDate
    extra = 0


@admin.register(QualityService)
class QualityServiceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "payment_type", "payment_frequency", "financial_year", "provider_level")
    list_filter = ("financial_year", "payment_type", "provider_level")
    search_fields = ("code", "name")
    readonly_fields = ("definition", "definition_hash", "loaded_at")
    inlines = [DomainInline, AchievementDateInline]


@admin.register(IndicatorGroup)
class IndicatorGroupAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "service", "domain", "national_prevalence")
    list_filter = ("service",)
    search_fields = ("code", "name")


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ("code", "service", "group", "kind", "points", "lower", "upper", "entry")
    list_filter = ("service", "kind", "entry")
    search_fields = ("code", "name")
    list_select_related = ("service", "group")


class OfferTransitionInline(admin.TabularInline):
    model = OfferTransition
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "by", "at", "note")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ServiceOffer)
class ServiceOfferAdmin(admin.ModelAdmin):
    list_display = ("service", "provider", "commissioner", "status", "start_date", "end_date")
    list_filter = ("status", "service__financial_year", "service")
    search_fields = ("provider__name", "provider__ods_code", "service__code")
    list_select_related = ("service", "provider", "commissioner")
    readonly_fields = (
        "service", "provider", "commissioner", "status", "start_date", "end_date", "response_date",
        "target_date", "created_by", "created_at", "updated_at",
    )
    inlines = [OfferTransitionInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
