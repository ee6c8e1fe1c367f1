"""Sign-in views: the sign-in page, the Canvas OAuth2 start and callback, and sign-out."""

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from teachers.auth_forms import StaffSignInForm
from teachers.signin import SignInProblem, canvas_signin_finish, canvas_signin_start

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = StaffSignInForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        auth_login(request, form.user)
        return HttpResponseRedirect(next_url or _home_url())
    return render(request, "teachers/login.html", {"form": form, "next": next_url})


@never_cache
@require_http_methods(["GET", "POST"])
def oauth_start(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    authorize_url = canvas_signin_start(
        session=request.session, redirect_uri=_callback_url(request), next_url=next_url
    )
    return HttpResponseRedirect(authorize_url)


@never_cache
@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    try:
        signed_in = canvas_signin_finish(
            session=request.session, query=request.GET, redirect_uri=_callback_url(request)
        )
    except SignInProblem as problem:
        context = {"title": problem.title, "message": problem.message}
        return render(request, "teachers/signin_problem.html", context, status=problem.status)
    auth_login(request, signed_in.user, backend=MODEL_BACKEND)
    return HttpResponseRedirect(_safe_next(request, signed_in.next_url) or _home_url())


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.info(request, "You are signed out.")
    return HttpResponseRedirect(reverse("teachers:login"))


def _callback_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("teachers:oauth_callback"))


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _home_url() -> str:
    try:
        return reverse("teachers:home")
    except NoReverseMatch:  # the sync pages are not mounted (yet)
        return reverse("teachers:login")
