"""A teacher's Canvas tokens: saved encrypted, refreshed before they expire, and a Canvas client
that acts as the teacher (refreshing once more when Canvas rejects the token).

Tokens never leave this module in plain text except inside the client's Authorization header;
nothing here logs a token.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from sync.canvas import CanvasClient, CanvasError
from sync.canvas_oauth import CanvasOAuthClient, CanvasTokens
from teachers.crypto import TokenDecryptionError, token_decrypt, token_encrypt
from teachers.models import CanvasLogin

logger = logging.getLogger(__name__)

# Refresh a little before the expiry so that a page's several calls all use a valid token.
REFRESH_MARGIN = timedelta(minutes=1)
SIGN_IN_AGAIN = "Please sign in with Canvas again."


class CanvasSignInRequired(CanvasError):
    """The teacher's Canvas sign-in cannot be used any more: they must sign in with Canvas again.

    A ``CanvasError`` (kind ``auth``), so code that handles Canvas failures handles this too;
    pages that can, send the teacher to the sign-in page instead.
    """

    def __init__(self, message: str = "") -> None:
        text = message or f"Your Canvas sign-in has expired or was withdrawn. {SIGN_IN_AGAIN}"
        super().__init__(text, kind="auth", status=401)

    def __reduce__(self) -> tuple:
        return (CanvasSignInRequired, (str(self),))


def oauth_client() -> CanvasOAuthClient:
    """The token endpoint of the configured Canvas, with this application's developer key."""
    return CanvasOAuthClient(
        settings.CANVAS_BASE_URL,
        settings.CANVAS_OAUTH_CLIENT_ID,
        settings.CANVAS_OAUTH_CLIENT_SECRET,
        timeout=min(settings.CANVAS_TIMEOUT, 30.0),
    )


def canvas_login_save(
    *, user: AbstractBaseUser, person_id: int, tokens: CanvasTokens
) -> CanvasLogin:
    """Create or update the user's Canvas sign-in with freshly granted tokens (encrypted)."""
    with transaction.atomic():
        login, _ = CanvasLogin.objects.select_for_update().get_or_create(
            user=user, defaults={"person_id": person_id}
        )
        login.person_id = person_id
        login.access_token_encrypted = token_encrypt(tokens.access_token)
        if tokens.refresh_token:
            login.refresh_token_encrypted = token_encrypt(tokens.refresh_token)
        login.expires_at = tokens.expires_at
        login.save()
    return login


def access_token_fresh(login: CanvasLogin, *, now: datetime | None = None) -> str:
    """The login's access token, refreshed first when it expires within REFRESH_MARGIN."""
    now = now or timezone.now()
    if login.expires_at is not None and login.expires_at - now <= REFRESH_MARGIN:
        return canvas_login_refresh(login=login, now=now)
    token = _decrypted(login.access_token_encrypted)
    if not token:
        raise CanvasSignInRequired(f"You have not signed in with Canvas yet. {SIGN_IN_AGAIN}")
    return token


def canvas_login_refresh(
    *, login: CanvasLogin, rejected_token: str | None = None, now: datetime | None = None
) -> str:
    """A new access token from Canvas for the refresh token, saved (encrypted) and returned.

    Canvas replaces the grant's access token on every refresh, so two pages refreshing at once
    would void each other's token: the refresh holds the row lock, and a token another request
    saved meanwhile (fresh, and not the one Canvas just rejected) is used as it is.

    Raises CanvasSignInRequired when Canvas refuses the refresh token (revoked, or the key
    changed); a Canvas that cannot be reached stays a plain CanvasError (signing in again would
    not help).
    """
    now = now or timezone.now()
    with transaction.atomic():
        current = CanvasLogin.objects.select_for_update().filter(pk=login.pk).first()
        if current is None:  # the sign-in was deleted (e.g. by an admin)
            raise CanvasSignInRequired()
        stored = _decrypted(current.access_token_encrypted)
        fresh = current.expires_at is None or current.expires_at - now > REFRESH_MARGIN
        if stored and fresh and stored != rejected_token:
            login.access_token_encrypted = current.access_token_encrypted
            login.expires_at = current.expires_at
            return stored
        refresh_token = _decrypted(current.refresh_token_encrypted)
        if not refresh_token:
            raise CanvasSignInRequired()
        try:
            tokens = oauth_client().refresh(refresh_token=refresh_token, now=now)
        except CanvasError as exc:
            if exc.kind in ("auth", "bad_json") or (exc.status is not None and exc.status < 500):
                logger.info(
                    "Canvas refused to refresh the token of user %s: %s", login.user_id, exc
                )
                raise CanvasSignInRequired() from exc
            raise
        login.access_token_encrypted = token_encrypt(tokens.access_token)
        login.expires_at = tokens.expires_at
        fields = ["access_token_encrypted", "expires_at", "updated_at"]
        if tokens.refresh_token:  # Canvas keeps the old one valid; a new one replaces it
            login.refresh_token_encrypted = token_encrypt(tokens.refresh_token)
            fields.append("refresh_token_encrypted")
        login.save(update_fields=fields)
    return tokens.access_token


def _decrypted(cipher: str) -> str:
    try:
        return token_decrypt(cipher)
    except TokenDecryptionError as exc:
        raise CanvasSignInRequired(str(exc)) from exc


class TeacherCanvasClient(CanvasClient):
    """A CanvasClient acting as one teacher: a rejected token is refreshed once and retried."""

    def __init__(self, login: CanvasLogin, token: str, **options) -> None:
        super().__init__(settings.CANVAS_BASE_URL, token, **options)
        self.login = login

    def token_rejected(self, error: CanvasError, *, renewed: bool) -> str:
        if renewed:
            raise CanvasSignInRequired() from error
        return canvas_login_refresh(login=self.login, rejected_token=self._token)


def teacher_canvas_client(login: CanvasLogin) -> TeacherCanvasClient:
    """A client with the teacher's (fresh) token; CanvasSignInRequired when there is none."""
    return TeacherCanvasClient(
        login,
        access_token_fresh(login),
        timeout=settings.CANVAS_TIMEOUT,
        max_retries=min(settings.CANVAS_MAX_RETRIES, 3),
    )
