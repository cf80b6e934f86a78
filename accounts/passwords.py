"""The Password Policy's strength rule, and account recovery ("Forgotten your password?").

The policy follows the NCSC: a minimum length, no composition rules, no expiry; what it refuses
is what a guesser tries early (repeats, sequences, keyboard walks, common passwords and the
user's own name or email), as estimated by zxcvbn (Dropbox's estimator) rather than rules of our
own.  Recovery uses Django's single-use reset token (it changes with the password and the last
sign-in) and lasts PASSWORD_RESET_TIMEOUT seconds.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from zxcvbn import zxcvbn

from .models import User
from .services import audit_record

# zxcvbn's time grows with the square of the length; a longer password is judged by its first
# 72 characters (its own default limit), which is never weaker than the whole.
ESTIMATED_LENGTH = 72


class GuessablePasswordValidator:
    """Refuse a password zxcvbn estimates below ``min_score`` (0-4; 3 is about 10^8 guesses)."""

    def __init__(self, min_score: int = 3):
        self.min_score = min_score

    def validate(self, password: str, user=None) -> None:
        estimate = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=_user_inputs(user))
        if estimate["score"] < self.min_score:
            raise ValidationError(
                "This password is too easy to guess. Avoid repeated characters, sequences such as "
                "1234 or qwerty, and common words on their own: a few unrelated words together "
                "make a good password.",
                code="password_too_guessable",
            )

    def get_help_text(self) -> str:
        return (
            "Your password must not be easy to guess: repeated characters, sequences such as 1234 "
            "or qwerty, common passwords and your own name or email address are refused."
        )


def _user_inputs(user) -> list[str]:
    if user is None:
        return []
    email = str(getattr(user, "email", "") or "")
    name = str(getattr(user, "full_name", "") or "")
    return [part for part in [email, *email.split("@")[:1], *name.split()] if part]


# Recovery ---------------------------------------------------------------------------------------


def can_reset_password(*, user: User) -> bool:
    """Only an active user who has created a password has one to reset (not one who signs in
    only with NHSmail, nor one still to register: they get a registration link)."""
    return user.is_active and user.has_usable_password()


def password_reset_url(*, user: User, base_url: str) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return base_url.rstrip("/") + reverse("password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})


def password_reset_link_send(*, user: User, base_url: str, actor: User | None = None,
                             ip_address: str | None = None) -> None:
    """Email the user a link to choose a new password, and record who asked: the user themselves
    ("Forgotten your password?") or their User Administrator.  The email is written and sent by a
    worker after commit (``tasks.password_reset_email``), so the request takes as long whether or
    not the address has an account."""
    from .tasks import password_reset_email

    if not can_reset_password(user=user):
        return
    password_reset_email.delay_on_commit(user.pk, base_url, actor is not None)
    audit_record(
        actor=actor or user,
        action="password_reset_link_sent",
        obj=user,
        detail={"requested_by": "administrator" if actor else "user"},
        ip_address=ip_address,
    )


def password_reset_email_send(*, user_id: int, base_url: str, by_administrator: bool) -> bool:
    """Write and send the reset email (a fresh single-use link); False when the account can no
    longer reset its password (disabled since it was asked)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or not can_reset_password(user=user):
        return False
    link = password_reset_url(user=user, base_url=base_url)
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    asked = "Your CQRS User Administrator has asked" if by_administrator else "Someone, probably you, has asked"
    body = (
        f"Dear {user.get_full_name()},\n\n"
        f"{asked} for a link to reset the password of your Calculating Quality Reporting Service "
        f"account.\n\n"
        f"Choose a new password here (the link works once and expires in {minutes} minutes):\n\n{link}\n\n"
        f"If you did not ask for this, you can ignore this email: your password has not changed."
    )
    send_mail("CQRS: reset your password", body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return True


def password_reset_complete(*, user: User, ip_address: str | None = None) -> None:
    """After a new password is set by a reset link: every session of the user ends, and the
    account's sign-in lockouts are cleared (whoever holds the link controls the mailbox, and the
    guesses counted were against a password that no longer exists)."""
    from axes.utils import reset as axes_reset

    from .user_admin import sessions_end

    ended = sessions_end(user=user)
    cleared = axes_reset(username=user.email)
    audit_record(
        actor=user,
        action="password_reset",
        obj=user,
        detail={"sessions_ended": ended, "lockouts_cleared": cleared},
        ip_address=ip_address,
    )
