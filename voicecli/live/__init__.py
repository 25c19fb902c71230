"""The Live session: model capabilities, setup, transport and the conversation loop."""
