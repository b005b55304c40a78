"""cfglint: finds Keras custom-layer config bugs before they ship."""

__version__ = "0.1.0"
