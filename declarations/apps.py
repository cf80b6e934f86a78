from django.apps import AppConfig


class DeclarationsConfig(AppConfig):
    name = "declarations"
    verbose_name = "Declarations"

    def ready(self):
        # What Data Submission asks of payments (achievement.payments) is answered here.
        from achievement import payments

        from .payment_gateway import DeclarationsPaymentGateway

        payments.register(DeclarationsPaymentGateway())
