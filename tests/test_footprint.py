"""Issue 17: a talk session's memory. Whatever a session does not use stays unimported.

One fresh interpreter builds the ``talk`` command as the CLI does and runs a whole session
through ``run_session`` (input file, plain view, history with its FLAC recording, the
built-in tools), with the in-memory fake in place of the Live connection; then it asks for
the JSON-lines view, resolves the echo modes that need no canceller and finds an echo path.
None of that may import the modules below (each costs from about 1 MB to livekit's 30 MB).
The rich view is for a terminal only: its absence here also keeps piped and ``--json`` runs
lean. google-genai imports PIL by itself, so PIL is not on the list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

NEVER_ON_THE_TALK_PATH = (
    "voicecli.sim",  # the simulator: only with --sim or `voicecli sim`
    "voicecli.speech",  # say, overview, voices
    "voicecli.doctor",
    "voicecli.ui.live_view",  # the rich view: only when stdout is a terminal
    "voicecli.ui.tables",
    "rich",
    "mcp",  # the MCP client: only with [[mcp_servers]] configured
    "livekit",  # the echo canceller: only with --echo aec (or auto, when installed)
    "cv2",  # --camera, --video
    "mss",  # --screen
    "numpy.ma",  # np.median imports it (1 MB): the echo path computes its own median
    "sounddevice",  # no devices with --input
)

SCRIPT = """
import json, sys
from pathlib import Path

import typer

from voicecli import SessionSpec, load_settings, run_session
from voicecli.audio import synth
from voicecli.audio.echo import resolve_mode
from voicecli.audio.echo_path import phat_peak
from voicecli.cli import app_for
from voicecli.live import events as ev
from voicecli.live.fake import FakeLive, answer_each_utterance
from voicecli.ui.talk_ui import pick_view

typer.main.get_command(app_for(["talk", "--input", "in.wav"]))
wav = Path(sys.argv[1])
synth.make_utterances_wav(wav, [(0.6, 0.8)])
reply = ev.AudioChunk(synth.tone(440, 0.2, 24000).tobytes())
fake = FakeLive(answer_each_utterance(reply, ev.OutputTranscript("hello")))
settings = load_settings()
summary = run_session(settings, SessionSpec(input=wav, fast=True, connect=fake.connect))
pick_view(settings, json_out=True)
assert (resolve_mode("half"), resolve_mode("off")) == ("half", "off")
phat_peak(synth.noise(0.2).astype(float), synth.noise(0.3).astype(float), 800, 800)
print(json.dumps({"turns": summary.turns, "modules": sorted(sys.modules)}))
"""


def test_a_talk_session_imports_nothing_it_does_not_use(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "in.wav")],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,  # stdout is a pipe: the plain view
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["turns"] == 1  # the session did run: answered, stored, recorded
    modules = set(result["modules"])
    assert {"voicecli.history_recorder", "voicecli.audio.files", "voicecli.ui.plain"} <= modules
    loaded = [
        name
        for name in NEVER_ON_THE_TALK_PATH
        if name in modules or any(m.startswith(name + ".") for m in modules)
    ]
    assert loaded == []
