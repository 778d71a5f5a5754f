"""The local draft engine: classic signal processing that makes a face speak an audio track.

No generative model: the chosen face is followed by dlib's 68 facial landmarks, the voice
is read per frame for loudness and a coarse mouth shape (closed, open, rounded, wide), and
the lips and jaw are moved along the lip contour by a smooth warp. Honest about being a
draft: good for checking timing, framing and who speaks before paying for a premium route.
"""
