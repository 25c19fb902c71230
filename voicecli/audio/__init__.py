"""Audio in and out: formats, resampling, the VAD gate, files and devices."""
