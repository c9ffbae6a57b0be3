"""Users, homes, memberships (roles) and rooms."""
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from veahome.models import BaseModel

from .scoping import Role, scoped_manager


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f'"{value}" is not an IANA time zone name.', code="invalid_timezone")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("name", email.split("@")[0])
        return self.create_user(email, password, **extra)


class User(BaseModel, AbstractBaseUser, PermissionsMixin):
    class Plan(models.TextChoices):
        FREE = "free", "Free"
        PREMIUM = "premium", "Premium"

    email = models.EmailField(max_length=255, unique=True)
    name = models.CharField(max_length=255)
    plan = models.CharField(max_length=50, choices=Plan.choices, default=Plan.FREE)
    is_staff = models.BooleanField(default=False, help_text="May log into the support admin.")
    is_active = models.BooleanField(default=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.email


class Home(BaseModel):
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="owned_homes")
    name = models.CharField(max_length=255)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    address = models.CharField(max_length=500, blank=True)
    layout = models.JSONField(default=dict, blank=True, help_text="2D layout: {roomId: {x, y, width, height}}")
    model3d_url = models.URLField(max_length=1000, blank=True)

    objects = scoped_manager(home_path="")

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Membership(BaseModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    objects = scoped_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "home"], name="membership_user_home_unique"),
            models.UniqueConstraint(
                fields=["home"], condition=models.Q(role="owner"), name="membership_one_owner_per_home"
            ),
        ]

    def __str__(self):
        return f"{self.user} @ {self.home} ({self.role})"


class Room(BaseModel):
    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=255)
    temperature = models.DecimalField(max_digits=5, decimal_places=2, default=22.0)
    humidity = models.DecimalField(max_digits=5, decimal_places=2, default=50.0)
    lights = models.PositiveIntegerField(default=0)
    power = models.CharField(max_length=50, default="0W")
    scene = models.CharField(max_length=255, blank=True)
    air_quality = models.PositiveIntegerField(null=True, blank=True)
    image = models.URLField(max_length=1000, blank=True)
    model3d_url = models.URLField(max_length=1000, blank=True)

    objects = scoped_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # Target of composite foreign keys: a device or hub slot names a room *and* its home.
            models.UniqueConstraint(fields=["id", "home"], name="room_id_home_unique"),
        ]

    def __str__(self):
        return self.name


class RefreshSession(BaseModel):
    """One signed-in app: the family of refresh tokens that rotation hands on from one login.

    Only the current token's id (`jti`) is kept, never a token. A token of the family that
    is not the current one has been rotated already: presenting it again means it was copied,
    and the whole family is revoked (homes.sessions).
    """

    class Reason(models.TextChoices):
        LOGOUT = "logout", "Logged out"
        LOGOUT_ALL = "logout_all", "Logged out everywhere"
        PASSWORD_CHANGE = "password_change", "Password changed"
        REUSE = "reuse", "A rotated refresh token was presented again"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_sessions")
    jti = models.CharField(max_length=64, help_text="id of the family's current refresh token")
    rotations = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="refresh_session_user_open")]

    def __str__(self):
        return f"session of {self.user_id} since {self.created_at:%Y-%m-%d %H:%M}"


class Invitation(BaseModel):
    """An offer to join a home, addressed to an email; it becomes a membership only when the
    account with that email accepts it (homes.services.invitation_accept).

    A pending invitation whose `expires_at` has passed counts as expired wherever it is read;
    the row is marked so the next time it is touched.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=255, help_text="lower-cased; matched against the invitee's account email")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True, help_text="when it was accepted, declined or revoked")

    objects = scoped_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Inviting the same email again refreshes the pending invitation instead of stacking another.
            models.UniqueConstraint(
                fields=["home", "email"], condition=models.Q(status="pending"), name="invitation_one_pending_per_email"
            ),
        ]
        indexes = [models.Index(fields=["email", "status"], name="invitation_email_status")]

    def __str__(self):
        return f"{self.email} to {self.home} ({self.role}, {self.status})"
