"""Parameter checks shared by the components: one clear message per bad value."""

__all__ = ["check_range", "check_int_list"]


def check_range(name, value, lo, hi, why=""):
    """Raise ``ValueError`` naming ``name`` unless ``value`` is an int in ``lo..hi``."""
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        hint = f" ({why})" if why else ""
        raise ValueError(f"{name} = {value!r} is out of range {lo}..{hi}{hint}")
    return value


def check_int_list(name, values, length, lo, hi):
    """Raise ``ValueError`` unless ``values`` holds ``length`` ints in ``lo..hi``."""
    values = [int(v) for v in values]
    if len(values) != length:
        raise ValueError(f"{name} has {len(values)} entries, expected {length}")
    for i, v in enumerate(values):
        if not lo <= v <= hi:
            raise ValueError(f"{name}[{i}] = {v} is out of range {lo}..{hi}")
    return values
