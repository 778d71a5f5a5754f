"""Runs in its own process (see prepare.py): writes the voice trimmed or padded with
silence to an exact length, as 16-bit PCM WAV."""

import sys


def main(source, target, seconds):
    from fractions import Fraction

    import av
    import numpy as np

    with av.open(source, options={"protocol_whitelist": "file"}) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or 48_000
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        wanted = round(seconds * rate)
        written = 0
        with av.open(target, mode="w", format="wav") as output:
            out = output.add_stream("pcm_s16le", rate=rate)
            out.layout = "mono"

            def write(samples):
                nonlocal written
                frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
                frame.sample_rate = rate
                frame.pts = written
                frame.time_base = Fraction(1, rate)
                output.mux(out.encode(frame))
                written += samples.size

            for decoded in container.decode(stream):
                for frame in resampler.resample(decoded):
                    samples = frame.to_ndarray().reshape(-1)[: wanted - written]
                    if samples.size:
                        write(samples)
                if written >= wanted:
                    break
            while written < wanted:
                write(np.zeros(min(rate, wanted - written), dtype=np.int16))
            output.mux(out.encode(None))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
