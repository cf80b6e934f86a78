"""The Message Centre: messages and tasks addressed to an organisation's holders of a role, and
who has read them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .organisations import Organisation
from .roles import Role


class Message(models.Model):
    """A message or task in the Message Centre, addressed to an organisation's holders of a role.

    ``task_key`` identifies the action a task asks for (e.g. ``offer:42``) so the service that
    performs the action can close it.
    """

    # Indexed by the (organisation, role) index below, which serves the organisation alone too.
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    role = models.CharField(max_length=30, choices=Role.choices, blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField("Task Summary link", max_length=300, blank=True)
    is_task = models.BooleanField(default=False)
    task_key = models.CharField(max_length=100, blank=True)  # indexed below, for equality only
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Set by the email task (a Celery worker) once the message has gone out by email.
    emailed_at = models.DateTimeField(null=True, blank=True)
    emailed_to = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        # A message is written for every task and notice (6,410 by a national recalculation):
        # no index a query does not use (task keys are looked up equal, never by pattern).
        indexes = [models.Index(fields=["organisation", "role"]), models.Index(fields=["task_key"], name="message_task_key")]

    def __str__(self) -> str:
        return self.subject


class MessageRead(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_reads")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="one_read_per_user")]

    def __str__(self) -> str:
        return f"{self.user} read {self.message} at {self.read_at:%d/%m/%Y %H:%M}"
