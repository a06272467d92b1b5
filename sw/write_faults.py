"""STT-RAM write errors and write-verify on the golden side (docs/semantics.md 9.1).

Given only the write-error probability ``p``, the fault seed and the write sequence, this
module computes what every synapse memory holds afterwards, and the counters the RTL reports
(writes, cells that failed to switch, re-writes, write cycles). The golden model then simply
runs on the faulted weights: :func:`faulted_model`.

A write sequence here is the one the accelerator's ``weights`` stream carries: per layer, a
list of ``(address, word)``; layers have separate memories and generators, so only the order
within a layer matters. :func:`load_sequence` is the sequence that loads a whole network
(every word of every layer in address order).

numpy only (no torch): the bench sweeps thousands of loads and the RTL tests import it.
"""

from dataclasses import dataclass, replace

import numpy as np

from spinaps import contract

__all__ = ["WRITE_COUNTERS", "WriteStats", "network_words", "layer_words", "layer_weights", "load_sequence",
           "write_memory", "load_network", "faulted_model", "cell_seeds"]


#: The write counters an STT-RAM memory reports (RTL attribute names), in this order.
WRITE_COUNTERS = ("writes", "write_errors", "retries", "write_cycles")


@dataclass
class WriteStats:
    """Counters of one memory's writes (the RTL's, section 9.1), plus what is left wrong."""

    writes: int = 0            # writes accepted (one per stream beat)
    attempts: int = 0          # write attempts (writes + re-writes)
    write_errors: int = 0      # cells that failed to switch, over every attempt
    retries: int = 0           # re-writes after a failed verify read
    cycles: int = 0            # cycles the memory was busy writing (contract.write_cycles)
    verify_reads: int = 0      # verify reads (one per attempt with write-verify)
    wrong_cells: int = 0       # cells whose final value differs from the last word written there

    def __add__(self, other):
        return WriteStats(**{k: getattr(self, k) + getattr(other, k) for k in self.__dataclass_fields__})

    def counters(self):
        """The RTL's counters (:data:`WRITE_COUNTERS`) as a dict."""
        return dict(writes=self.writes, write_errors=self.write_errors, retries=self.retries,
                    write_cycles=self.cycles)


# --------------------------------------------------------------------------- section 9 layout

def _weights3(lp):
    w = np.asarray(lp.weights, dtype=np.int64)
    return w if w.ndim == 3 else w[:, :, None]


def layer_words(lp):
    """The synapse-memory words of one layer (section 9): ``int64 [N_in * K * Qn]``.

    Row ``r = i*K + k`` holds ``Qn`` words; lane ``p`` of word ``q`` is the code
    ``(w + (2^b - 1)) / 2`` of neuron ``q*P + p`` in bits ``[p*b, (p+1)*b)``, padding 0.
    """
    w = _weights3(lp)                                           # [N_out, N_in, K]
    n_out, n_in, k = w.shape
    lanes, bits = int(lp.lanes), int(lp.weight_bits)
    qn = contract.words(n_out, lanes)
    codes = np.zeros((qn * lanes, n_in, k), dtype=np.int64)
    codes[:n_out] = (w + contract.weight_max(bits)) // 2
    codes = codes.reshape(qn, lanes, n_in, k).transpose(2, 3, 0, 1)   # [N_in, K, Qn, P]
    shifts = np.arange(lanes, dtype=np.int64) * bits
    return (codes << shifts).sum(axis=-1).reshape(-1)


def layer_weights(lp, words):
    """Inverse of :func:`layer_words`: the weights ``lp`` holds when its memory holds
    ``words`` (every code is a valid odd level, so any word decodes; padding is ignored).
    The result has the shape of ``lp.weights``."""
    w = _weights3(lp)
    n_out, n_in, k = w.shape
    lanes, bits = int(lp.lanes), int(lp.weight_bits)
    qn = contract.words(n_out, lanes)
    words = np.asarray(words, dtype=np.int64).reshape(n_in, k, qn, 1)
    codes = (words >> (np.arange(lanes, dtype=np.int64) * bits)) & ((1 << bits) - 1)   # [N_in, K, Qn, P]
    codes = codes.transpose(2, 3, 0, 1).reshape(qn * lanes, n_in, k)[:n_out]
    out = 2 * codes - contract.weight_max(bits)
    return out.reshape(np.shape(lp.weights)).astype(np.asarray(lp.weights).dtype)


def network_words(model):
    """:func:`layer_words` of every layer of a :class:`~spinaps.sw.golden.GoldenModel`."""
    return [layer_words(lp) for lp in model.layers]


