"""The OpenAPI schema's shared parts: the one error shape on every operation, uuid path ids."""
import re

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


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


ERROR_DESCRIPTIONS = {
    "400": "Invalid input (`invalid`, `malformed_body`), a field-level message per offending field.",
    "401": "No or an invalid access token (`not_authenticated`, `authentication_failed`).",
    "403": "The caller's role in the home is too low (`role_required`, `role_not_assignable`).",
    "404": "No such object, or one in a home the caller is not a member of (`not_found`).",
    "409": "A domain rule refused the change (e.g. `hub_room_limit`, `home_limit`, `email_taken`).",
    "413": "The request body is larger than MAX_BODY_BYTES (`body_too_large`).",
    "415": "The body is not JSON (`unsupported_media_type`).",
    "429": "Too many attempts (`throttled`); see Retry-After.",
}

BODY_METHODS = {"POST", "PUT", "PATCH"}


class AutoSchema(SpectacularAutoSchema):
    """Adds the error responses each operation can give, in the one error shape."""

    def _error_codes(self) -> list[str]:
        view = self.view
        public = any(isinstance(p, AllowAny) for p in view.get_permissions())
        codes = ["400", "404"]
        if not public or self.method in BODY_METHODS or self.method == "DELETE":
            codes.append("401")
        if not public:
            codes.append("403")
        if self.method in BODY_METHODS or self.method == "DELETE":
            codes.append("409")
        if self.method in BODY_METHODS and self.get_request_serializer() is not None:
            codes += ["413", "415"]
        if getattr(view, "throttle_classes", None):
            codes.append("429")
        return sorted(set(codes))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses


# The contract names path ids after what they identify: homes/{homeId}/devices/{deviceId}.
ID_NAMES = {
    "homes": "homeId",
    "rooms": "roomId",
    "members": "memberId",
    "hubs": "hubId",
    "devices": "deviceId",
    "device-groups": "groupId",
    "scenes": "sceneId",
    "schedules": "scheduleId",
    "automations": "automationId",
    "tariffs": "tariffId",
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
