from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and organisations"

    def ready(self) -> None:
        from . import checks, lookups, signals  # noqa: F401  (checks registers the system checks)

        signals.connect()
        lookups.register()
