"""What the user sees: the live view, plain lines, JSON lines, the transcript file."""
