"""Helper for sandbox tests: read a paginated Canvas list the way the importer must."""

import requests


def read_all(client: requests.Session, url: str, params=None) -> tuple[list, int]:
    """Follows rel="next" verbatim; returns (every item, number of requests)."""
    items: list = []
    response = client.get(url, params=params, timeout=10)
    requests_made = 1
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["enrollment_terms"] if isinstance(body, dict) else body
        following = response.links.get("next")
        if following is None:
            return items, requests_made
        response = client.get(following["url"], timeout=10)
        requests_made += 1
