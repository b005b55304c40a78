"""CFG0: the tool itself. The engine reports these; the class carries the documentation."""

from __future__ import annotations

from cfglint.finding import Severity, Target
from cfglint.rules.base import Rule, bad, good

BOTH = {Target.KERAS3: Severity.ERROR, Target.TF_KERAS: Severity.ERROR}


class ParseError(Rule):
    code = "CFG001"
    name = "parse-error"
    summary = "A file cannot be read or parsed, so none of its classes were checked."
    what = ("Reports a file that is not valid Python (a syntax error), is not valid UTF-8 or its declared "
            "encoding, holds NUL bytes, or cannot be read. The run goes on with the other files.")
    why = ("cfglint cannot check the layers in a file it cannot parse, and Python cannot import it either: "
           "`import` raises `SyntaxError` before any model can be built or loaded.")
    instead = "Fix the syntax error or the encoding; the finding points at the first problem."
    severity = BOTH
    invalid = (
        bad("""
            import keras

            class Broken(keras.layers.Layer):
                def __init__(self, units, **kwargs)
                    super().__init__(**kwargs)
            """, (4, 40)),
        bad("""
            from tensorflow import keras

            def get_config(self):
                return {"units": self.units
            """, (4, 12)),
    )
    valid = (
        good("""
            import keras

            class Fine(keras.layers.Layer):
                pass
            """),
        good("""
            from tensorflow import keras

            layer = keras.layers.Dense(3)
            """),
    )
