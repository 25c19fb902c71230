"""The CLI's commands, one small module per group; ``voicecli.cli`` registers them."""
