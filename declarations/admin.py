from django.contrib import admin

from .models import Calculation, IndicatorCalculation


class IndicatorCalculationInline(admin.TabularInline):
    model = IndicatorCalculation
    extra = 0
    can_delete = False
    fields = (
        "indicator",
        "numerator",
        "denominator",
        "register",
        "value",
        "answer",
        "achievement_percent",
        "points",
        "amount",
        "apdf",
        "patients_to_upper",
        "amount_at_stake",
    )
    readonly_fields = fields


@admin.register(Calculation)
class CalculationAdmin(admin.ModelAdmin):
    """Read-only: calculations are written by the recalculation service only."""

    list_display = (
        "achievement",
        "total_points",
        "total_amount",
        "is_provisional",
        "version",
        "calculated_at",
    )
    list_filter = ("service", "is_provisional")
    search_fields = ("provider__ods_code", "provider__name")
    list_select_related = ("achievement__provider", "achievement__service", "achievement__achievement_date")
    readonly_fields = (
        "achievement",
        "provider",
        "service",
        "achievement_date",
        "list_size",
        "cpi",
        "total_points",
        "total_amount",
        "is_provisional",
        "inputs_hash",
        "version",
        "calculated_at",
    )
    inlines = [IndicatorCalculationInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
