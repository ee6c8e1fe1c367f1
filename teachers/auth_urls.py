"""Sign-in routes: Canvas OAuth2 for teachers, a Django account for staff."""

from django.urls import path

from teachers import auth_views

urlpatterns = [
    path("login/", auth_views.login_view, name="login"),
    path("login/canvas/", auth_views.oauth_start, name="oauth_start"),
    path("login/canvas/callback/", auth_views.oauth_callback, name="oauth_callback"),
    path("logout/", auth_views.logout_view, name="logout"),
]
