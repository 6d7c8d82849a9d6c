"""The expected refusal of a gap in ``test_every_mode``, raised again from this small module.

pytest formats the traceback of every xfail and parses the source of each frame in it; from the
deep frames of dualdiff and the long test module that cost more than all the checks together.
"""


def refuse(message: str) -> None:
    raise TypeError(message) from None
