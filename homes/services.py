"""Every write to users, homes, memberships, invitations and rooms."""
import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from homes.errors import AccountError, HomeError
from hubs.services import hub_unpair
from realtime import publish
from veahome.errors import ApplicationError
from veahome.services import model_update

from .models import Home, Invitation, Membership, RefreshSession, Room, User
from .scoping import Role

DEFAULT_HOME_NAME = "My Home"


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
    if {"timezone", "latitude", "longitude"} & set(changed):
        # Schedules and time triggers fire on the home's wall clock, sun triggers at its
        # sunrise and sunset: their UTC instants move with the zone and the location.
        from automations.services import home_clock_changed

        home_clock_changed(home=home)
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
def membership_grant(*, home: Home, user: User, role: str) -> tuple[Membership, bool]:
    """Make `user` a member of `home` with `role`, unless they are one already (then nothing
    changes); returns the membership and whether it is new.

    No endpoint calls this directly: people join a home by accepting an invitation
    (`invitation_accept`); the demo seed adds its second account through it.
    """
    if role == Role.OWNER:
        raise ValueError("a home's owner is made by home_create, never granted")
    existing = Membership.objects.filter(home=home, user=user).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            membership = Membership.objects.create(home=home, user=user, role=role)
    except IntegrityError:  # a concurrent grant of the same person won
        return Membership.objects.get(home=home, user=user), False
    publish(home.pk, "member:added", _membership_event(membership))
    return membership, True


def _invitation_event(invitation: Invitation) -> dict:
    return {
        "invitationId": str(invitation.pk), "email": invitation.email, "role": invitation.role,
        "status": invitation.status, "expiresAt": invitation.expires_at.isoformat(),
    }


def _expire_stale(invitations) -> None:
    """Mark the pending invitations among `invitations` whose time is up as expired."""
    now = timezone.now()
    invitations.filter(status=Invitation.Status.PENDING, expires_at__lte=now).update(
        status=Invitation.Status.EXPIRED, updated_at=now
    )


@transaction.atomic
def invitation_create(*, home: Home, actor: User, actor_role: str, email: str, role: str) -> Invitation:
    """Invite whoever owns `email` into the home with `role`.

    The answer is the same whether an account, or a member of this home, has the email: nothing
    tells the inviter which, and nobody joins a home without accepting. Inviting an email that has a
    pending invitation refreshes that one (role, inviter, a new expiry) instead of adding another.
    """
    _check_may_manage(actor_role, role)
    email = email.strip().lower()
    expires_at = timezone.now() + datetime.timedelta(days=settings.INVITATION_TTL_DAYS)
    _expire_stale(Invitation.objects.filter(home=home, email=email))
    pending = Invitation.objects.select_for_update().filter(
        home=home, email=email, status=Invitation.Status.PENDING
    ).first()
    if pending is None:
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    home=home, email=email, role=role, invited_by=actor, expires_at=expires_at
                )
        except IntegrityError:  # a concurrent invitation of the same email won: refresh it
            pending = Invitation.objects.select_for_update().get(
                home=home, email=email, status=Invitation.Status.PENDING
            )
        else:
            publish(home.pk, "invitation:created", _invitation_event(invitation))
            return invitation
    _check_may_manage(actor_role, pending.role)
    model_update(instance=pending, data={"role": role, "invited_by_id": actor.pk, "expires_at": expires_at})
    publish(home.pk, "invitation:update", _invitation_event(pending))
    return pending


def _locked_open_invitation(invitation: Invitation) -> Invitation:
    """The invitation's row, locked, if it can still be answered."""
    invitation = Invitation.objects.select_for_update().select_related("home").get(pk=invitation.pk)
    if invitation.status != Invitation.Status.PENDING:
        raise ApplicationError(
            HomeError.INVITATION_NOT_PENDING, f"This invitation was already {invitation.status}.",
            fields={"status": [invitation.status]},
        )
    if invitation.expires_at <= timezone.now():
        raise ApplicationError(
            HomeError.INVITATION_EXPIRED, "This invitation has expired: ask the home's admins for a new one.",
            fields={"expiresAt": [invitation.expires_at.isoformat()]},
        )
    return invitation


def _respond(invitation: Invitation, status: str) -> None:
    model_update(instance=invitation, data={"status": status, "responded_at": timezone.now()})
    publish(invitation.home_id, f"invitation:{status}", _invitation_event(invitation))


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """The invitee joins the home with the invitation's role.

    The role must still be one the inviter may grant (an admin demoted since cannot have handed out
    more than they now could). Someone who is a member already stays exactly as they are.
    """
    invitation = _locked_open_invitation(invitation)
    inviter_role = (Membership.objects.filter(home_id=invitation.home_id, user_id=invitation.invited_by_id)
                    .values_list("role", flat=True).first())
    if invitation.role not in ASSIGNABLE_BY.get(inviter_role, set()):
        raise ApplicationError(
            HomeError.ROLE_NOT_ASSIGNABLE,
            f"Whoever invited you can no longer grant the {invitation.role} role in this home: ask its admins"
            " for a new invitation.",
            fields={"role": [f"not assignable by the inviter ({inviter_role or 'no longer a member'})"]},
        )
    membership, _ = membership_grant(home=invitation.home, user=user, role=invitation.role)
    _respond(invitation, Invitation.Status.ACCEPTED)
    return membership


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user: User) -> None:
    _respond(_locked_open_invitation(invitation), Invitation.Status.DECLINED)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor_role: str) -> None:
    """An admin withdraws a pending invitation (only one for a role they could have granted)."""
    invitation = _locked_open_invitation(invitation)
    _check_may_manage(actor_role, invitation.role)
    _respond(invitation, Invitation.Status.REVOKED)


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
