"""The one error vocabulary: {"error": {"code", "message", "fields"}} from one DRF handler."""
import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain rule was broken; carries a stable machine-readable code."""

    status_code = status.HTTP_409_CONFLICT

    def __init__(self, code: str, message: str, *, fields: dict | None = None, status_code: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        if status_code is not None:
            self.status_code = status_code


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "malformed_body",
}


def _flatten(detail):
    """Turn DRF's nested error detail into {field: [messages]} (nested paths joined by dots)."""
    out: dict[str, list[str]] = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for index, sub in enumerate(value):
                if sub:
                    walk(f"{prefix}.{index}" if prefix else str(index), sub)
        else:
            messages = value if isinstance(value, list) else [value]
            out.setdefault(prefix or "nonFieldErrors", []).extend(str(m) for m in messages)

    walk("", detail)
    return out


def _camel_path(path: str) -> str:
    """The serializer field is camelCased; what follows are keys of the client's own JSON
    documents (stored untouched), so they are reported exactly as the client sent them."""
    from djangorestframework_camel_case.util import camelize

    field, dot, rest = path.partition(".")
    return next(iter(camelize({field: None}))) + dot + rest


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        fields = {_camel_path(k): v for k, v in exc.fields.items()}
        return Response(error_body(exc.code, exc.message, fields), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("body_too_large", "The request body is too large."), status=413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))

    if isinstance(exc, exceptions.ValidationError):
        fields = {_camel_path(k): v for k, v in _flatten(exc.detail).items()}
        first = next(iter(fields.items()), ("", ["Invalid input."]))
        message = f"{first[0]}: {first[1][0]}" if first[0] != "nonFieldErrors" else first[1][0]
        return Response(error_body("invalid", message, fields), status=status.HTTP_400_BAD_REQUEST)

    if isinstance(exc, exceptions.APIException):
        code = _CODES.get(type(exc)) or getattr(exc, "default_code", "error")
        if isinstance(exc, exceptions.AuthenticationFailed) and exc.status_code == 401:
            code = "authentication_failed"
        detail = exc.detail
        if isinstance(detail, dict):
            message = str(detail.get("detail", next(iter(detail.values()), "")))
        elif isinstance(detail, list):
            message = " ".join(str(d) for d in detail)
        else:
            message = str(detail)
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        return Response(error_body(code, message), status=exc.status_code, headers=headers)

    return None


def json_not_found(request, exception=None):
    """Django-level 404 (an URL no view matches) in the API's error shape."""
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def json_server_error(request):
    return JsonResponse(error_body("server_error", "Internal server error."), status=500)


def json_bad_request(request, exception=None):
    return JsonResponse(error_body("bad_request", "Bad request."), status=400)
