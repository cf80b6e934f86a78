from django.contrib import admin

from .models import Calculation, Declaration, DeclarationTransition, IndicatorCalculation


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


class DeclarationTransitionInline(admin.TabularInline):
    model = DeclarationTransition
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "by", "amount", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Declaration)
class DeclarationAdmin(admin.ModelAdmin):
    """Read-only: a declaration changes state only through the services (declarations.workflow),
    which check who may approve what.  The admin offers no change, add, delete or action, so no
    staff user or superuser can approve a declaration of an organisation they do not commission
    from here."""

    list_display = ("provider", "service", "achievement_date", "status", "amount_declared", "amount_approved")
    list_filter = ("status", "service")
    search_fields = ("provider__ods_code", "provider__name")
    list_select_related = ("provider", "service", "achievement_date")
    readonly_fields = tuple(
        f.name for f in Declaration._meta.get_fields() if f.concrete and not f.many_to_many and f.name != "id"
    )
    inlines = [DeclarationTransitionInline]
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
