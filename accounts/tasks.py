from celery import shared_task

from . import passwords, services


@shared_task(acks_late=False)
def message_email(message_id: int) -> int:
    # Not acks_late: sending is not idempotent, a redelivery would email twice.
    return services.message_email_send(message_id=message_id)


@shared_task(acks_late=False)
def message_emails(message_ids: list[int]) -> int:
    # The emails of messages created together (accounts.services.messages_send); not acks_late.
    return services.messages_email_send(message_ids=message_ids)


@shared_task(acks_late=False)
def password_reset_email(user_id: int, base_url: str, by_administrator: bool) -> bool:
    # Not acks_late: a redelivery would email a second link.
    return passwords.password_reset_email_send(user_id=user_id, base_url=base_url, by_administrator=by_administrator)