def load_sequence(model):
    """The write sequence that loads ``model``: per layer, ``(address, word)`` for every
    address in order."""
    return [list(enumerate(words.tolist())) for words in network_words(model)]


# --------------------------------------------------------------------------- the write model

def cell_seeds(seed, layer, data_width):
    """Initial states of layer ``layer``'s generators, one per cell (contract.fault_cell_seed)."""
    return np.array([contract.fault_cell_seed(seed, layer, m) for m in range(data_width)], dtype=np.uint64)


def _xorshift(state):
    # contract.xorshift32 on a uint64 array holding 32-bit states.
    a, b, c = contract.XORSHIFT_SHIFTS
    s = state ^ ((state << np.uint64(a)) & np.uint64(contract.MASK32))
    s ^= s >> np.uint64(b)
    return s ^ ((s << np.uint64(c)) & np.uint64(contract.MASK32))


def _bits(word, width):
    return (np.uint64(word) >> np.arange(width, dtype=np.uint64)) & np.uint64(1)


def write_memory(initial, writes, *, data_width, p, seed, layer=0, retries=0, write_latency=4):
    """Apply ``writes`` (``(address, word)`` pairs) to a memory holding ``initial`` words.

    Section 9.1: each attempt draws once from every cell's generator; a cell whose stored bit
    differs from the written bit fails to switch (keeps its bit) when its draw is
    ``<= write_error_threshold(p)``. With ``retries > 0`` every attempt is followed by a
    verify read, and a word read back different from the one written is written again, at
    most ``retries`` times. Returns ``(final words as a list of int, WriteStats)``.
    """
    p = contract.check_write_error_prob(p)
    r = contract.WRITE_RETRIES
    contract.check_int("write_retries", retries, r.lo, r.hi, r.meaning)
    verify = retries > 0
    faulty = p > 0
    if (faulty or verify) and write_latency < contract.FAULT_MIN_WRITE_LATENCY:
        raise contract.ContractError(f"write_latency = {write_latency}: write errors and write-verify need "
                                     f"at least {contract.FAULT_MIN_WRITE_LATENCY} cycles per write")
    threshold = np.uint64(contract.write_error_threshold(p))
    state = cell_seeds(seed, layer, data_width) if faulty else None
    mem = [int(w) for w in initial]
    stats = WriteStats()
    weights_of_bits = np.uint64(1) << np.arange(data_width, dtype=np.uint64)
    last = {}
    for addr, word in writes:
        word = int(word)
        stats.writes += 1
        attempts = 0
        while True:
            attempts += 1
            old = mem[addr]
            if faulty:
                state = _xorshift(state)
                fail = (state <= threshold) & (_bits(old ^ word, data_width) == 1)
                n_fail = int(fail.sum())
                stats.write_errors += n_fail
                mask = int((fail.astype(np.uint64) * weights_of_bits).sum())
                mem[addr] = word ^ mask          # a failed cell keeps its old (= complemented) bit
            else:
                mem[addr] = word
            if not verify:
                break
            stats.verify_reads += 1
            if mem[addr] == word or attempts > retries:
                break
            stats.retries += 1
        stats.attempts += attempts
        stats.cycles += contract.write_cycles(attempts, write_latency, verify)
        last[addr] = word
    stats.wrong_cells = sum(bin(mem[a] ^ w).count("1") for a, w in last.items())
    return mem, stats


def load_network(model, *, p, seed, retries=0, write_latency=4, initial="erased", sequence=None):
    """Write ``model``'s weights (or ``sequence``, per layer) into memories holding ``initial``.

    ``initial`` is ``"erased"`` (every cell 0, the RTL's ``erased`` memories) or a list of
    per-layer word lists. Returns ``(per-layer final words, per-layer WriteStats)``.
    """
    targets = network_words(model)
    sequence = load_sequence(model) if sequence is None else sequence
    out_words, out_stats = [], []
    for index, (lp, words) in enumerate(zip(model.layers, targets)):
        width = int(lp.lanes) * int(lp.weight_bits)
        start = [0] * len(words) if initial == "erased" else list(initial[index])
        final, stats = write_memory(start, sequence[index], data_width=width, p=p, seed=seed, layer=index,
                                    retries=retries, write_latency=write_latency)
        out_words.append(final)
        out_stats.append(stats)
    return out_words, out_stats


def faulted_model(model, words):
    """``model`` with each layer's weights replaced by those its memory holds (``words``)."""
    layers = tuple(replace(lp, weights=layer_weights(lp, w)) for lp, w in zip(model.layers, words))
    return replace(model, layers=layers)
