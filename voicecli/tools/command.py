"""Command tools from ``[[tools]]``: a program the model may run, with typed parameters.

::

    [[tools]]
    name = "lookup_capital"
    description = "Return the capital city of a country."
    command = ["python3", "lookup.py", "{country}"]
    [tools.parameters.country]
    type = "string"

Only ``{name}`` where ``name`` is a declared parameter is a placeholder; every other brace is
literal text (dict literals, ``jq`` filters, ``awk '{print $1}'``, ``{{.Names}}``), and
``{{name}}`` writes a literal ``{name}`` for a declared ``name``.

The model's arguments are untrusted text. Each ``{param}`` fills its place inside exactly one
argv element (never split, never globbed, never expanded, no shell); the program itself
cannot be a placeholder; a value that would start an argv element with ``-`` is refused
(it could become an option of the command) unless the entry sets ``allow_options = true``
or a literal ``"--"`` comes earlier in the command.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicecli.child_env import child_env
from voicecli.tools.base import ToolFailure, ToolSpec, ToolStatus, visible
from voicecli.tools.process import ProcessTimeout, run_argv
from voicecli.tools.tables import Entry, entries

PARAM_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_TOKEN = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
TYPES = ("string", "integer", "number", "boolean")
MAX_ARG_CHARS = 8192
SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "fish", "csh", "tcsh", "busybox"}
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_OUTPUT = 65536

_FIELDS = {
    "name",
    "description",
    "command",
    "parameters",
    "confirm",
    "timeout",
    "max_output",
    "allow_options",
    "non_blocking",
    "scheduling",
    "cwd",
    "env",
}
_PARAM_FIELDS = {"type", "description", "enum", "default"}

Part = str | tuple[str]  # literal text, or (parameter name,)


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str | None
    enum: tuple[str, ...] | None
    default: Any  # None: required

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.description:
            out["description"] = self.description
        if self.enum:
            out["enum"] = list(self.enum)
        return out


@dataclass(frozen=True)
class CommandConfig:
    spec: ToolSpec
    template: tuple[tuple[Part, ...], ...]  # one tuple of parts per argv element
    params: tuple[Param, ...]
    allow_options: bool
    max_output: int
    cwd: str | None
    env: dict[str, str | None] | None  # None: pass the variable through


def parse_template(element: str, declared: set[str]) -> tuple[Part, ...]:
    """Split one argv element into literal text and ``(name,)`` placeholders."""
    parts: list[Part] = []
    text = ""
    pos = 0
    for m in _TOKEN.finditer(element):
        escaped, name = m.group(1), m.group(2)
        text += element[pos : m.start()]
        if escaped in declared:
            text += "{" + escaped + "}"  # {{name}}: a literal {name}
        elif name in declared:
            if text:
                parts.append(text)
                text = ""
            parts.append((name,))
        else:
            text += m.group(0)  # not a parameter: literal braces
        pos = m.end()
    text += element[pos:]
    if text:
        parts.append(text)
    return tuple(parts)


def _param(entry: Entry, name: str, raw: Any) -> Param:
    field = f"parameters.{name}"
    if not PARAM_RE.match(name):
        raise entry.fail(field, "is not a valid parameter name (letters, digits, _)")
    if not isinstance(raw, dict):
        raise entry.fail(field, 'must be a table, e.g. { type = "string", description = "..." }')
    unknown = sorted(set(raw) - _PARAM_FIELDS)
    if unknown:
        raise entry.fail(
            f"{field}.{unknown[0]}", f"is unknown (known: {', '.join(sorted(_PARAM_FIELDS))})"
        )
    kind = raw.get("type", "string")
    if kind not in TYPES:
        raise entry.fail(f"{field}.type", f"must be one of {', '.join(TYPES)}, not {kind!r}")
    desc = raw.get("description")
    if desc is not None and not isinstance(desc, str):
        raise entry.fail(f"{field}.description", "must be a string")
    enum = raw.get("enum")
    if enum is not None and (
        kind != "string"
        or not isinstance(enum, list)
        or not enum
        or not all(isinstance(v, str) for v in enum)
    ):
        raise entry.fail(f"{field}.enum", "must be a non-empty list of strings (string parameters)")
    param = Param(name, kind, desc, tuple(enum) if enum else None, None)
    if "default" in raw:
        try:
            default = convert(param, raw["default"])
        except ToolFailure as e:
            raise entry.fail(f"{field}.default", f"is not valid: {e.error}") from None
        param = Param(name, kind, desc, param.enum, default)
    return param


def parse_command_tool(raw: dict[str, Any], index: int) -> CommandConfig:
    entry = Entry(raw, "tools", index, _FIELDS)
    name = entry.name()
    description = entry.text("description", required=True)
    argv = entry.argv()
    params_raw = raw.get("parameters", {})
    if not isinstance(params_raw, dict):
        raise entry.fail("parameters", "must be a table of parameter tables")
    params = tuple(_param(entry, n, p) for n, p in params_raw.items())
    declared = {p.name for p in params}
    template = tuple(parse_template(a, declared) for a in argv)
    used = {p[0] for element in template for p in element if isinstance(p, tuple)}
    if any(isinstance(p, tuple) for p in template[0]):
        raise entry.fail("command", "must name its program literally (no {placeholder} in it)")
    if _in_shell_script(argv, template):
        raise entry.fail(
            "command",
            "puts a {placeholder} inside a shell's -c script, where the model's text would run "
            "as shell code; pass it as an argument instead: "
            '["sh", "-c", "echo "$1"", "sh", "{x}"]',
        )
    if declared - used:
        unused = sorted(declared - used)[0]
        raise entry.fail(
            f"parameters.{unused}",
            f"is declared but not used in command (write {{{unused}}} where its value goes)",
        )
    schema: dict[str, Any] | None = None
    if params:
        schema = {
            "type": "object",
            "properties": {p.name: p.schema() for p in params},
            "required": [p.name for p in params if p.default is None],
        }
    spec = ToolSpec(
        name=name,
        description=description or "",
        parameters=schema,
        source="command",
        confirm=entry.flag("confirm", True),
        non_blocking=entry.flag("non_blocking", True),
        scheduling=entry.scheduling(),
        timeout_s=entry.number("timeout", DEFAULT_TIMEOUT_S, 0, 3600),
    )
    cwd = entry.text("cwd")
    return CommandConfig(
        spec=spec,
        template=template,
        params=params,
        allow_options=entry.flag("allow_options", False),
        max_output=int(entry.number("max_output", DEFAULT_MAX_OUTPUT, 0, 16 * 1024 * 1024)),
        cwd=str(Path(cwd).expanduser()) if cwd else None,
        env=entry.env(),
    )


def _in_shell_script(argv: list[str], template: tuple[tuple[Part, ...], ...]) -> bool:
    """A placeholder in the script of ``sh -c SCRIPT`` (and other shells) would be code."""
    if Path(argv[0]).name not in SHELLS:
        return False
    return any(
        argv[i - 1].startswith("-") and "c" in argv[i - 1] and any(isinstance(p, tuple) for p in el)
        for i, el in enumerate(template)
        if i >= 2
    )


def parse_command_tools(raw: Any) -> list[CommandConfig]:
    return [parse_command_tool(e, i) for i, e in enumerate(entries(raw, "tools"))]


def convert(param: Param, value: Any) -> str:
    """One model-supplied value as argv text, checked against the parameter's type."""
    where = f"argument {param.name!r}"
    if param.type == "boolean":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower()
        raise ToolFailure(f"{where} must be true or false")
    if param.type in ("integer", "number"):
        number: Any = value
        if isinstance(value, str):
            try:
                number = float(value) if param.type == "number" else int(value)
            except ValueError:
                raise ToolFailure(
                    f"{where} must be a{'n integer' if param.type == 'integer' else ' number'}"
                ) from None
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ToolFailure(f"{where} must be a {param.type}")
        if isinstance(number, float) and not math.isfinite(number):
            raise ToolFailure(f"{where} must be a finite number")
        if param.type == "integer":
            if isinstance(number, float) and not number.is_integer():
                raise ToolFailure(f"{where} must be a whole number")
            return str(int(number))
        return repr(number) if isinstance(number, float) else str(number)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ToolFailure(f"{where} must be a string")
    text = str(value)
    if "\x00" in text:
        raise ToolFailure(f"{where} must not contain NUL characters")
    if len(text) > MAX_ARG_CHARS:
        raise ToolFailure(f"{where} is longer than {MAX_ARG_CHARS} characters")
    if param.enum and text not in param.enum:
        raise ToolFailure(f"{where} must be one of {', '.join(param.enum)}")
    return text


