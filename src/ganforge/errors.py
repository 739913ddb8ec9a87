"""The one exception a user sees: their input or settings are wrong, said in one line.

Anything else that raises is a bug in ganforge and keeps its traceback.
"""


class GanforgeError(Exception):
    """A problem with the user's data, files or settings, worded for them."""
