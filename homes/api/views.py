"""Accounts, homes, rooms, layout and members."""
from django.conf import settings
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import RefreshToken

from homes import services, sessions
from homes.errors import AccountError, HomeError
from homes.login_protection import LoginAttempt
from homes.models import Invitation, Membership, Room, User
from homes.scoping import Role
from homes.selectors import homes_for_user, invitations_addressed_to, invitations_open
from hubs.errors import HubError
from veahome.api import no_store
from veahome.error_codes import ApiError
from veahome.errors import ApplicationError

from .mixins import HomeScopedMixin, parse_uuid
from .serializers import (
    AuthResponseSerializer,
    HomeDetailSerializer,
    HomeSerializer,
    InvitationSerializer,
    LayoutSerializer,
    LoginSerializer,
    MemberCreateSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    MeResponseSerializer,
    MyInvitationSerializer,
    PasswordChangeSerializer,
    RefreshSerializer,
    RegisterSerializer,
    RoomSerializer,
    TokenPairSerializer,
)


class AuthThrottle(SimpleRateThrottle):
    """Slows password guessing: per client address, rate from settings.AUTH_THROTTLE_RATE."""

    scope = "auth"

    def get_rate(self):
        return settings.AUTH_THROTTLE_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class InviteThrottle(SimpleRateThrottle):
    """Bounds how many invitations one account sends: per user, rate from settings.INVITE_THROTTLE_RATE."""

    scope = "invite"

    def get_rate(self):
        return settings.INVITE_THROTTLE_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


def token_pair(refresh: RefreshToken) -> dict:
    return TokenPairSerializer({"token": str(refresh.access_token), "refresh_token": str(refresh)}).data


def auth_payload(user: User, refresh: RefreshToken | None = None) -> dict:
    refresh = refresh or sessions.session_start(user=user)
    homes = list(homes_for_user(user))
    data = AuthResponseSerializer(
        {"token": str(refresh.access_token), "refresh_token": str(refresh), "user": user, "homes": homes},
        context={"homes": homes},
    ).data
    return data


class RegisterView(APIView):
    error_codes = {"post": [AccountError.EMAIL_TAKEN]}

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [AuthThrottle]

    @extend_schema(request=RegisterSerializer, responses={201: AuthResponseSerializer}, auth=[])
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, _home = services.user_register(**serializer.validated_data)
        response = no_store(Response(auth_payload(user), status=status.HTTP_201_CREATED))
        # The app that created the account is one its owner uses (login protection's known clients).
        attempt = LoginAttempt.of(request, user.email)
        attempt.succeeded()
        attempt.remember(response)
        return response


class LoginView(APIView):
    """`POST auth/login`: per client address throttled (AuthThrottle) and, per email, protected
    against guessing (homes.login_protection): a locked client gets 429 `login_locked` before its
    password is looked at, for unknown emails exactly as for known ones."""

    error_codes = {"post": [ApiError.INVALID_CREDENTIALS, AccountError.LOGIN_LOCKED]}

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [AuthThrottle]

    @extend_schema(request=LoginSerializer, responses={200: AuthResponseSerializer}, auth=[])
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"].lower()
        attempt = LoginAttempt.of(request, email)
        wait = attempt.retry_after()
        if wait:
            raise ApplicationError(
                AccountError.LOGIN_LOCKED, "Too many failed logins: try again later.", headers={"Retry-After": str(wait)}
            )
        user = authenticate(request, email=email, password=serializer.validated_data["password"])
        if user is None:
            attempt.failed()
            raise ApplicationError(ApiError.INVALID_CREDENTIALS, "Invalid email or password.")
        attempt.succeeded()
        response = no_store(Response(auth_payload(user)))
        attempt.remember(response)
        return response


class MeView(APIView):
    @extend_schema(responses={200: MeResponseSerializer})
    def get(self, request):
        homes = list(homes_for_user(request.user))
        return Response(MeResponseSerializer({"user": request.user, "homes": homes}, context={"homes": homes}).data)


class RefreshView(APIView):
    error_codes = {"post": [AccountError.TOKEN_INVALID]}

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [AuthThrottle]

    @extend_schema(request=RefreshSerializer, responses={200: TokenPairSerializer}, auth=[])
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _user, new = sessions.session_refresh(raw=serializer.validated_data["refresh_token"])
        return no_store(Response(token_pair(new)))


