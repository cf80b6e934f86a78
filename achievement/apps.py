from django.apps import AppConfig


class AchievementConfig(AppConfig):
    name = "achievement"
    verbose_name = "Achievement"

    def ready(self) -> None:
        # A practice's PCN move re-aggregates its PCNs' Network Contract DES achievement (ADR 0020).
        from accounts.pcn_membership import register_move_listener

        from .ingest.aggregate import pcn_members_moved

        register_move_listener(pcn_members_moved)
