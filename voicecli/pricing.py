"""Estimated cost of a session from its token usage and a price table.

Prices are US dollars per million tokens, split by modality the way ``usageMetadata``
reports it (``promptTokensDetails`` / ``responseTokensDetails``). The defaults below are the
published Live API rates for the 2.5 Flash native-audio models; the 3.x models have no
published table in the facts voicecli works from, so they use the same defaults. Override
them in the config file::

    [prices.default]
    text_in = 0.50
    audio_in = 3.00
    text_out = 2.00
    audio_out = 12.00

    [prices."gemini-3.8-live"]    # one model; keys left out come from [prices.default]
    audio_out = 10.00

The service bills the whole context again on every turn (each ``usageMetadata`` counts it),
so the estimate sums every usage report of the session, as the bill does. Tokens a report
does not split by modality are priced as audio (the dearer reading).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from voicecli.errors import ConfigError


@dataclass(frozen=True)
class Prices:
    """US dollars per 1M tokens."""

    text_in: float = 0.50
    audio_in: float = 3.00
    text_out: float = 2.00
    audio_out: float = 12.00
    # cached prompt tokens; None: no discount (the rate is not in the facts voicecli has)
    cached_in: float | None = None


DEFAULT = Prices()


def prices_for(model: str, tables: dict[str, Any]) -> Prices:
    """The price table for ``model``: config ``[prices.MODEL]`` over ``[prices.default]``."""
    raw = tables.get("prices") or {}
    if not isinstance(raw, dict):
        raise ConfigError("[prices] must be a table of tables", "see `voicecli config --example`")
    out = DEFAULT
    for name in ("default", model):
        entry = raw.get(name)
        if entry is None:
            continue
        if not isinstance(entry, dict):
            raise ConfigError(f"[prices.{name}] must be a table")
        known = {f.name for f in fields(Prices)}
        bad = sorted(set(entry) - known)
        if bad:
            raise ConfigError(
                f"[prices.{name}]: unknown key(s) {', '.join(bad)}", f"known: {', '.join(known)}"
            )
        try:
            values: dict[str, Any] = {k: float(v) for k, v in entry.items()}
        except (TypeError, ValueError):
            raise ConfigError(f"[prices.{name}]: prices must be numbers") from None
        out = replace(out, **values)
    return out


@dataclass
class Tokens:
    """Token counts summed over usage reports, by direction and modality."""

    prompt: int = 0
    response: int = 0
    total: int = 0
    prompt_audio: int = 0
    prompt_text: int = 0
    response_audio: int = 0
    response_text: int = 0
    thoughts: int = 0  # thinking: not in ``response``, billed as (text) output
    cached: int = 0  # the cached part of ``prompt``
    tool_use: int = 0  # tool-use prompt: not in ``prompt``, billed as (text) input

    def add(self, u: Any) -> None:
        """Add one ``events.Usage`` (or any object with the same fields)."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + int(getattr(u, _src(f.name), 0) or 0))

    def cost(self, p: Prices) -> float:
        """Estimated US dollars; tokens not split by modality are priced as audio."""
        audio_in = self.prompt_audio + max(0, self.prompt - self.prompt_audio - self.prompt_text)
        audio_out = self.response_audio + max(
            0, self.response - self.response_audio - self.response_text
        )
        # cached tokens at their rate instead of the text rate (the smallest saving)
        saving = self.cached * (p.text_in - p.cached_in) if p.cached_in is not None else 0.0
        return (
            audio_in * p.audio_in
            + self.prompt_text * p.text_in
            + audio_out * p.audio_out
            + self.response_text * p.text_out
            + self.thoughts * p.text_out
            + self.tool_use * p.text_in
            - max(0.0, saving)
        ) / 1e6

    def line(self) -> str:
        """``1234 tokens (in: 900 audio, 34 text; out: 300 audio)``."""
        parts_in = _split(self.prompt_audio, self.prompt_text)
        parts_out = _split(self.response_audio, self.response_text)
        tokens = "token" if self.total == 1 else "tokens"
        more = [
            f"{n} {what}"
            for n, what in ((self.thoughts, "thinking"), (self.tool_use, "tool use"),
                            (self.cached, "cached"))
            if n
        ]  # fmt: skip
        extra = f"; {', '.join(more)}" if more else ""
        return f"{self.total} {tokens} (in: {parts_in}; out: {parts_out}{extra})"


def _src(name: str) -> str:
    return {"prompt": "prompt_tokens", "response": "response_tokens", "total": "total_tokens"}.get(
        name, name
    )


def _split(audio: int, text: int) -> str:
    return f"{audio} audio, {text} text"


def money(usd: float) -> str:
    """``$0.0123`` (four decimals below a dollar: a short session costs cents)."""
    return f"${usd:.4f}" if usd < 1 else f"${usd:.2f}"
