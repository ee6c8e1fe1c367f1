"""The HTML of the sandbox's Canvas sign-in page (server-rendered, no external assets)."""

from html import escape

_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f5f5f5;color:#2d3b45}
main{max-width:38rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:6px;
box-shadow:0 1px 3px rgba(0,0,0,.2)}
h1{font-size:1.4rem;margin-top:0}ul{list-style:none;padding:0}
li{display:flex;justify-content:space-between;align-items:center;padding:.4rem 0;
border-bottom:1px solid #e5e5e5}
li small{color:#5b6b76}form{margin:0}
button{font:inherit;padding:.35rem .9rem;cursor:pointer;border:1px solid #c7cdd1;
border-radius:4px;background:#f5f5f5}
button.primary{background:#0374b5;color:#fff;border-color:#0374b5}
input[type=search]{font:inherit;padding:.35rem;width:60%}
:focus-visible{outline:3px solid #f5b400;outline-offset:2px}
"""


def sign_in_page(params: dict, search: str, teachers: list[dict], *, total: int) -> bytes:
    """Pick a sandbox teacher (search by name), or cancel."""
    hidden = _hidden(params, ("client_id", "response_type", "redirect_uri", "state"))
    rows = "".join(
        f"<li><span>{escape(t['name'])}<br><small>{escape(t['login_id'])} · Canvas user "
        f"{t['id']}</small></span>"
        f'<form method="post" action="/login/oauth2/accept">{hidden}'
        f'<input type="hidden" name="user_id" value="{t["id"]}">'
        f'<button class="primary" type="submit" aria-label="Sign in as {escape(t["name"])}">'
        f"Sign in</button></form></li>"
        for t in teachers
    )
    if not teachers:
        rows = "<li>No teacher matches that search.</li>"
    shown = f"Showing {len(teachers)} of {total} teachers" if total > len(teachers) else ""
    body = f"""
<h1>Sign in to the Canvas sandbox</h1>
<p>An application (developer key {escape(params.get("client_id", ""))}) wants to use your
Canvas account. Choose the sandbox teacher to sign in as.</p>
<form method="get" action="/login/oauth2/auth" role="search">{hidden}
<label for="search">Find a teacher by name</label><br>
<input id="search" type="search" name="search" value="{escape(search)}" autofocus>
<button type="submit">Search</button></form>
<p>{shown}</p>
<ul aria-label="Sandbox teachers">{rows}</ul>
<form method="post" action="/login/oauth2/deny">{
        _hidden(params, ("client_id", "redirect_uri", "state"))
    }<button type="submit">Cancel</button></form>"""
    return _page("Sign in to the Canvas sandbox", body)


def error_page(error: str, description: str) -> bytes:
    body = (
        "<h1>Canvas sandbox: sign-in error</h1>"
        f'<p role="alert"><strong>{escape(error)}</strong>: {escape(description)}</p>'
        "<p>The application that sent you here is not set up for this Canvas. Tell its "
        "administrator.</p>"
    )
    return _page("Sign-in error", body)


def _hidden(params: dict, names: tuple[str, ...]) -> str:
    return "".join(
        f'<input type="hidden" name="{name}" value="{escape(params.get(name, ""))}">'
        for name in names
    )


def _page(title: str, body: str) -> bytes:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    ).encode()