class CommandTool:
    def __init__(self, config: CommandConfig) -> None:
        self.config = config
        self.spec = config.spec

    def argv(self, args: dict[str, Any]) -> list[str]:
        """The exact argv for these arguments; ToolFailure for bad or dangerous values."""
        values: dict[str, str] = {}
        for p in self.config.params:
            if args.get(p.name) is None:
                if p.default is None:
                    raise ToolFailure(f"missing argument {p.name!r}")
                values[p.name] = p.default
            else:
                values[p.name] = convert(p, args[p.name])
        argv: list[str] = []
        after_dashes = False
        for element in self.config.template:
            text = "".join(values[p[0]] if isinstance(p, tuple) else p for p in element)
            lead = element[0] if element else ""
            if (
                isinstance(lead, tuple)
                and text.startswith("-")
                and not (self.config.allow_options or after_dashes)
            ):
                raise ToolFailure(
                    f"argument {lead[0]!r} starts with '-', which the command could take as an "
                    "option; refused",
                    ToolStatus.REFUSED,
                )
            argv.append(text)
            after_dashes = after_dashes or element == ("--",)
        return argv

    def preview(self, args: dict[str, Any]) -> str:
        return " ".join(shlex.quote(visible(a)) for a in self.argv(args))

    async def call(self, args: dict[str, Any]) -> dict[str, Any]:
        argv = self.argv(args)
        env = child_env(self.config.env)
        try:
            done = await run_argv(
                argv,
                timeout_s=self.spec.timeout_s,
                max_output=self.config.max_output,
                cwd=self.config.cwd,
                env=env,
            )
        except ProcessTimeout as e:
            stopped = "was stopped"
            if e.survivors:
                pids = ", ".join(map(str, e.survivors))
                stopped = f"was stopped, except processes it started that could not be: {pids}"
            raise ToolFailure(
                f"the command timed out after {e.seconds:g} s and {stopped}",
                ToolStatus.TIMEOUT,
                exit_status=None,
                stderr=_text(e.stderr),
            ) from None
        except OSError as e:
            raise ToolFailure(
                f"cannot run {argv[0]!r}: {e.strerror or e}", exit_status=None, stderr=""
            ) from None
        output = _output(done.stdout)
        if done.exit_status != 0:
            why = (
                f"the command was killed by signal {-done.exit_status}"
                if done.exit_status < 0
                else f"the command failed with exit status {done.exit_status}"
            )
            details: dict[str, Any] = {
                "exit_status": done.exit_status,
                "stderr": _text(done.stderr),
            }
            if output:
                details["output"] = output
            raise ToolFailure(why, **details)
        result: dict[str, Any] = {"output": output}
        if done.stdout_truncated:
            result["truncated"] = True
        return result


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").strip()


def _output(data: bytes) -> Any:
    text = _text(data)
    if text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text
