"""Canvas OAuth2 for the sandbox: one developer key, the sign-in page, codes and user tokens.

Behaves as Canvas's authorization code flow does (developerdocs.instructure.com, "OAuth2
Endpoints"; canvas-lms lib/canvas/oauth/*): codes are single use and live 10 minutes, access
tokens live an hour, a refresh replaces the access token of its grant (the refresh token stays),
and errors are Canvas's ``{"error", "error_description"}`` pairs. State lives in memory for the
server's lifetime.

GET  /login/oauth2/auth     the sign-in page (pick a sandbox teacher); bad client -> error page
POST /login/oauth2/accept   sign in as the chosen user: redirect with ?code=&state=
POST /login/oauth2/deny     cancel: redirect with ?error=access_denied&state=
POST /login/oauth2/token    grant_type=authorization_code | refresh_token
"""

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sandbox import oauth_page
from sandbox.generator import District
from sandbox.layout import STUDENT_LOCAL_BASE, USER_ID_BASE

# The sandbox's developer key; gpbsite/settings.py uses the same values by default.
SANDBOX_CLIENT_ID = "10000000000001"
SANDBOX_CLIENT_SECRET = "sandbox-developer-key"
# Canvas matches the redirect URI's domain against the key's; the sandbox key knows these hosts.
SANDBOX_REDIRECT_HOSTS = ("127.0.0.1", "localhost", "testserver")
ADMIN_USER = {"id": 1, "name": "Sandbox District Admin", "sortable_name": "Admin, Sandbox"}
CODE_TTL = 600.0
JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

Response = tuple[int, list[tuple[str, str]], bytes]

