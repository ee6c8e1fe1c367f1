"""A self-contained HTML page documenting the API, rendered from its own OpenAPI schema.

Swagger UI and ReDoc load their assets from a CDN, which production hosts cannot reach; this page
needs no external asset: it lists every path, method, parameter and response straight from the
schema that ``/api/v1/schema/`` serves.
"""

from dataclasses import dataclass, field

from django.template import engines
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from rest_framework.renderers import StaticHTMLRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Parameter:
    name: str
    location: str
    type: str
    required: bool
    enum: list[str]
    description: str


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Parameter] = field(default_factory=list)
    responses: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Component:
    name: str
    properties: list[tuple[str, str, str]]


def _type_of(schema: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "allOf" in schema:
        return " & ".join(_type_of(part) for part in schema["allOf"])
    if "oneOf" in schema:
        return " | ".join(_type_of(part) for part in schema["oneOf"])
    kind = schema.get("type", "object")
    if kind == "array":
        kind = f"array of {_type_of(schema.get('items', {}))}"
    elif schema.get("format"):
        kind = f"{kind} ({schema['format']})"
    return f"{kind} or null" if schema.get("nullable") else kind


def _responses(responses: dict) -> list[tuple[str, str]]:
    out = []
    for status, response in responses.items():
        content = response.get("content", {}).get("application/json", {})
        shown = _type_of(content["schema"]) if "schema" in content else ""
        out.append((status, shown or response.get("description", "")))
    return out


def operations(schema: dict) -> list[Operation]:
    """Every operation of an OpenAPI 3 schema, in path order."""
    found = []
    for path, item in schema.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            parameters = [
                Parameter(
                    name=p["name"],
                    location=p["in"],
                    type=_type_of(p.get("schema", {})),
                    required=p.get("required", False),
                    enum=[str(v) for v in p.get("schema", {}).get("enum", [])],
                    description=p.get("description", ""),
                )
                for p in op.get("parameters", [])
            ]
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=op.get("summary", ""),
                    description=op.get("description", ""),
                    parameters=parameters,
                    responses=_responses(op.get("responses", {})),
                )
            )
    return found


def components(schema: dict) -> list[Component]:
    """The schema's named objects and their properties (name, type, description)."""
    return [
        Component(
            name=name,
            properties=[
                (prop, _type_of(spec), spec.get("description", ""))
                for prop, spec in definition.get("properties", {}).items()
            ],
        )
        for name, definition in schema.get("components", {}).get("schemas", {}).items()
        if definition.get("type", "object") == "object"
    ]


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ info.title }} — API documentation</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}
section.op{border:1px solid #ddd;border-radius:4px;padding:.5rem 1rem;margin:1rem 0}
.method{font-weight:bold;font-family:monospace;background:#eef;padding:.1rem .4rem}
code,.path{font-family:monospace}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f6f6}
</style></head><body>
<h1>{{ info.title }} <small>v{{ info.version }}</small></h1>
<p>{{ info.description }}</p>
<p>Machine-readable schema: <a href="{{ schema_url }}?format=json">OpenAPI JSON</a>,
<a href="{{ schema_url }}">OpenAPI YAML</a>.</p>
<h2>Authentication</h2>
<p>Every endpoint requires a staff account. Use your admin session (log in at
<a href="/admin/">/admin/</a>), or a token: an operator runs
<code>python manage.py drf_create_token &lt;username&gt;</code> and the client sends
<code>Authorization: Token &lt;key&gt;</code>.</p>
<h2>Endpoints</h2>
{% for op in operations %}
<section class="op" id="{{ op.method|lower }}-{{ op.path|slugify }}">
<h3><span class="method">{{ op.method }}</span> <span class="path">{{ op.path }}</span></h3>
{% if op.summary %}<p><strong>{{ op.summary }}</strong></p>{% endif %}
{% if op.description %}<p>{{ op.description|linebreaksbr }}</p>{% endif %}
{% if op.parameters %}
<table><thead><tr><th>Parameter</th><th>In</th><th>Type</th><th>Required</th>
<th>Values</th><th>Description</th></tr></thead><tbody>
{% for p in op.parameters %}
<tr><td><code>{{ p.name }}</code></td><td>{{ p.location }}</td><td>{{ p.type }}</td>
<td>{{ p.required|yesno:"yes,no" }}</td><td>{{ p.enum|join:", " }}</td>
<td>{{ p.description }}</td></tr>
{% endfor %}
</tbody></table>
{% endif %}
<table><thead><tr><th>Status</th><th>Response</th></tr></thead><tbody>
{% for status, shown in op.responses %}<tr><td>{{ status }}</td><td>{{ shown }}</td></tr>
{% endfor %}
</tbody></table>
</section>
{% endfor %}
<h2>Objects</h2>
{% for component in components %}
<section class="op"><h3 id="{{ component.name }}">{{ component.name }}</h3>
<table><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>
{% for name, type, description in component.properties %}
<tr><td><code>{{ name }}</code></td><td>{{ type }}</td><td>{{ description }}</td></tr>
{% endfor %}
</tbody></table></section>
{% endfor %}
</body></html>
"""


@extend_schema(exclude=True)
class ApiDocsView(APIView):
    """The API's documentation as one HTML page, built from the generated schema."""

    renderer_classes = [StaticHTMLRenderer]

    def get(self, request: Request) -> Response:
        schema = SchemaGenerator().get_schema(request=request, public=True)
        html = (
            engines["django"]
            .from_string(PAGE)
            .render(
                {
                    "info": schema.get("info", {}),
                    "schema_url": reverse("api:schema"),
                    "operations": operations(schema),
                    "components": components(schema),
                },
                request=None,
            )
        )
        return Response(html)
