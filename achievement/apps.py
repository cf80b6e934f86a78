from django.apps import AppConfig


class AchievementConfig(AppConfig):
    name = "achievement"
    verbose_name = "Achievement"
