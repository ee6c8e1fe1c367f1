"""Canvas-style pagination: per_page, opaque bookmark cursors and the `Link` header.

Cursors are keyset bookmarks (the last id served, like Canvas's `page=bookmark:...`), so a
page boundary stays put even if rows before it change between requests.
"""

import base64
import binascii
import json
from bisect import bisect_right
from urllib.parse import quote

DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100
FIRST_PAGE = "first"
BOOKMARK_PREFIX = "bookmark:"


class BadPage(ValueError):
    """The page parameter is not a cursor this server issued."""


def per_page(params: list[tuple[str, str]]) -> int:
    value = next((v for k, v in params if k == "per_page"), "")
    try:
        size = int(value)
    except ValueError:
        return DEFAULT_PER_PAGE
    return DEFAULT_PER_PAGE if size < 1 else min(size, MAX_PER_PAGE)


def encode_cursor(last_key: int) -> str:
    raw = json.dumps([last_key], separators=(",", ":")).encode()
    return BOOKMARK_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(page: str | None) -> int | None:
    """The last key of the previous page, or None for the first page."""
    if page is None or page in (FIRST_PAGE, "1"):
        return None
    if not page.startswith(BOOKMARK_PREFIX):
        raise BadPage(page)
    token = page[len(BOOKMARK_PREFIX) :]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError) as error:
        raise BadPage(page) from error
    if not (isinstance(decoded, list) and len(decoded) == 1 and isinstance(decoded[0], int)):
        raise BadPage(page)
    return decoded[0]


def slice_after(
    rows: list[dict], keys: list[int], after: int | None, size: int
) -> tuple[list[dict], int | None, bool]:
    """(page rows, last key on the page, whether more follow) for rows sorted by key."""
    start = 0 if after is None else bisect_right(keys, after)
    end = start + size
    last = keys[min(end, len(keys)) - 1] if start < len(keys) else None
    return rows[start:end], last, end < len(keys)


def link_header(origin: str, path: str, query: str, current: str, next_page: str | None) -> str:
    """Links keep the original query string as sent (every parameter, same encoding);
    only `page` changes."""
    kept = "&".join(part for part in query.split("&") if part and not part.startswith("page="))
    prefix = f"<{origin}{path}?{kept}&page=" if kept else f"<{origin}{path}?page="
    links = [f'{prefix}{quote(current, safe=":")}>; rel="current"']
    if next_page is not None:
        links.append(f'{prefix}{next_page}>; rel="next"')
    links.append(f'{prefix}{FIRST_PAGE}>; rel="first"')
    return ",".join(links)
