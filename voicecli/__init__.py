"""voicecli: a terminal voice assistant for Gemini native-audio Live sessions."""

__version__ = "0.1.0"