class LogoutView(APIView):
    """`POST auth/logout {refreshToken}`: end the session that token belongs to."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=RefreshSerializer, responses={204: None})
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sessions.session_end(user=request.user, raw=serializer.validated_data["refresh_token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    """`POST auth/logout-all`: end every session of the account (a lost phone)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        sessions.sessions_end_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordView(APIView):
    """`POST auth/password {currentPassword, newPassword}`: change the password; every other
    session ends, and the answer is a new token pair for this app."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [AuthThrottle]

    @extend_schema(request=PasswordChangeSerializer, responses={200: TokenPairSerializer})
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data, context={"user": request.user})
        serializer.is_valid(raise_exception=True)
        refresh = services.user_password_change(user=request.user, new_password=serializer.validated_data["new_password"])
        return no_store(Response(token_pair(refresh)))


class HomeViewSet(HomeScopedMixin, viewsets.ModelViewSet):
    """`homes` and `homes/{homeId}`: list and create are the user's own; the rest is scoped."""

    error_codes = {"destroy": [HubError.BROKER_UNAVAILABLE]}

    serializer_class = HomeSerializer
    home_url_kwarg = "pk"
    write_role = Role.ADMIN
    action_roles = {"destroy": Role.OWNER}
    pagination_class = None

    def initial(self, request, *args, **kwargs):
        if self.action in ("list", "create"):
            return super(HomeScopedMixin, self).initial(request, *args, **kwargs)
        return super().initial(request, *args, **kwargs)

    def get_queryset(self):
        return homes_for_user(self.request.user) if self.request.user else homes_for_user(None)

    def get_object(self):
        home = self.home
        home.my_role = self.membership.role
        return home

    def get_serializer_class(self):
        if self.action == "retrieve":
            return HomeDetailSerializer
        return HomeSerializer

    def get_serializer_context(self):
        context = super(HomeScopedMixin, self).get_serializer_context()
        if self.action not in ("list", "create") and not getattr(self, "swagger_fake_view", False):
            context["membership"] = self.membership
        return context

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.home_create(owner=self.request.user, **data)
        serializer.instance.my_role = Role.OWNER

    def perform_update(self, serializer):
        serializer.instance = services.home_update(
            home=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.home_delete(home=instance, actor=self.request.user)

    @extend_schema(methods=["GET"], responses={200: LayoutSerializer})
    @extend_schema(methods=["PUT"], request=LayoutSerializer, responses={200: HomeSerializer})
    @action(detail=True, methods=["put", "get"], url_path="layout")
    def layout(self, request, pk=None):
        home = self.get_object()
        if request.method == "GET":
            return Response({"layout": home.layout})
        serializer = LayoutSerializer(data=request.data, context={"home": home})
        serializer.is_valid(raise_exception=True)
        services.layout_update(home=home, layout=serializer.validated_data["layout"])
        return Response(HomeSerializer(home, context=self.get_serializer_context()).data)

    def required_role(self):
        if self.action == "layout" and self.request.method == "GET":
            return Role.GUEST
        return super().required_role()


class RoomViewSet(HomeScopedMixin, viewsets.ModelViewSet):
    queryset = Room.objects.all()
    serializer_class = RoomSerializer
    write_role = Role.ADMIN

    def perform_create(self, serializer):
        serializer.instance = services.room_create(home=self.home, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.room_update(room=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.room_delete(room=instance)


class MemberViewSet(HomeScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The household: owners and admins invite and manage it; anyone may leave."""

    error_codes = {
        "create": [HomeError.ROLE_NOT_ASSIGNABLE, ApiError.THROTTLED],
        "update": [HomeError.ROLE_NOT_ASSIGNABLE],
        "partial_update": [HomeError.ROLE_NOT_ASSIGNABLE],
        "destroy": [HomeError.OWNER_CANNOT_LEAVE, HomeError.ROLE_NOT_ASSIGNABLE],
    }

    queryset = Membership.objects.select_related("user")
    serializer_class = MemberSerializer
    write_role = Role.ADMIN
    action_roles = {"destroy": Role.GUEST}

    def get_throttles(self):
        if self.action == "create":
            return [InviteThrottle()]
        return super().get_throttles()

    @extend_schema(
        request=MemberCreateSerializer, responses={202: InvitationSerializer},
        description="Invite someone by email. The answer is the same whether or not an account (or a member) "
        "has the email; they join when they accept (`POST /api/invitations/{invitationId}/accept`).",
    )
    def create(self, request, *args, **kwargs):
        serializer = MemberCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = services.invitation_create(
            home=self.home, actor=request.user, actor_role=self.membership.role, **serializer.validated_data
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=MemberUpdateSerializer, responses={200: MemberSerializer})
    def partial_update(self, request, *args, **kwargs):
        serializer = MemberUpdateSerializer(data=request.data, partial=kwargs.get("partial", True))
        serializer.is_valid(raise_exception=True)
        if not serializer.validated_data:
            return Response(MemberSerializer(self.get_object()).data)
        membership = services.membership_update(
            membership=self.get_object(), actor_role=self.membership.role, **serializer.validated_data
        )
        return Response(MemberSerializer(membership).data)

    @extend_schema(request=MemberUpdateSerializer, responses={200: MemberSerializer})
    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, partial=False, **kwargs)

    def destroy(self, request, *args, **kwargs):
        services.membership_remove(membership=self.get_object(), actor=request.user, actor_role=self.membership.role)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HomeInvitationViewSet(HomeScopedMixin, mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """`homes/{homeId}/invitations`: the home's open invitations, for its admins to see and revoke."""

    error_codes = {"destroy": [HomeError.ROLE_NOT_ASSIGNABLE, HomeError.INVITATION_NOT_PENDING]}

    queryset = Invitation.objects.all()
    serializer_class = InvitationSerializer
    action_roles = {"list": Role.ADMIN, "destroy": Role.ADMIN}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return invitations_open().in_home(self.home)

    def perform_destroy(self, instance):
        services.invitation_revoke(invitation=instance, actor_role=self.membership.role)


class MyInvitationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """`invitations`: the open invitations addressed to the caller's account email, to accept or decline.

    Until one is accepted the home stays invisible to its invitee; an invitation addressed to
    someone else is a 404.
    """

    error_codes = {
        "accept": [HomeError.INVITATION_EXPIRED, HomeError.INVITATION_NOT_PENDING, HomeError.ROLE_NOT_ASSIGNABLE],
        "decline": [HomeError.INVITATION_EXPIRED, HomeError.INVITATION_NOT_PENDING],
    }

    serializer_class = MyInvitationSerializer
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return invitations_addressed_to(self.request.user, open_only=self.action == "list")

    def get_object(self):
        parse_uuid(self.kwargs.get(self.lookup_field))
        return super().get_object()

    @extend_schema(request=None, responses={200: HomeSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, *args, **kwargs):
        membership = services.invitation_accept(invitation=self.get_object(), user=request.user)
        home = membership.home
        home.my_role = membership.role
        return Response(HomeSerializer(home).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def decline(self, request, *args, **kwargs):
        services.invitation_decline(invitation=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
