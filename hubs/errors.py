"""Error codes of hubs: pairing, provisioning, room slots and the link to them."""
from veahome.error_codes import ErrorCode


class HubError(ErrorCode):
    INVALID_QR_CODE = "invalid_qr_code", 400, "Not a VeaHome hub code (`VEAHUB-<serial>`)."
    DUPLICATE_ROOM = "duplicate_room", 400, "A room is listed twice."
    ROOM_NOT_IN_HOME = "room_not_in_home", 400, "A room of another home was given."
    CLAIM_REFUSED = "hub_claim_refused", 403, "The code proves no possession of the hub: scan the QR code on its box, or press its pair button and pair within the claim window."
    NOT_FOUND = "hub_not_found", 404, "No VeaHome hub has this code."
    ROOM_LIMIT = "hub_room_limit", 409, "A hub serves at most 2 rooms."
    PAIRED_ELSEWHERE = "hub_paired_elsewhere", 409, "The hub belongs to another home; it must be unpaired there first."
    NOT_PAIRED = "hub_not_paired", 409, "The hub is not paired to a home yet: pair it in the app, then retry."
    UNREACHABLE = "hub_unreachable", 503, "The message could not be handed to the broker for the hub; try again."
    BROKER_UNAVAILABLE = "broker_unavailable", 503, "The broker's account service did not answer; try again shortly."
