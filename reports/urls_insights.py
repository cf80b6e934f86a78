"""Reports: where the money is lost (commissioner) and this year beside last (practice)."""

urlpatterns: list = []
