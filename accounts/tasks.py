from celery import shared_task

from . import services


@shared_task(acks_late=False)
def message_email(message_id: int) -> int:
    # Not acks_late: sending is not idempotent, a redelivery would email twice.
    return services.message_email_send(message_id=message_id)
