"""What one ``talk`` or ``listen`` session is made of, in one object.

The CLI fills a ``SessionSpec`` from its flags; Python callers build one directly. Model,
voice, gate and endpoint choices live in ``Settings`` (flags > environment > config file >
defaults); the spec holds the rest: where the audio comes from and goes, what is shown and
stored, which tools answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from voicecli.audio.base import AudioSink, AudioSource
from voicecli.errors import UsageError
from voicecli.live.conversation import Observer
from voicecli.live.messages import Connect
from voicecli.tools.confirm import Approver
from voicecli.video.spec import ShareSpec


@dataclass
class SessionSpec:
    kind: Literal["talk", "listen"] = "talk"
    input: Path | None = None  # a recording to speak (talk) or hear (listen); None: the room
    fast: bool = False  # with input: do not pace in real time
    output: Path | None = None  # the model's audio, 24 kHz WAV
    record: Path | None = None  # both sides: input left, model right
    transcript: Path | None = None  # events as JSON lines
    json_out: bool = False  # JSON lines on stdout instead of the view
    typed_input: bool = True  # typed lines and /commands
    sim: bool = False  # the built-in simulator instead of the settings' endpoint
    scenario: Path | None = None  # a simulator scenario (with sim)
    tools: bool = True  # declare and answer the tools the settings name
    yes: bool = False  # run confirm = true tools without asking
    approver: Approver | None = None  # overrides ``yes``
    history: bool | None = None  # store the session (None: as the settings say)
    echo: str | None = None  # auto | aec | half | off (None: as the settings say)
    history_path: Path | None = None  # None: $VOICECLI_HOME's history database
    continues: tuple[int, int] | None = None  # history: (conversation, session) it goes on from
    continue_last: bool = False  # --continue: the last stored conversation
    continue_id: int | None = None  # --session ID: that stored session
    topics: Sequence[str] = ()  # listen: speak up about these
    quiet: bool = False  # listen --input: play nothing
    then_talk: bool = False  # listen --input: then the microphone, or typed turns
    source: AudioSource | None = None  # replaces input and microphone (tests, embedding)
    sinks: Sequence[AudioSink] = ()  # more places for the model's audio
    observers: Sequence[Observer] = field(default_factory=list)  # more event observers
    connect: Connect | None = None  # opens a Live connection; None: the SDK (tests: a fake)
    share: ShareSpec | None = None  # screen, camera, video, images, watched output

    def check(self) -> None:
        """Flag combinations that cannot work, refused before anything opens."""
        if self.continue_last and self.continue_id is not None:
            raise UsageError("give --continue or --session ID, not both")
        has_input = self.input is not None or self.source is not None
        if self.kind == "talk":
            if not has_input and self.fast:
                raise UsageError("--fast needs --input FILE (the microphone runs in real time)")
            return
        if not has_input and (self.quiet or self.then_talk or self.fast):
            raise UsageError("--quiet, --then-talk and --fast need --input FILE")
        if self.fast and not self.quiet:
            raise UsageError("--fast needs --quiet (a recording is played in real time)")
