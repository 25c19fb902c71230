"""Tools the model can call during a conversation.

``base`` (what a tool is), ``builtin`` and ``calc`` (clock, calculator, folder, machine),
``command`` and ``process`` (``[[tools]]`` programs, run without a shell), ``mcp``
(``[[mcp_servers]]``), ``confirm`` (asking the user), ``runner`` (answering calls:
cancellation, duplicates, errors) and ``registry`` (putting it together for one conversation;
the google-genai declarations are made in ``live.declare``).
"""

from voicecli.tools.confirm import make_approver
from voicecli.tools.registry import ToolSet, check_config, open_tools

__all__ = ["ToolSet", "check_config", "make_approver", "open_tools"]
