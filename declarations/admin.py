from django.contrib import admin
from django.utils.html import format_html, format_html_join

from .models import Calculation, Declaration, DeclarationTransition, IndicatorCalculation

# The indicator results, shown on their calculation's page: read-only, as a table (the admin
# cannot edit nor inline a model keyed by two columns, and results are written by the
# recalculation service only).
_RESULT_COLUMNS = (
    ("indicator", "Indicator"),
    ("numerator", "Numerator"),
    ("denominator", "Denominator"),
    ("register", "Register"),
    ("value", "Value"),
    ("answer", "Yes/No"),
    ("achievement_percent", "Achievement %"),
    ("points", "Points"),
    ("amount", "Amount"),
    ("apdf", "APDF"),
    ("patients_to_upper", "Patients to upper threshold"),
    ("amount_at_stake", "Amount at stake"),
)


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
        "indicator_results",
    )

    @admin.display(description="Indicator results")
    def indicator_results(self, obj: Calculation) -> str:
        rows = IndicatorCalculation.objects.filter(calculation=obj).select_related("indicator")
        return format_html(
            '<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
            format_html_join("", "<th scope=\"col\">{}</th>", ((label,) for _, label in _RESULT_COLUMNS)),
            format_html_join(
                "",
                "<tr>{}</tr>",
                (
                    (format_html_join("", "<td>{}</td>", ((_shown(getattr(row, name)),) for name, _ in _RESULT_COLUMNS)),)
                    for row in rows
                ),
            ),
        )

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


def _shown(value) -> str:
    """A result's figure as the admin shows it: blank for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)
