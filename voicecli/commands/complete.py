"""Shell completion values: model ids, voice names, history ids. Each is a typer
``autocompletion`` callback: cheap (imports only what it reads) and silent on any failure
(a completion that raises would print a traceback into the user's shell)."""

from __future__ import annotations

import contextlib


def models(incomplete: str) -> list[tuple[str, str]]:
    from voicecli.live import capabilities

    names: dict[str, str] = {}
    for m in capabilities.all_models():
        names.setdefault(m.name, f"Live model ({m.api} API)")
    return [(n, h) for n, h in names.items() if n.startswith(incomplete)]


def voices(incomplete: str) -> list[tuple[str, str]]:
    from voicecli.speech.voices import voices as table

    low = incomplete.lower()
    return [(n, d) for n, d in table().items() if n.lower().startswith(low)]


def history_ids(incomplete: str) -> list[tuple[str, str]]:
    """The newest stored sessions' ids, with their first words as the description."""
    with contextlib.suppress(Exception):
        from voicecli.history import HistoryStore, default_path

        path = default_path()
        if not path.exists():
            return []
        store = HistoryStore(path)
        try:
            rows = store.sessions(50)
        finally:
            store.close()
        return [
            (str(r["id"]), " ".join((r["first_words"] or r["model"] or "").split())[:60])
            for r in rows
            if str(r["id"]).startswith(incomplete)
        ]
    return []
