"""Domain errors; the CLI and the API translate them at the edge."""


class QAError(Exception):
    """Base class for errors a user can act on."""


class CorpusError(QAError):
    """The corpus folder is missing, empty or unreadable."""


class IndexMissingError(QAError):
    """No complete index exists in the index folder."""


class IndexCorruptError(QAError):
    """The index exists but its files do not match its manifest."""


class DocumentNotFoundError(QAError):
    """The document is not part of the indexed corpus."""
