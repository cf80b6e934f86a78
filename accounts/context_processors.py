from django.conf import settings

from . import navigation, selectors


def service(request):
    """Service identity, the footer's help block, the tabs and the unread count."""
    context = {
        "SERVICE_NAME": settings.SERVICE_NAME,
        "SERVICE_DESK_EMAIL": settings.SERVICE_DESK_EMAIL,
        "SERVICE_DESK_PHONE": settings.SERVICE_DESK_PHONE,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        match = getattr(request, "resolver_match", None)
        current = match.view_name if match else None
        tabs = navigation.tabs_for(user, current)
        context["nav_tabs"] = tabs
        context["nav_current_tab"] = next((t for t in tabs if t.current), None)
        context["nav_current_url_name"] = current
        context["unread_message_count"] = selectors.unread_message_count(user=user)
    return context
