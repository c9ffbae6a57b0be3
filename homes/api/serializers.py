"""Serializers for accounts, homes, rooms, layout and memberships."""
import zoneinfo

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from homes.models import Home, Invitation, Membership, Room, User
from homes.scoping import Role
from veahome.api import (
    NAME_MAX_LENGTH, ModelSerializer, StrictCharField, StrictEmailField, StrictFloatField, StrictIntegerField,
    check_document_size,
)

TIMEZONES = sorted(zoneinfo.available_timezones())


class HomeBriefSerializer(ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Home
        fields = ["id", "name", "role"]

    def get_role(self, home) -> str | None:
        return getattr(home, "my_role", None)


class UserSerializer(ModelSerializer):
    home_id = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "name", "email", "plan", "home_id"]

    def get_home_id(self, user) -> str | None:
        homes = self.context.get("homes")
        return str(homes[0].pk) if homes else None


class AuthResponseSerializer(serializers.Serializer):
    """What login and register return (the app's contract) plus the refresh token."""

    token = StrictCharField(help_text="Access token for `Authorization: Bearer`.")
    refresh_token = StrictCharField()
    user = UserSerializer()
    homes = HomeBriefSerializer(many=True)


class MeResponseSerializer(serializers.Serializer):
    user = UserSerializer()
    homes = HomeBriefSerializer(many=True)


class RegisterSerializer(serializers.Serializer):
    name = StrictCharField(max_length=NAME_MAX_LENGTH)
    email = StrictEmailField(max_length=255)
    password = StrictCharField(min_length=6, max_length=128, write_only=True, style={"input_type": "password"})

    def validate_password(self, value):
        password_validation.validate_password(value)
        return value


class LoginSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=255)
    password = StrictCharField(max_length=128, write_only=True)


class PasswordChangeSerializer(serializers.Serializer):
    current_password = StrictCharField(max_length=128, write_only=True, style={"input_type": "password"})
    new_password = StrictCharField(min_length=6, max_length=128, write_only=True, style={"input_type": "password"})

    def validate(self, attrs):
        user = self.context["user"]
        if not user.check_password(attrs["current_password"]):
            raise serializers.ValidationError({"current_password": ["Not your current password."]})
        try:
            password_validation.validate_password(attrs["new_password"], user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"new_password": list(exc.messages)}) from None
        return attrs


class RefreshSerializer(serializers.Serializer):
    refresh_token = StrictCharField(max_length=2000)


class TokenPairSerializer(serializers.Serializer):
    token = StrictCharField()
    refresh_token = StrictCharField()


class RoomBriefSerializer(ModelSerializer):
    class Meta:
        model = Room
        fields = ["id", "name"]


class HomeSerializer(ModelSerializer):
    role = serializers.SerializerMethodField()
    timezone = serializers.ChoiceField(choices=TIMEZONES, required=False, help_text="IANA time zone name.")

    class Meta:
        model = Home
        fields = [
            "id", "name", "timezone", "latitude", "longitude", "address", "layout",
            "model3d_url", "role", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "layout", "role", "created_at", "updated_at"]

    def get_role(self, home) -> str | None:
        role = getattr(home, "my_role", None)
        if role is None and "membership" in self.context:
            role = self.context["membership"].role
        return role


class HomeDetailSerializer(HomeSerializer):
    rooms = RoomBriefSerializer(many=True, read_only=True)

    class Meta(HomeSerializer.Meta):
        fields = HomeSerializer.Meta.fields + ["rooms"]


class RoomSerializer(ModelSerializer):
    class Meta:
        model = Room
        fields = [
            "id", "name", "temperature", "humidity", "lights", "power", "scene",
            "air_quality", "image", "model3d_url", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class LayoutEntrySerializer(serializers.Serializer):
    x = StrictFloatField()
    y = StrictFloatField()
    width = StrictFloatField(min_value=0, required=False)
    height = StrictFloatField(min_value=0, required=False)
    rotation = StrictFloatField(required=False)
    floor = StrictIntegerField(required=False)


class LayoutSerializer(serializers.Serializer):
    layout = serializers.DictField(child=LayoutEntrySerializer(), allow_empty=True)

    def validate_layout(self, layout):
        check_document_size(layout)
        home = self.context["home"]
        room_ids = {str(pk) for pk in home.rooms.values_list("pk", flat=True)}
        unknown = [key for key in layout if key not in room_ids]
        if unknown:
            raise serializers.ValidationError({key: ["not a room of this home"] for key in unknown})
        return layout


class MemberSerializer(ModelSerializer):
    email = StrictEmailField(source="user.email", read_only=True)
    name = StrictCharField(source="user.name", read_only=True)
    user_id = serializers.UUIDField(source="user.id", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user_id", "email", "name", "role", "created_at"]
        read_only_fields = ["id", "created_at"]


class MemberCreateSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=255)
    role = serializers.ChoiceField(choices=[r for r in Role.values if r != Role.OWNER], default=Role.MEMBER)


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=[r for r in Role.values if r != Role.OWNER])


class InvitationSerializer(ModelSerializer):
    """An invitation as the home's admins see it; nothing in it says whether the email has an account."""

    invited_by_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "invited_by_id", "expires_at", "created_at", "updated_at"]
        read_only_fields = fields


class MyInvitationSerializer(ModelSerializer):
    """An invitation as its invitee sees it: which home, from whom, with which role."""

    home_id = serializers.UUIDField(read_only=True)
    home_name = StrictCharField(source="home.name", read_only=True)
    invited_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "home_id", "home_name", "role", "invited_by_name", "expires_at", "created_at"]
        read_only_fields = fields

    def get_invited_by_name(self, invitation) -> str | None:
        return invitation.invited_by.name if invitation.invited_by_id else None
