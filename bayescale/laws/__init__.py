"""Built-in scaling laws. Importing this package registers them."""

from .chinchilla import chinchilla

__all__ = ["chinchilla"]
