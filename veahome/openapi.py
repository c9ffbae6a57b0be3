"""The OpenAPI schema's shared parts: the one error shape on every operation, uuid path ids."""
import re

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from homes.errors import HomeError

from .error_codes import ApiError, ErrorCode


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text='Machine-readable, e.g. "invalid", "not_found", "hub_room_limit".')
    message = serializers.CharField(help_text="For people; the first field error for `invalid`.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Messages by field path in camelCase, nested paths joined by dots ("actions.0.deviceId").',
    )


class ErrorSerializer(serializers.Serializer):
    """Every 4xx and 5xx of the API has this body (veahome.errors.exception_handler)."""

    error = ErrorDetailSerializer()


BODY_METHODS = {"POST", "PUT", "PATCH"}


def _describe(codes) -> str:
    return " ".join(f"`{code.value}`: {code.meaning}" for code in codes)


class AutoSchema(SpectacularAutoSchema):
    """Adds the error responses each operation can give, in the one error shape, described
    from the error catalogue (veahome.error_codes).

    The shared codes follow from the operation (authenticated, has a body, throttled); the
    domain codes an operation can answer come from its view's `error_codes`, a mapping of
    action or method name (`"*"` for all) to catalogued codes.
    """

    def _view_codes(self) -> list[ErrorCode]:
        declared = getattr(self.view, "error_codes", {})
        action = getattr(self.view, "action", None) or self.method.lower()
        return [*declared.get("*", ()), *declared.get(action, ())]

    def _error_codes(self) -> dict[int, list[ErrorCode]]:
        view = self.view
        public = any(isinstance(p, AllowAny) for p in view.get_permissions())
        has_body = self.method in BODY_METHODS and self.get_request_serializer() is not None
        codes = [ApiError.INVALID, ApiError.NOT_FOUND]
        if has_body:
            codes += [ApiError.MALFORMED_BODY, ApiError.BODY_TOO_LARGE, ApiError.UNSUPPORTED_MEDIA_TYPE]
        if not public:
            codes += [ApiError.NOT_AUTHENTICATED, ApiError.AUTHENTICATION_FAILED, HomeError.ROLE_REQUIRED]
        if getattr(view, "throttle_classes", None):
            codes.append(ApiError.THROTTLED)
        by_status: dict[int, list[ErrorCode]] = {}
        for code in codes + self._view_codes():
            if code not in by_status.setdefault(code.status, []):
                by_status[code.status].append(code)
        return dict(sorted(by_status.items()))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status, codes in self._error_codes().items():
            key = str(status)
            if key not in responses:
                response = self._get_response_for_code(ErrorSerializer, key)
                response["description"] = _describe(codes)
                responses[key] = response
        return responses


# The contract names path ids after what they identify: homes/{homeId}/devices/{deviceId}.
ID_NAMES = {
    "homes": "homeId",
    "rooms": "roomId",
    "members": "memberId",
    "invitations": "invitationId",
    "hubs": "hubId",
    "devices": "deviceId",
    "device-groups": "groupId",
    "scenes": "sceneId",
    "schedules": "scheduleId",
    "automations": "automationId",
    "tariffs": "tariffId",
    "alerts": "alertId",
    "contacts": "contactId",
    "runs": "runId",
}


def _rename_path(path: str) -> tuple[str, dict[str, str]]:
    renames: dict[str, str] = {}
    parts = path.split("/")
    for index, part in enumerate(parts):
        match = re.fullmatch(r"\{(\w+)\}", part)
        if match and index > 0 and parts[index - 1] in ID_NAMES:
            new = ID_NAMES[parts[index - 1]]
            renames[match.group(1)] = new
            parts[index] = "{" + new + "}"
    return "/".join(parts), renames


def camelize_path_ids(result, generator, request, public):
    """Postprocessing hook: `{home_id}`/`{id}` -> `{homeId}`/`{deviceId}` typed as uuid, no trailing slash.

    Only the names change, so the URLs the schema describes are exactly the routed ones.
    """
    paths = {}
    for path, operations in result.get("paths", {}).items():
        new_path, renames = _rename_path(path)
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["name"] in renames:
                    parameter["name"] = renames[parameter["name"]]
                    parameter["schema"] = {"type": "string", "format": "uuid"}
                    parameter.pop("description", None)
        # The contract's paths have no trailing slash (both spellings are routed).
        paths[new_path.rstrip("/")] = operations
    result["paths"] = paths
    for component in result.get("components", {}).get("schemas", {}).values():
        _tighten_decimals(component)
    return result


def _tighten_decimals(node) -> None:
    """drf-spectacular's decimal pattern admits "", "-" and "."; require a digit on each side of the point."""
    if isinstance(node, dict):
        if node.get("format") == "decimal" and "pattern" in node:
            node["pattern"] = node["pattern"].replace(r"\d{0,", r"\d{1,")
        for value in node.values():
            _tighten_decimals(value)
    elif isinstance(node, list):
        for value in node:
            _tighten_decimals(value)
