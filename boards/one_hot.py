"""One-hot state machines for the link's logic: one flip-flop per state."""

from amaranth.hdl import Signal

__all__ = ["OneHot"]


class OneHot:
    """States of a hand-written one-hot state machine in module ``m`` (the first is the reset
    state). A transition is a product of a state bit and its conditions, not a decode of an
    encoded state: Amaranth's ``m.FSM`` has no encoding option, and its binary state decode
    in front of every decision made the link's state machines the UP5K's longest paths at
    48 MHz (Yosys, nextpnr).

    ``self[name]`` is the state's flip-flop; ``go(src, dst)`` (in ``m.d.sync``, under the
    caller's conditions, which must include ``self[src]``) leaves ``src`` for ``dst``.
    """

    def __init__(self, m, names, *, prefix=""):
        self._m = m
        self.states = {name: Signal(name=f"{prefix}in_{name.lower()}", init=int(index == 0))
                       for index, name in enumerate(names)}

    def __getitem__(self, name):
        return self.states[name]

    def go(self, src, dst):
        self._m.d.sync += [self.states[src].eq(0), self.states[dst].eq(1)]