ERRORS = {  # Canvas's RequestError map: (status, error, error_description)
    "unknown_client": (401, "invalid_client", "unknown client"),
    "bad_secret": (401, "invalid_client", "invalid client"),
    "bad_redirect": (400, "invalid_request", "redirect_uri does not match client settings"),
    "no_code": (
        400,
        "invalid_request",
        "You must provide the code parameter when using the authorization_code grant type",
    ),
    "bad_code": (400, "invalid_grant", "authorization_code not found"),
    "wrong_client": (400, "invalid_grant", "incorrect client"),
    "no_refresh": (
        400,
        "invalid_request",
        "You must provide the refresh_token parameter when using the refresh_token grant type",
    ),
    "bad_refresh": (400, "invalid_request", "refresh_token not found"),
    "bad_grant_type": (
        400,
        "unsupported_grant_type",
        "The grant_type you requested is not currently supported",
    ),
}


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a valid Bearer token acts as: the district admin (user_id None) or one user."""

    user_id: int | None

    @property
    def is_admin(self) -> bool:
        return self.user_id is None


@dataclass(slots=True)
class _Grant:
    user_id: int
    access_token: str
    refresh_token: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class _Code:
    user_id: int
    redirect_uri: str
    expires_at: float


class OAuthProvider:
    """The sandbox Canvas's OAuth2 side. Thread-safe."""

    def __init__(
        self,
        district: District,
        *,
        client_id: str = SANDBOX_CLIENT_ID,
        client_secret: str = SANDBOX_CLIENT_SECRET,
        redirect_hosts: tuple[str, ...] = SANDBOX_REDIRECT_HOSTS,
        token_ttl: float = 3600.0,
        code_ttl: float = CODE_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.district = district
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_hosts = tuple(host.lower() for host in redirect_hosts)
        self.token_ttl = token_ttl
        self.code_ttl = code_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._by_access: dict[str, _Grant] = {}
        self._by_refresh: dict[str, _Grant] = {}

    # --- who is calling ------------------------------------------------------------------------

    def caller(self, token: str | None) -> Caller | None:
        """The user of a token granted here, or None when it is unknown or expired."""
        if not token:
            return None
        with self._lock:
            grant = self._by_access.get(token)
            if grant is None or grant.expires_at <= self._clock():
                return None
            return Caller(grant.user_id)

    def user_json(self, caller: Caller) -> dict:
        """GET /api/v1/users/self in Canvas's User shape."""
        if caller.is_admin:
            user = {**ADMIN_USER, "sis_user_id": None, "login_id": "sandbox-admin"}
        else:
            user = self.district.layout.user(caller.user_id)
        last, _, first = user["sortable_name"].partition(", ")
        return {
            "id": user["id"],
            "name": user["name"],
            "created_at": "2020-07-01T12:00:00Z",
            "sortable_name": user["sortable_name"],
            "short_name": user["name"],
            "first_name": first,
            "last_name": last,
            "sis_user_id": user.get("sis_user_id"),
            "login_id": user.get("login_id"),
            "avatar_url": f"{self.district.base_url}/images/messages/avatar-50.png",
            "locale": None,
            "effective_locale": "en",
            "permissions": {"can_update_name": False, "can_update_avatar": False},
        }

    def is_user(self, user_id: int) -> bool:
        """A teacher or student of the district (the sign-in page offers teachers only)."""
        layout = self.district.layout
        school, local = divmod(user_id - USER_ID_BASE, 10_000)
        if user_id < USER_ID_BASE or not 0 <= school < layout.size.schools:
            return False
        if local < STUDENT_LOCAL_BASE:
            return local < layout.teacher_count(school)
        return local - STUDENT_LOCAL_BASE < layout.student_pool(school)

    def teachers(self) -> list[dict]:
        """Every teacher of the district (name, login), ordered by sortable name."""
        layout = self.district.layout
        rows = []
        for school in range(layout.size.schools):
            for local in range(layout.teacher_count(school)):
                rows.append(layout.user(layout.user_id(school, local)))
        return sorted(rows, key=lambda row: (row["sortable_name"], row["id"]))

    # --- test and demo controls ----------------------------------------------------------------

    def expire_access_tokens(self) -> int:
        """Every user access token expires now (refresh tokens stay valid); returns how many."""
        with self._lock:
            now = self._clock()
            for grant in self._by_access.values():
                grant.expires_at = now
            return len(self._by_access)

    def revoke_all(self) -> int:
        """Forget every user grant: their access and refresh tokens stop working."""
        with self._lock:
            count = len(self._by_refresh)
            self._by_access.clear()
            self._by_refresh.clear()
            self._codes.clear()
            return count

    # --- HTTP ----------------------------------------------------------------------------------

    def respond(self, method: str, path: str, query: str, body: bytes, ctype: str) -> Response:
        action = path.removeprefix("/login/oauth2/").strip("/")
        params = dict(parse_qsl(query, keep_blank_values=True))
        if action == "auth" and method == "GET":
            return self._authorize_page(params)
        if action in ("accept", "deny", "token") and method == "POST":
            form = {**params, **_form(body, ctype)}
            if action == "token":
                return self._token(form)
            return self._decide(form, accept=action == "accept")
        return 405, [("Content-Type", JSON_TYPE)], b'{"errors":[{"message":"Not allowed"}]}'

    def _authorize_page(self, params: dict) -> Response:
        problem = self._client_problem(params)
        if problem is not None:
            return _error_page(problem)
        if params.get("response_type") != "code":
            return _redirect(
                params["redirect_uri"],
                {"error": "unsupported_response_type", "state": params.get("state", "")},
            )
        search = params.get("search", "").strip()
        teachers = self.teachers()
        if search:
            words = search.lower().split()
            teachers = [
                row
                for row in teachers
                if all(w in f"{row['name']} {row['login_id']}".lower() for w in words)
            ]
        html = oauth_page.sign_in_page(params, search, teachers[:25], total=len(teachers))
        return 200, [("Content-Type", HTML_TYPE), ("Cache-Control", "no-store")], html

    def _decide(self, form: dict, *, accept: bool) -> Response:
        problem = self._client_problem(form)
        if problem is not None:
            return _error_page(problem)
        state = form.get("state", "")
        if not accept:
            return _redirect(form["redirect_uri"], {"error": "access_denied", "state": state})
        try:
            user_id = int(form.get("user_id", ""))
        except ValueError:
            user_id = 0
        if not self.is_user(user_id):
            return _error_page("unknown_user")
        code = secrets.token_hex(64)
        with self._lock:
            self._forget_stale_codes()
            self._codes[code] = _Code(user_id, form["redirect_uri"], self._clock() + self.code_ttl)
        return _redirect(form["redirect_uri"], {"code": code, "state": state})

    def _client_problem(self, params: dict) -> str | None:
        if params.get("client_id") != self.client_id:
            return "unknown_client"
        if not self._redirect_allowed(params.get("redirect_uri", "")):
            return "bad_redirect"
        return None

    def _redirect_allowed(self, uri: str) -> bool:
        parts = urlsplit(uri)
        host = (parts.hostname or "").lower()
        return parts.scheme in ("http", "https") and any(
            host == allowed or host.endswith("." + allowed) for allowed in self.redirect_hosts
        )

    def _token(self, form: dict) -> Response:
        if form.get("client_id") != self.client_id:
            return _grant_error("unknown_client")
        if not secrets.compare_digest(
            str(form.get("client_secret", "")).encode(), self.client_secret.encode()
        ):
            return _grant_error("bad_secret")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._code_grant(form)
        if grant_type == "refresh_token":
            return self._refresh_grant(form)
        return _grant_error("bad_grant_type")

    def _code_grant(self, form: dict) -> Response:
        code = form.get("code")
        if not code:
            return _grant_error("no_code")
        with self._lock:
            # Single use: taken out whether or not what follows succeeds.
            entry = self._codes.pop(code, None)
            if entry is None or entry.expires_at <= self._clock():
                return _grant_error("bad_code")
            if form.get("redirect_uri", entry.redirect_uri) != entry.redirect_uri:
                return _grant_error("bad_redirect")
            grant = _Grant(entry.user_id, _new_token(), _new_token(), self._expiry())
            self._by_access[grant.access_token] = grant
            self._by_refresh[grant.refresh_token] = grant
        return self._token_answer(grant, with_refresh=True)

    def _refresh_grant(self, form: dict) -> Response:
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            return _grant_error("no_refresh")
        with self._lock:
            grant = self._by_refresh.get(refresh_token)
            if grant is None:
                return _grant_error("bad_refresh")
            # Canvas regenerates the grant's access token: the previous one stops working.
            self._by_access.pop(grant.access_token, None)
            grant.access_token, grant.expires_at = _new_token(), self._expiry()
            self._by_access[grant.access_token] = grant
        return self._token_answer(grant, with_refresh=False)

    def _token_answer(self, grant: _Grant, *, with_refresh: bool) -> Response:
        user = self.district.layout.user(grant.user_id)
        answer: dict = {
            "access_token": grant.access_token,
            "token_type": "Bearer",
            "user": {"id": user["id"], "name": user["name"], "effective_locale": "en"},
            "canvas_region": "sandbox",
        }
        if with_refresh:
            answer["refresh_token"] = grant.refresh_token
        answer["expires_in"] = round(grant.expires_at - self._clock())
        headers = [("Content-Type", JSON_TYPE), ("Cache-Control", "no-store")]
        return 200, headers, json.dumps(answer).encode()

    def _expiry(self) -> float:
        return self._clock() + self.token_ttl

    def _forget_stale_codes(self) -> None:
        now = self._clock()
        for code in [c for c, entry in self._codes.items() if entry.expires_at <= now]:
            del self._codes[code]


def _new_token() -> str:
    # Canvas tokens look like "<shard>~<64 characters>".
    return f"1~{secrets.token_urlsafe(48)}"


def _form(body: bytes, ctype: str) -> dict:
    if not body:
        return {}
    if ctype.split(";")[0].strip().lower() == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            return {}
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _redirect(uri: str, extra: dict) -> Response:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(extra.items())
    location = urlunsplit(parts._replace(query=urlencode(query)))
    return 302, [("Location", location), ("Content-Type", HTML_TYPE)], b""


def _grant_error(kind: str) -> Response:
    status, error, description = ERRORS[kind]
    body = json.dumps({"error": error, "error_description": description}).encode()
    return status, [("Content-Type", JSON_TYPE), ("Cache-Control", "no-store")], body


def _error_page(kind: str) -> Response:
    if kind == "unknown_user":
        status, error, description = 400, "invalid_request", "unknown user"
    else:
        status, error, description = ERRORS[kind]
    return status, [("Content-Type", HTML_TYPE)], oauth_page.error_page(error, description)
