"""Check what we send (and the payloads we build for tests) against a provider's FULL OpenAPI
document: the operation's request-body schema with every `$ref` resolved (OpenAPI 3.0 and 3.1
dialects via openapi-schema-validator), plus — where the document leaves objects open, as 3.0
documents usually do — a check that no property is sent that the schema does not name, so a
misspelt field fails instead of being silently ignored by the provider.

    doc = openapi_document(CONTRACTS / "retell-openapi.yaml")
    recorder = RequestRecorder()           # an httpx event hook; real HTTP still goes out
    client = httpx.AsyncClient(event_hooks={"request": [recorder.hook]})
    ... adapter calls through `client` ...
    doc.assert_valid_requests(recorder.requests)

Two readings of the documents are ours, and only these: a `pattern` written with JavaScript
regex delimiters ("/^[a-z]+$/", as Vapi's generator emits them) is read without the slashes —
read literally, no value could ever match; and a `oneOf` whose branches are all plain
scalars of one type, one of them unconstrained (Vapi's "a preset voice id, or any voice id":
`oneOf: [{type: string, enum: [...]}, {type: string}]`), is read as `anyOf`. Read literally,
every preset value would be invalid (it matches both branches), which is plainly not what the
document means; every other keyword is applied as written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import yaml
from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

DOC_URI = "urn:switchboard:openapi"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


class ContractViolation(AssertionError):
    pass


@dataclass
class RecordedRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return unquote(urlsplit(self.url).path)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass
class RequestRecorder:
    """An httpx request event hook that keeps a copy of every request (method, URL, headers,
    body); the request itself proceeds unchanged."""

    requests: list[RecordedRequest] = field(default_factory=list)

    async def hook(self, request: httpx.Request) -> None:
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = await request.aread()
        self.requests.append(RecordedRequest(request.method, str(request.url), {k.lower(): v for k, v in request.headers.items()}, body))

    def sync_hook(self, request: httpx.Request) -> None:
        self.requests.append(RecordedRequest(request.method, str(request.url), {k.lower(): v for k, v in request.headers.items()}, request.content))

    def clear(self) -> None:
        self.requests.clear()

    def find(self, method: str, path_suffix: str) -> RecordedRequest:
        for r in self.requests:
            if r.method == method.upper() and r.path.endswith(path_suffix):
                return r
        raise AssertionError(f"no {method} …{path_suffix} among {[f'{r.method} {r.path}' for r in self.requests]}")


_SCALAR_KEYS = {"type", "enum", "title", "description", "format", "example", "examples", "pattern", "minLength", "maxLength", "default", "nullable"}


def _preset_or_any(node: Any) -> Any:
    """Rewrite the "preset or any value" `oneOf` idiom to `anyOf`, and strip JavaScript regex
    delimiters from patterns (see the module docstring)."""
    if isinstance(node, dict):
        pattern = node.get("pattern")
        if isinstance(pattern, str) and len(pattern) > 2 and pattern.startswith("/") and pattern.endswith("/"):
            node = {**node, "pattern": pattern[1:-1]}
        branches = node.get("oneOf")
        if (
            isinstance(branches, list) and len(branches) > 1
            and all(isinstance(b, dict) and b and set(b) <= _SCALAR_KEYS and b.get("type") not in (None, "object", "array") for b in branches)
            and len({b.get("type") for b in branches}) == 1
            and any(not (set(b) & {"enum", "format", "pattern", "minLength", "maxLength"}) for b in branches)
        ):
            node = {**node, "anyOf": node["oneOf"]}
            del node["oneOf"]
        return {k: _preset_or_any(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_preset_or_any(v) for v in node]
    return node


class OpenAPIDocument:
    def __init__(self, path: Path, document: dict[str, Any]):
        self.path = path
        document = _preset_or_any(document)
        self.doc = document
        self.version = str(document.get("openapi", "3.0"))
        self.is_31 = self.version.startswith("3.1")
        spec = DRAFT202012 if self.is_31 else DRAFT4
        self.registry: Registry = Registry().with_resource(DOC_URI, Resource.from_contents(document, default_specification=spec))
        self.resolver = self.registry.resolver(DOC_URI)
        self.validator_cls = OAS31Validator if self.is_31 else OAS30Validator
        self._operations: list[tuple[str, re.Pattern[str], str, dict[str, Any]]] = []
        for template, item in (document.get("paths") or {}).items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "/?$")
            for method, op in item.items():
                if method in METHODS:
                    self._operations.append((method.upper(), pattern, template, op))
        # literal paths before templated ones ("/calls/search" before "/calls/{id}")
        self._operations.sort(key=lambda o: o[2].count("{"))

    # --- lookup -------------------------------------------------------------------------------
    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        for m, pattern, template, op in self._operations:
            if m == method.upper() and pattern.match(path):
                return template, op
        raise ContractViolation(f"{self.path.name}: no operation {method.upper()} {path}")

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 50:
            ref = schema["$ref"]
            schema = self.resolver.lookup(ref if not ref.startswith("#") else DOC_URI + ref).contents
            seen += 1
        return schema

    def schema_ref(self, pointer: str) -> dict[str, Any]:
        return {"$ref": f"{DOC_URI}#{pointer}"}

    def component(self, name: str) -> dict[str, Any]:
        return self.schema_ref("/components/schemas/" + name.replace("~", "~0").replace("/", "~1"))

    # --- validation ---------------------------------------------------------------------------
    def errors(self, schema: dict[str, Any], instance: Any, *, strict: bool = True) -> list[str]:
        validator = self.validator_cls(schema, registry=self.registry)
        problems = [f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}" for e in validator.iter_errors(instance)]
        if not problems:
            deepest = None
        else:
            deepest = best_match(validator.iter_errors(instance))
            if deepest is not None:
                problems.insert(0, f"best match: {'/'.join(map(str, deepest.absolute_path)) or '<body>'}: {deepest.message}")
        if strict and not problems:
            problems += [f"{p}: property not in the schema" for p in self.unknown_properties(schema, instance)]
        return problems

    def validate(self, schema: dict[str, Any], instance: Any, *, what: str = "payload", strict: bool = True) -> None:
        problems = self.errors(schema, instance, strict=strict)
        if problems:
            raise ContractViolation(f"{self.path.name}: {what} breaks the schema:\n  " + "\n  ".join(problems[:12]))

    def validate_component(self, name: str, instance: Any, *, strict: bool = True) -> None:
        self.validate(self.component(name), instance, what=name, strict=strict)

    def request_errors(self, request: RecordedRequest) -> list[str]:
        template, op = self.operation(request.method, request.path)
        body_spec = op.get("requestBody")
        if body_spec is None:
            return [] if not request.body else [f"{request.method} {template} takes no body but one was sent"]
        body_spec = self.resolve(body_spec)
        content = body_spec.get("content") or {}
        if not request.body:
            return [f"{request.method} {template}: the request body is required"] if body_spec.get("required") else []
        ctype = request.content_type or "application/json"
        if ctype not in content:
            return [f"{request.method} {template}: content type {ctype} not accepted (document: {sorted(content)})"]
        pointer = "/paths/" + template.replace("~", "~0").replace("/", "~1") + f"/{request.method.lower()}/requestBody/content/" + ctype.replace("/", "~1") + "/schema"
        if "$ref" in op["requestBody"]:  # a shared #/components/requestBodies/… entry
            pointer = op["requestBody"]["$ref"].lstrip("#") + "/content/" + ctype.replace("/", "~1") + "/schema"
        schema = self.schema_ref(pointer)
        if ctype == "application/json":
            try:
                instance = request.json()
            except json.JSONDecodeError as exc:
                return [f"{request.method} {template}: body is not JSON ({exc})"]
        elif ctype == "application/x-www-form-urlencoded":
            instance = self.coerce_form(schema, parse_qsl(request.body.decode(), keep_blank_values=True))
        else:
            return []
        return [f"{request.method} {template}: {p}" for p in self.errors(schema, instance)]

    def assert_valid_requests(self, requests: list[RecordedRequest]) -> None:
        if not requests:
            raise ContractViolation("no request was recorded")
        problems = [p for r in requests for p in self.request_errors(r)]
        if problems:
            raise ContractViolation(f"{self.path.name}: requests break the provider's schema:\n  " + "\n  ".join(problems[:20]))

    # --- helpers ------------------------------------------------------------------------------
    def _all_branches(self, schema: Any, depth: int = 0) -> list[dict[str, Any]]:
        schema = self.resolve(schema)
        if not isinstance(schema, dict) or depth > 20:
            return []
        out = [schema]
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(key) or []:
                out += self._all_branches(sub, depth + 1)
        return out

    def unknown_properties(self, schema: Any, instance: Any, path: str = "", depth: int = 0) -> list[str]:
        """Properties the instance carries that no branch of the schema names, where the schema
        names its properties and does not declare others allowed (additionalProperties,
        patternProperties). Recurses into named properties and array items."""
        if depth > 30:
            return []
        branches = self._all_branches(schema)
        if isinstance(instance, dict):
            named: dict[str, list[Any]] = {}
            open_ = not any("properties" in b for b in branches)
            for b in branches:
                for k, v in (b.get("properties") or {}).items():
                    named.setdefault(k, []).append(v)
                extra = b.get("additionalProperties", None)
                if b.get("patternProperties") or (extra not in (None, False)) or b.get("unevaluatedProperties") not in (None, False, {"not": {}}):
                    open_ = True
            out = []
            for key, value in instance.items():
                if key in named:  # every branch's schema for the key counts
                    out += self.unknown_properties({"anyOf": named[key]}, value, f"{path}/{key}", depth + 1)
                elif not open_:
                    out.append(f"{path}/{key}")
            return out
        if isinstance(instance, list):
            items = [b.get("items") for b in branches if b.get("items")]
            out = []
            if items:
                for i, value in enumerate(instance):
                    out += self.unknown_properties({"anyOf": items}, value, f"{path}/{i}", depth + 1)
            return out
        return []

    def coerce_form(self, schema: dict[str, Any], pairs: list[tuple[str, str]]) -> dict[str, Any]:
        """Form fields are strings on the wire; type them as the schema says before validating."""
        props: dict[str, Any] = {}
        for b in self._all_branches(schema):
            props.update(b.get("properties") or {})
        out: dict[str, Any] = {}
        for key, raw in pairs:
            types = {self.resolve(b).get("type") for b in self._all_branches(props.get(key, {}))} - {None}
            value: Any = raw
            if "boolean" in types and raw.lower() in ("true", "false"):
                value = raw.lower() == "true"
            elif "integer" in types and re.fullmatch(r"-?\d+", raw):
                value = int(raw)
            elif "number" in types and re.fullmatch(r"-?\d+(\.\d+)?", raw):
                value = float(raw)
            if "array" in types:
                out.setdefault(key, []).append(value)
            else:
                out[key] = value
        return out


@lru_cache(maxsize=None)
def openapi_document(path: Path | str) -> OpenAPIDocument:
    path = Path(path)
    text = path.read_text()
    if path.suffix == ".json":
        document = json.loads(text)
    else:
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return OpenAPIDocument(path, document)
