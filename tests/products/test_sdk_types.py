"""The SDK's TypedDicts (clients/python/src/aza8_hub/_schema.py) are generated from the hub's OpenAPI
schema by clients/python/codegen.py: stale after any change to what the SDK's operations send or
answer until it is rerun."""

import importlib.util
import json

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from tests.runtime import PROJECT

CODEGEN = PROJECT / "clients" / "python" / "codegen.py"


def _codegen():
    spec = importlib.util.spec_from_file_location("sdk_codegen", CODEGEN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _schema() -> dict:
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def test_the_sdks_types_are_generated_from_the_current_schema():
    codegen = _codegen()
    assert codegen.TARGET.read_text() == codegen.generate(_schema()), (
        "run: .venv/bin/python manage.py spectacular --format openapi-json --file /tmp/openapi.json && "
        ".venv/bin/python clients/python/codegen.py /tmp/openapi.json")


def test_a_changed_component_is_seen():
    codegen = _codegen()
    schema = _schema()
    name = next(iter(codegen.used_components(schema)))
    schema["components"]["schemas"][name].setdefault("properties", {})["addedByTheTest"] = {"type": "string"}
    assert "addedByTheTest" in codegen.generate(schema)
