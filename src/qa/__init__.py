"""qa: extractive question answering with verbatim, cited answers."""

__version__ = "0.7.1"
