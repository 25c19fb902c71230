"""Controllable speech generation: ``voicecli say``, two-speaker dialogue, audio overviews.

Data flow: text -> ``chunking``/``script`` (pure) -> ``prompt`` (directions, request plan)
-> ``request`` (the only google-genai code) -> ``synth`` (ordered, overlapped requests)
-> ``stitch`` (click-free joins) -> an AudioSink. ``say`` and ``overview`` tie them together.
"""
