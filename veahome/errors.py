"""The one error vocabulary: {"error": {"code", "message", "fields"}} from one DRF handler."""
import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from .error_codes import ApiError, ErrorCode

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain rule was broken: a catalogued code (veahome.error_codes), which fixes the
    HTTP status, a message for people, where a field is at fault `fields`, and any response
    `headers` the code calls for (`Retry-After` with a 429)."""

    def __init__(self, code: ErrorCode, message: str, *, fields: dict | None = None, headers: dict | None = None):
        if not isinstance(code, ErrorCode):
            raise TypeError(f"ApplicationError takes a catalogued ErrorCode, not {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}

    @property
    def status_code(self) -> int:
        return self.code.status


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


_CODES = {
    exceptions.NotAuthenticated: ApiError.NOT_AUTHENTICATED,
    exceptions.AuthenticationFailed: ApiError.AUTHENTICATION_FAILED,
    exceptions.PermissionDenied: ApiError.PERMISSION_DENIED,
    exceptions.NotFound: ApiError.NOT_FOUND,
    exceptions.MethodNotAllowed: ApiError.METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: ApiError.NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: ApiError.UNSUPPORTED_MEDIA_TYPE,
    exceptions.Throttled: ApiError.THROTTLED,
    exceptions.ParseError: ApiError.MALFORMED_BODY,
}


def _code_for(exc: exceptions.APIException) -> ApiError:
    """The catalogued code of a framework exception: by class, else by status."""
    for kind, code in _CODES.items():
        if isinstance(exc, kind):
            return code
    for code in ApiError:
        if code.status == exc.status_code:
            return code
    return ApiError.BAD_REQUEST if exc.status_code < 500 else ApiError.SERVER_ERROR


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
        return Response(error_body(exc.code, exc.message, fields), status=exc.status_code, headers=exc.headers)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(ApiError.BODY_TOO_LARGE, "The request body is too large."), status=ApiError.BODY_TOO_LARGE.status)
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
        return Response(error_body(ApiError.INVALID, message, fields), status=ApiError.INVALID.status)

    if isinstance(exc, exceptions.APIException):
        code = _code_for(exc)
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
    return JsonResponse(error_body(ApiError.NOT_FOUND, "Not found."), status=404)


def json_server_error(request):
    return JsonResponse(error_body(ApiError.SERVER_ERROR, "Internal server error."), status=500)


def json_bad_request(request, exception=None):
    return JsonResponse(error_body(ApiError.BAD_REQUEST, "Bad request."), status=400)
