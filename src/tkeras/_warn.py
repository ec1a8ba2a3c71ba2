"""tkeras's own warning classes (pytest turns them into errors in the project's tests)."""


class TkerasWarning(UserWarning):
    """Base class of every warning tkeras emits."""


class TkerasDeprecationWarning(TkerasWarning, DeprecationWarning):
    """A Keras 2 spelling that still works but has a newer name."""
