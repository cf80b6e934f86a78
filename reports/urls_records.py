"""Reports: Achievement Summary Report, Payments, Network organisation relationship, Allocated Reports."""

urlpatterns: list = []
