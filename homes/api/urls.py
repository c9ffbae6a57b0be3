from django.urls import re_path

from veahome.routers import HOME, OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register(r"homes", views.HomeViewSet, basename="home")
router.register(rf"{HOME}/rooms", views.RoomViewSet, basename="room")
router.register(rf"{HOME}/members", views.MemberViewSet, basename="member")
router.register(rf"{HOME}/invitations", views.HomeInvitationViewSet, basename="home-invitation")
router.register(r"invitations", views.MyInvitationViewSet, basename="invitation")

urlpatterns = [
    re_path(r"^auth/register/?$", views.RegisterView.as_view(), name="auth-register"),
    re_path(r"^auth/login/?$", views.LoginView.as_view(), name="auth-login"),
    re_path(r"^auth/me/?$", views.MeView.as_view(), name="auth-me"),
    re_path(r"^auth/refresh/?$", views.RefreshView.as_view(), name="auth-refresh"),
    re_path(r"^auth/logout/?$", views.LogoutView.as_view(), name="auth-logout"),
    re_path(r"^auth/logout-all/?$", views.LogoutAllView.as_view(), name="auth-logout-all"),
    re_path(r"^auth/password/?$", views.PasswordView.as_view(), name="auth-password"),
    *router.urls,
]
