"""`gpb_report` on the imported `small` sandbox lists every kind of violation it seeds."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from sandbox.generator import District
from sandbox.server import SandboxServer
from sync import rules
from sync.canvas import CanvasClient
from sync.importer import district_import

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_report_on_the_small_sandbox_lists_every_seeded_kind_of_violation(settings):
    with SandboxServer(District("small", seed=0)) as server:
        settings.SIS_BASE_URL = server.sis_base_url
        settings.SIS_TOKEN_URL = server.sis_token_url
        settings.SIS_CLIENT_ID, settings.SIS_CLIENT_SECRET = "sandbox-client", "sandbox-secret"
        client = CanvasClient(server.url, "sandbox-token", timeout=5)
        run = district_import(client=client, full=True, concurrency=2)
    assert run.status == "succeeded", run.message

    out = StringIO()
    call_command("gpb_report", "--format", "json", "--all-severities", stdout=out)
    items = json.loads(out.getvalue())

    assert {item["rule"] for item in items} == set(rules.RULES)
    default = StringIO()
    call_command("gpb_report", stdout=default)
    assert {i["severity"] for i in json.loads(default.getvalue())} == {"blocking", "warning"}
