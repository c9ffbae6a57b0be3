"""Every write to users, homes, memberships and rooms."""
from django.db import IntegrityError, transaction

from homes.errors import AccountError, HomeError
from hubs.services import hub_unpair
from realtime import publish
from veahome.errors import ApplicationError
from veahome.services import model_update

from .models import Home, Membership, RefreshSession, Room, User
from .scoping import Role

DEFAULT_HOME_NAME = "My Home"


@transaction.atomic
@transaction.atomic
def user_password_change(*, user: User, new_password: str):
    """Set a new password and end every session of the account (each app must log in again);
    returns the refresh token of a new session for the app that asked."""
    from .sessions import session_start, sessions_end_all

    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    sessions_end_all(user=user, reason=RefreshSession.Reason.PASSWORD_CHANGE)
    return session_start(user=user)


def user_register(*, name: str, email: str, password: str) -> tuple[User, Home]:
    """Create the account and, as the app expects, a first home called "My Home"."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ApplicationError(AccountError.EMAIL_TAKEN, "An account with this email already exists.", fields={"email": ["taken"]})
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, name=name.strip())
    except IntegrityError:
        raise ApplicationError(
            AccountError.EMAIL_TAKEN, "An account with this email already exists.", fields={"email": ["taken"]}
        ) from None
    home = home_create(owner=user, name=DEFAULT_HOME_NAME)
    return user, home


@transaction.atomic
def home_create(*, owner: User, name: str, **fields) -> Home:
    home = Home.objects.create(owner=owner, name=name, **fields)
    Membership.objects.create(user=owner, home=home, role=Role.OWNER)
    return home


HOME_EDITABLE = {"name", "timezone", "latitude", "longitude", "address", "model3d_url"}


@transaction.atomic
def home_update(*, home: Home, actor: User, **fields) -> Home:
    """Change the home's details; `home:update` names the fields that changed (none: no event)."""
    for key in fields:
        if key not in HOME_EDITABLE:
            raise ValueError(f"home field {key} is not editable")
    changed = model_update(instance=home, data=fields)
    if not changed:
        return home
    if "timezone" in changed:
        # Schedules fire on the home's wall clock, so their UTC instants move with the zone.
        from automations.services import schedules_reschedule_home

        schedules_reschedule_home(home=home)
    publish(home.pk, "home:update", {"homeId": str(home.pk), "changed": sorted(changed)})
    return home


@transaction.atomic
def home_delete(*, home: Home, actor: User) -> None:
    home_id = home.pk
    # Its hubs are released through unpairing so their broker accounts go with the home.
    for hub in home.hubs.all():
        hub_unpair(hub=hub)
    publish(home_id, "home:deleted", {"homeId": str(home_id)})
    home.delete()


@transaction.atomic
def layout_update(*, home: Home, layout: dict) -> Home:
    """Store the 2D layout; every key must be a room of this home (checked by the serializer).
    `home:layout` carries the new layout; the same layout again publishes nothing."""
    if model_update(instance=home, data={"layout": layout}):
        publish(home.pk, "home:layout", {"homeId": str(home.pk), "layout": layout})
    return home


def _room_event(room: Room) -> dict:
    return {"roomId": str(room.pk), "name": room.name}


@transaction.atomic
def room_create(*, home: Home, **fields) -> Room:
    room = Room.objects.create(home=home, **fields)
    publish(home.pk, "room:created", _room_event(room))
    return room


@transaction.atomic
def room_update(*, room: Room, **fields) -> Room:
    """`room:update` names the fields that changed; an update that changes nothing publishes nothing."""
    changed = model_update(instance=room, data=fields)
    if changed:
        publish(room.home_id, "room:update", _room_event(room) | {"changed": sorted(changed)})
    return room


@transaction.atomic
def room_delete(*, room: Room) -> None:
    home_id, data = room.home_id, _room_event(room)
    room.delete()
    if isinstance(room.home.layout, dict) and data["roomId"] in room.home.layout:
        layout = dict(room.home.layout)
        layout.pop(data["roomId"])
        Home.objects.filter(pk=home_id).update(layout=layout)
    publish(home_id, "room:deleted", data)


ASSIGNABLE_BY = {
    # actor role -> roles the actor may grant or take away
    Role.OWNER: {Role.ADMIN, Role.MEMBER, Role.GUEST},
    Role.ADMIN: {Role.MEMBER, Role.GUEST},
}


def _check_may_manage(actor_role: str, role: str) -> None:
    if role not in ASSIGNABLE_BY.get(actor_role, set()):
        raise ApplicationError(
            HomeError.ROLE_NOT_ASSIGNABLE,
            f"A home {actor_role} cannot grant or change the {role} role.",
            fields={"role": [f"not assignable by {actor_role}"]},
        )


def _membership_event(membership: Membership) -> dict:
    return {"membershipId": str(membership.pk), "userId": str(membership.user_id), "role": membership.role}


@transaction.atomic
def membership_add(*, home: Home, actor_role: str, email: str, role: str) -> Membership:
    _check_may_manage(actor_role, role)
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise ApplicationError(
            HomeError.USER_NOT_FOUND, "No account uses this email.", fields={"email": ["no such account"]}
        )
    if Membership.objects.filter(home=home, user=user).exists():
        raise ApplicationError(HomeError.ALREADY_MEMBER, "This person is already a member of the home.", fields={"email": ["already a member"]})
    membership = Membership.objects.create(home=home, user=user, role=role)
    publish(home.pk, "member:added", _membership_event(membership))
    return membership


@transaction.atomic
def membership_update(*, membership: Membership, actor_role: str, role: str) -> Membership:
    _check_may_manage(actor_role, membership.role)
    _check_may_manage(actor_role, role)
    if model_update(instance=membership, data={"role": role}):
        publish(membership.home_id, "member:update", _membership_event(membership))
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User, actor_role: str) -> None:
    if membership.role == Role.OWNER:
        raise ApplicationError(HomeError.OWNER_CANNOT_LEAVE, "The owner cannot be removed from the home.")
    if membership.user_id != actor.pk:  # anyone may leave; removing others needs the rights
        _check_may_manage(actor_role, membership.role)
    data = _membership_event(membership)
    membership.delete()
    publish(membership.home_id, "member:removed", data)
