"""JSON Schema -> the Live API's ``parameters`` (the OpenAPI ``Schema`` subset, google-genai
``types.Schema``).

Live has been reported to ignore the JSON-schema field and call tools with empty arguments
(LIVE_FACTS "Tools"; googleapis/python-genai #1147, livekit/agents #2940): every tool is
declared with ``parameters``. The subset has no ``$ref``/``$defs``, ``additionalProperties`` or
``const``, so references are inlined (a cycle cannot be, and is refused), ``const`` becomes a
one-value enum, a ``null`` alternative (``oneOf``/``anyOf``/``type: [..., "null"]``) becomes
``nullable``, enums are string enums (other values go to the description), and keywords the
subset lacks are dropped. What cannot be said is a ``SchemaError`` naming the place and why.
"""

from __future__ import annotations

from typing import Any

from google.genai import types

_TYPES = {
    "string": types.Type.STRING,
    "number": types.Type.NUMBER,
    "integer": types.Type.INTEGER,
    "boolean": types.Type.BOOLEAN,
    "array": types.Type.ARRAY,
    "object": types.Type.OBJECT,
}
# JSON Schema keyword -> Schema field, copied as they are
_COPIED = {
    "description": "description",
    "format": "format",
    "pattern": "pattern",
    "minimum": "minimum",
    "maximum": "maximum",
    "minItems": "min_items",
    "maxItems": "max_items",
    "minLength": "min_length",
    "maxLength": "max_length",
}
_INTS = ("min_items", "max_items", "min_length", "max_length")


class SchemaError(ValueError):
    """A JSON Schema the Live ``parameters`` subset cannot express (the message says where)."""


def to_parameters(schema: dict[str, Any] | None) -> types.Schema | None:
    """The ``parameters`` of a declaration for a tool's JSON Schema (None: no arguments)."""
    if not schema:
        return None
    if not isinstance(schema, dict):
        raise SchemaError("the parameters are not a JSON Schema object")
    defs = {**_table(schema.get("definitions")), **_table(schema.get("$defs"))}
    top = dict(schema)
    top.setdefault("type", "object")
    out = _Converter(defs).convert(top, "parameters", ())
    if out.type is not types.Type.OBJECT:
        raise SchemaError("the parameters must be an object")
    if not out.properties:
        return None
    return out


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _Converter:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs

    def resolve(self, node: dict[str, Any], where: str, seen: tuple[str, ...]) -> tuple:
        ref = node.get("$ref")
        if ref is None:
            return node, seen
        if not isinstance(ref, str) or not ref.startswith(("#/$defs/", "#/definitions/")):
            raise SchemaError(f"{where}: reference {ref!r} is not to a local definition")
        name = ref.rsplit("/", 1)[1]
        if name in seen:
            raise SchemaError(f"{where}: {name!r} refers to itself (a recursive schema)")
        target = self.defs.get(name)
        if not isinstance(target, dict):
            raise SchemaError(f"{where}: no definition {name!r}")
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return self.resolve(merged, where, (*seen, name))

    def convert(self, node: Any, where: str, seen: tuple[str, ...]) -> types.Schema:
        if node is True or node == {}:
            raise SchemaError(f"{where}: any value is allowed (no type)")
        if not isinstance(node, dict):
            raise SchemaError(f"{where}: not a schema")
        node, seen = self.resolve(node, where, seen)
        if "allOf" in node:
            node = self._all_of(node, where, seen)
        fields: dict[str, Any] = {}
        for key, name in _COPIED.items():
            value = node.get(key)
            if value is not None and not isinstance(value, bool):
                fields[name] = int(value) if name in _INTS else value
        nullable = False
        alternatives = node.get("anyOf") or node.get("oneOf")
        kind = node.get("type")
        if isinstance(kind, list):
            nullable = "null" in kind
            kinds = [k for k in kind if k != "null"]
            if len(kinds) == 1:
                kind = kinds[0]
            else:
                alternatives = [{**node, "type": k} for k in kinds]
                kind = None
        if alternatives is not None:
            if not isinstance(alternatives, list):
                raise SchemaError(f"{where}: anyOf/oneOf must be a list")
            rest = [
                a for a in alternatives if not (isinstance(a, dict) and a.get("type") == "null")
            ]
            nullable = nullable or len(rest) < len(alternatives)
            if not rest:
                raise SchemaError(f"{where}: only null is allowed")
            if len(rest) == 1:
                inner = self.convert(rest[0], where, seen)
                return inner.model_copy(update={**fields, "nullable": True if nullable else None})
            fields["any_of"] = [self.convert(a, f"{where}[{i}]", seen) for i, a in enumerate(rest)]
            return types.Schema(**fields, nullable=True if nullable else None)
        if "const" in node:
            node = {**node, "enum": [node["const"]]}
        enum = node.get("enum")
        if kind is None:
            kind = _guess(node)
        if kind not in _TYPES:
            raise SchemaError(f"{where}: type {kind!r} has no equivalent")
        fields["type"] = _TYPES[kind]
        if enum is not None:
            self._enum(fields, enum, kind, where)
        if kind == "object":
            props = _table(node.get("properties"))
            if props:
                fields["properties"] = {
                    k: self.convert(v, f"{where}.{k}", seen) for k, v in props.items()
                }
                required = [r for r in node.get("required") or [] if r in props]
                if required:
                    fields["required"] = required
            elif node.get("additionalProperties") not in (None, False):
                raise SchemaError(f"{where}: an object of free-form keys cannot be declared")
        elif kind == "array":
            items = node.get("items")
            if not isinstance(items, dict):
                raise SchemaError(f"{where}: an array without one item schema")
            fields["items"] = self.convert(items, f"{where}[]", seen)
        if nullable:
            fields["nullable"] = True
        return types.Schema(**fields)

    def _all_of(self, node: dict[str, Any], where: str, seen: tuple[str, ...]) -> dict[str, Any]:
        """``allOf`` of objects: their properties and requirements together."""
        merged = {k: v for k, v in node.items() if k != "allOf"}
        props = dict(_table(merged.get("properties")))
        required = list(merged.get("required") or [])
        for part in node["allOf"]:
            part, _ = self.resolve(part, where, seen) if isinstance(part, dict) else (part, seen)
            if not isinstance(part, dict) or part.get("type", "object") != "object":
                raise SchemaError(f"{where}: allOf of anything but objects")
            props.update(_table(part.get("properties")))
            required += list(part.get("required") or [])
        merged.update(type="object", properties=props, required=required)
        return merged

    @staticmethod
    def _enum(fields: dict[str, Any], enum: Any, kind: str, where: str) -> None:
        if not isinstance(enum, list) or not enum:
            raise SchemaError(f"{where}: enum must be a non-empty list")
        values = [v for v in enum if v is not None]
        if kind == "string" and all(isinstance(v, str) for v in values):
            fields["enum"] = values
            if len(values) < len(enum):
                fields["nullable"] = True
            return
        # the subset's enums are strings: other allowed values are said in the description
        said = ", ".join(repr(v) for v in values)
        text = fields.get("description")
        fields["description"] = f"{text} (one of: {said})" if text else f"One of: {said}"


def _guess(node: dict[str, Any]) -> str | None:
    if "properties" in node:
        return "object"
    if "items" in node:
        return "array"
    enum = node.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(v, str) for v in enum):
        return "string"
    return None
