"""Reports: the records a practice keeps and the figures an ICB reconciles (urls_records), and
where the money is lost (urls_insights).  Each screen is scoped to the user's organisations."""

from . import urls_insights, urls_records

app_name = "reports"

urlpatterns = [*urls_records.urlpatterns, *urls_insights.urlpatterns]
