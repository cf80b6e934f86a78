"""The one mapping of the domain's refusals to HTTP (accounts.errors): NotFound is a 404 and
NotAllowed a 403 for every view, both on record; a Conflict or Invalid raised under
DomainErrorsMixin is an error message on the page the user is sent back to."""

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.views import View

from accounts.errors import Conflict, Invalid, NotAllowed, NotFound
from accounts.middleware import AuditDenialsMiddleware
from accounts.mixins import DomainErrorsMixin, RoleRequiredMixin
from accounts.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _request(user, path="/somewhere/?page=2"):
    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request.resolver_match = None
    return request


@pytest.mark.parametrize(("error", "status", "action"), [
    (NotFound("No such declaration"), 404, "not_found"),
    (NotAllowed("You do not hold Approval Management"), 403, "permission_denied"),
])
def test_not_found_and_not_allowed_become_404_and_403_on_record(error, status, action):
    user = UserFactory()
    middleware = AuditDenialsMiddleware(lambda request: None)
    response = middleware.process_exception(_request(user), error)
    assert response.status_code == status
    event = AuditEvent.objects.get(action=action)
    assert event.actor_id == user.pk
    assert event.detail["path"] == "/somewhere/"


def test_other_exceptions_are_left_to_django():
    middleware = AuditDenialsMiddleware(lambda request: None)
    assert middleware.process_exception(_request(UserFactory()), ValueError("boom")) is None
    assert middleware.process_exception(_request(UserFactory()), Conflict("stale")) is None


@pytest.mark.parametrize("error", [Conflict("This offer has already been withdrawn."), Invalid("Dates are outside the year.")])
def test_a_conflict_or_invalid_request_is_a_message_on_the_same_page(error):
    class ActView(DomainErrorsMixin, View):
        def get(self, request):
            raise error

    request = _request(UserFactory())
    response = ActView.as_view()(request)
    assert response.status_code == 302
    assert response.url == "/somewhere/?page=2"
    assert [str(m) for m in get_messages(request)] == [error.message]


def test_a_screen_without_its_role_is_403():
    from django.core.exceptions import PermissionDenied

    class GuardedView(RoleRequiredMixin, View):
        permission = "no.such_rule_anyone_holds"

        def get(self, request):  # pragma: no cover - never reached
            raise AssertionError

    with pytest.raises(PermissionDenied):
        GuardedView.as_view()(_request(UserFactory()))
