"""The board core: the accelerator behind a UART link (what every board top instantiates)."""

from amaranth.hdl import Cat, Module, ResetInserter, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from spinaps.contract import check_int
from spinaps.hdl.accelerator import Accelerator

from . import protocol as p
from .frame_parser import FrameParser
from .responder import Responder
from .uart_rx import MAX_CLOCKS_PER_BIT, UartRx, check_clocks_per_bit
from .uart_tx import UartTx

__all__ = ["BoardCore"]


class BoardCore(wiring.Component):
    """:class:`~spinaps.hdl.accelerator.Accelerator` + UART link (docs/link.md).

    ``rx`` -> :class:`UartRx` -> :class:`FrameParser` -> accelerator ``sample`` / ``weights``;
    accelerator ``result`` and the parser's answers -> :class:`Responder` -> :class:`UartTx`
    -> ``tx``. A bad or truncated frame is answered with an error frame and, if it was a
    sample, resets the accelerator (synapse memories keep their contents), so the core never
    hangs. A frame arriving during a running inference is answered with ``busy`` and dropped.
    ``leds[0]`` is high while an inference runs or its result waits; ``leds[1]`` goes high
    on an error frame and low on the next result.

    Latency: one sample frame takes ``(5 + sample_bytes) * 10`` bit times on the line, the
    inference starts three cycles after the receiver has its checksum byte (the parser's byte
    stage and checksum verdict), and the result frame (``5 + 9 + 12 L`` bytes) starts 3 cycles
    after the decision. Backpressure: none on the pins; the host must
    wait for an answer before sending the next frame (else ``busy``).

    Parameters
    ----------
    model : spinaps.sw.golden.GoldenModel
    clocks_per_bit : int
        Clock frequency / baud rate (at least 4).
    timeout_bits : int
        Idle bit times inside a frame after which it counts as truncated.
    memory : str
        ``"sram"`` or ``"sttram"`` synapse memory.
    weights_writable : bool
        Accept weights frames (the synapse memories get a write port either way).
    window, adders : int or sequence of int
        The accelerator's window schedule (:class:`~spinaps.hdl.accelerator.Accelerator`,
        docs/semantics.md 8.1; one number or one per layer). Hardware only: the link, its
        frames and the info answer are the same for every schedule (the result's ``cycles``
        and ``busy`` are the schedule's own; ``reads`` is not carried over the link).
    """

    def __init__(self, model, *, clocks_per_bit, timeout_bits=64, memory="sram", weights_writable=True,
                 window=1, adders=1):
        self.clocks_per_bit = check_clocks_per_bit(clocks_per_bit, "clock frequency / baud rate; "
                                                                   "lower the baud rate")
        self.timeout_bits = check_int("timeout_bits", timeout_bits, p.MIN_TIMEOUT_BITS, MAX_CLOCKS_PER_BIT,
                                      "at least two characters of idle line")
        self.model = model
        self.accelerator = Accelerator(model, memory=memory, window=window, adders=adders)
        acc = self.accelerator
        self.info = p.model_info(model, word_width=acc.weight_width, weights_writable=weights_writable,
                                 timeout_bits=timeout_bits)
        self.uart_rx = UartRx(clocks_per_bit)
        self.uart_tx = UartTx(clocks_per_bit)
        self.parser = FrameParser(sample_bytes=acc.sample_bytes, weight_layout=acc.weights.payload.shape(),
                                  layer_depths=[layer.memory.depth for layer in acc.layers],
                                  weights_writable=weights_writable,
                                  timeout_cycles=timeout_bits * clocks_per_bit)
        self.responder = Responder(result_layout=acc.result.payload.shape(), n_layers=len(acc.layers),
                                   info=self.info)
        super().__init__({
            "rx": In(1, init=1),
            "tx": Out(1, init=1),
            "leds": Out(2),
        })

    def elaborate(self, platform):
        m = Module()
        acc, parser, resp = self.accelerator, self.parser, self.responder
        m.submodules.uart_rx = self.uart_rx
        m.submodules.uart_tx = self.uart_tx
        m.submodules.parser = parser
        m.submodules.responder = resp
        # abort: a sample frame went bad half-way; the accelerator restarts from SEED_LO. The
        # reset is registered: it reaches every flip-flop of the accelerator, and straight from
        # the parser's checksum compare it was the longest path on the iCE40 (nextpnr). Bytes
        # arrive hundreds of cycles apart, so the extra cycle is never seen on the link.
        abort = Signal()
        m.d.sync += abort.eq(parser.abort)
        m.submodules.accelerator = ResetInserter(abort)(acc)

        m.d.comb += [self.uart_rx.rx.eq(self.rx), self.tx.eq(self.uart_tx.tx), parser.idle.eq(acc.sample.ready)]
        wiring.connect(m, self.uart_rx.data, parser.bytes)
        wiring.connect(m, parser.sample, acc.sample)
        wiring.connect(m, parser.weights, acc.weights)
        wiring.connect(m, acc.result, resp.result)
        wiring.connect(m, resp.bytes, self.uart_tx.data)
        # The parser's answers are registered on their way to the responder: straight from the
        # parser's byte compares into the responder's pending flags it was the longest path on
        # the iCE40 (nextpnr). One cycle later than the byte that decides them, never seen on
        # the link (the answer's first bit lasts clocks_per_bit cycles).
        m.d.sync += [resp.error.eq(parser.error), resp.error_code.eq(parser.error_code),
                     resp.info.eq(parser.info), resp.ack.eq(parser.ack)]

        error_seen = Signal()
        with m.If(resp.error):
            m.d.sync += error_seen.eq(1)
        with m.Elif(acc.result.valid & acc.result.ready):
            m.d.sync += error_seen.eq(0)
        m.d.comb += self.leds.eq(Cat(~acc.sample.ready, error_seen))
        return m
