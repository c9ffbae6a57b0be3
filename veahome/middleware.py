"""Django's stock middlewares, run on the event loop under ASGI.

Under ASGI Django runs every hook of a sync-style middleware (`process_request`,
`process_view`, `process_response`) in a worker thread: with the stack in settings that is
fifteen thread hand-offs per request, about a third of an API request's cost
(bench/rest_devices.py). The hooks below only read headers and cookies and set attributes or
headers, so they run inline. The two that can touch the database (saving a modified session,
storing messages in it) still go to a thread, and only when they have something to write.
Under WSGI (the test client, management commands) they behave exactly as Django's own.
"""
from asgiref.sync import sync_to_async
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.middleware.clickjacking import XFrameOptionsMiddleware as DjangoXFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware as DjangoCsrfViewMiddleware
from django.middleware.security import SecurityMiddleware as DjangoSecurityMiddleware


class InlineHooks:
    """`__acall__` that calls the hooks directly; `response_needs_thread` names the exceptions."""

    async def __acall__(self, request):
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            if self.response_needs_thread(request, response):
                response = await sync_to_async(self.process_response, thread_sensitive=True)(request, response)
            else:
                response = self.process_response(request, response)
        return response

    def response_needs_thread(self, request, response) -> bool:
        return False


class SecurityMiddleware(InlineHooks, DjangoSecurityMiddleware):
    pass


class CommonMiddleware(InlineHooks, DjangoCommonMiddleware):
    pass


class SessionMiddleware(InlineHooks, DjangoSessionMiddleware):
    def response_needs_thread(self, request, response) -> bool:
        # Reading or saving a session is a database query; an untouched session is neither.
        session = getattr(request, "session", None)
        return session is not None and session.accessed


class CsrfViewMiddleware(InlineHooks, DjangoCsrfViewMiddleware):
    """Inline under ASGI, including `process_view` (CSRF_USE_SESSIONS is off: cookies only)."""

    @property
    def process_view(self):
        check = super().process_view
        if not self.async_mode:
            return check

        async def process_view(request, callback, callback_args, callback_kwargs):
            return check(request, callback, callback_args, callback_kwargs)

        return process_view


class AuthenticationMiddleware(InlineHooks, DjangoAuthenticationMiddleware):
    """Only attaches the lazy `request.user`; loading it happens where it is used."""


class MessageMiddleware(InlineHooks, DjangoMessageMiddleware):
    def response_needs_thread(self, request, response) -> bool:
        # Storing messages may fall back to the session, a database write.
        storage = getattr(request, "_messages", None)
        return storage is not None and (storage.used or storage.added_new)


class XFrameOptionsMiddleware(InlineHooks, DjangoXFrameOptionsMiddleware):
    pass
