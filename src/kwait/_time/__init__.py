"""Time, the bottom layer: the `Clock` protocol and its two clocks, deadlines, backoff, retries.

Only `kwait._time.clock` reads the system's time; everything above takes a `Clock`.
"""
