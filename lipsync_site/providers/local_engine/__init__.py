"""The local draft engine: classic signal processing that makes a face speak an audio track.

No learned model: the face is found with OpenCV's bundled Haar cascade, the voice's
loudness opens the mouth through a smooth warp of the lower face. Honest about being a
draft: good for checking timing and framing before paying for a premium route.
"""
