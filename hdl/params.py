"""Parameter checks shared by the components: one clear message per bad value."""

__all__ = ["check_range"]


def check_range(name, value, lo, hi, why=""):
    """Raise ``ValueError`` naming ``name`` unless ``value`` is an int in ``lo..hi``."""
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        hint = f" ({why})" if why else ""
        raise ValueError(f"{name} = {value!r} is out of range {lo}..{hi}{hint}")
    return value

