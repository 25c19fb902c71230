"""Issue 35 part 2: with --search the sources a reply is grounded on (groundingMetadata;
urlContextMetadata likewise) appear under the reply in every view: plain output, JSON
lines, the transcript, history show, the Markdown export and the live view. Titles and
URLs are text from the service: control characters never reach the terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from google.genai import types
from rich.console import Console

from voicecli.audio import synth
from voicecli.cli import main
from voicecli.history import HistoryStore, default_path
from voicecli.live import events as ev
from voicecli.live.transport import convert
from voicecli.ui.live_view import LiveView

SCENARIO = """
voice = "tone"
latency_ms = 50
realtime = 0
[[turns]]
heard = "who won the match"
reply = "The home side won."
sources = [
  { title = "Match report \\u001b[31mred", uri = "https://example.org/report" },
  { title = "League table", uri = "https://example.com/table" },
]
[[turns]]
heard = "thanks"
reply = "You are welcome."
"""


def sdk_sources() -> list[ev.LiveEvent]:
    chunk = types.GroundingChunk(
        web=types.GroundingChunkWeb(uri="https://example.org/a", title="A \x1b]0;x\x07page")
    )
    msg = types.LiveServerMessage(
        server_content=types.LiveServerContent(
            grounding_metadata=types.GroundingMetadata(
                grounding_chunks=[chunk], web_search_queries=["q"]
            ),
            url_context_metadata=types.UrlContextMetadata(
                url_metadata=[types.UrlMetadata(retrieved_url="https://example.net/read")]
            ),
        )
    )
    return convert(msg)


def test_the_converter_reads_grounding_and_url_context_from_sdk_types() -> None:
    search, url = sdk_sources()
    assert isinstance(search, ev.Sources) and search.kind == "search"
    assert search.items == (ev.Source("https://example.org/a", "A \x1b]0;x\x07page"),)
    assert search.queries == ("q",)
    assert isinstance(url, ev.Sources) and url.kind == "url"
    assert url.items[0].uri == "https://example.net/read"


def test_the_live_view_shows_sources_under_the_reply_terminal_safe() -> None:
    console = Console(record=True, width=120, file=io.StringIO(), color_system=None)
    view = LiveView(console, clock_fn=lambda: 0.0, err_console=console)  # type: ignore[arg-type]
    for event in sdk_sources():
        view.on_event(event, 1.0)
    view.on_event(ev.TurnEnded(1, "spoken", "hi", "An answer.", 1.0, 0.3), 2.0)
    console.export_text(clear=True)
    view.tick(3.0)
    text = console.export_text(clear=True)
    lines = text.splitlines()
    at = next(i for i, x in enumerate(lines) if "An answer." in x)
    assert "source: A \\u001b]0;x\\u0007page — https://example.org/a" in lines[at + 1]
    assert "read: https://example.net/read" in lines[at + 2]
    assert "\x1b" not in text and "\x07" not in text


def run(args: list[str], tmp_path: Path) -> int:
    scen = tmp_path / "s.toml"
    scen.write_text(SCENARIO)
    wav = tmp_path / "in.wav"
    synth.make_utterances_wav(wav, [(1.0, 1.0), (1.0, 1.0)], rate=16000)
    return main(["talk", "--sim", "--scenario", str(scen), "-i", str(wav), *args])


def test_sources_in_plain_output_transcript_history_and_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["--search", "--transcript", str(tmp_path / "t.jsonl")], tmp_path)
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    at = next(i for i, x in enumerate(lines) if "gemini: The home side won." in x)
    assert "source: Match report \\u001b[31mred — https://example.org/report" in lines[at + 1]
    assert "source: League table — https://example.com/table" in lines[at + 2]
    assert "\x1b" not in out
    assert out.count("source:") == 2  # the second reply has none

    records = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    (src,) = [r for r in records if r["type"] == "sources"]
    assert src["sources"][1] == {"title": "League table", "uri": "https://example.com/table"}
    assert src["queries"] == ["who won the match"]

    store = HistoryStore(default_path())
    try:
        (row,) = store.sessions()
    finally:
        store.close()
    assert main(["history", "show", str(row["id"])]) == 0
    shown = capsys.readouterr().out.splitlines()
    at = next(i for i, x in enumerate(shown) if "gemini: The home side won." in x)
    assert "source: League table — https://example.com/table" in shown[at + 2]
    assert main(["history", "export", str(row["id"]), "-f", "md"]) == 0
    md = capsys.readouterr().out
    assert md.index("The home side won.") < md.index("https://example.com/table")
    assert md.index("https://example.com/table") < md.index("You are welcome.")
    assert "\x1b" not in md


def test_json_lines_carry_sources_and_no_search_means_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--search", "--json", "--no-history"], tmp_path) == 0
    out = capsys.readouterr().out
    kinds = [json.loads(x)["type"] for x in out.splitlines()]
    assert kinds.count("sources") == 1
    assert run(["--json", "--no-history"], tmp_path) == 0  # no search tool: no grounding
    out = capsys.readouterr().out
    assert all(json.loads(x)["type"] != "sources" for x in out.splitlines())
