"""Audio: G.711 codecs, resampling, voice activity, jitter and pacing, recording."""
