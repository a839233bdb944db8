"""Per-member mini-batches: each member shuffles its own data set from its own seed.

Member ``m`` draws a fresh permutation of ``range(n[m])`` every epoch from a generator seeded
by its seed alone, so its batches never depend on its ensemble-mates (or on how many there are).
Members may have different data-set sizes ``n`` (padded data plus a per-member count); every
member uses the same batch size, so a step's indices stack into one ``[M, B]`` tensor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

# Mixed into each member's seed so that batch order is not the same random stream as an
# init drawn from the same seed.
_SALT = 0x6261_7463


def batch_seed(seed: int) -> int:
    """The generator seed of a member's batch stream, derived from its seed alone."""
    return int(np.random.SeedSequence([int(seed), _SALT]).generate_state(1, np.uint64)[0] >> 1)


class MemberBatches:
    """Shuffled batches ``[M, B]`` of sample indices, drawn per member from its seed.

    ``n`` is one data-set size or one per member. With ``drop_last`` (default) an epoch is
    ``n[m] // B`` batches of a fresh permutation and the remainder is skipped; without it,
    the permutations are concatenated and a batch may straddle two epochs. Indices are drawn
    ``block`` steps ahead on the CPU and moved to ``device`` once per block.
    """

    def __init__(self, seeds: Sequence[int], n, batch_size: int, *, drop_last=True, device="cpu", block: int = 64):
        self.n = np.broadcast_to(np.asarray(n, dtype=np.int64), (len(seeds),)).copy()
        if batch_size < 1 or (self.n < batch_size).any():
            raise ValueError(f"batch size {batch_size} must be in 1..min(n) = {int(self.n.min())}")
        self.batch_size, self.drop_last, self.device, self.block = int(batch_size), drop_last, device, int(block)
        self._gens = [torch.Generator().manual_seed(batch_seed(s)) for s in seeds]
        self._pending = [(torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long)) for _ in seeds]
        self._epochs_drawn = np.zeros(len(seeds), dtype=np.int64)
        self._idx, self._epoch, self._k = None, None, 0
        self.epoch = np.zeros(len(seeds), dtype=np.int64)  # epoch of the last batch returned, per member

    def steps_per_epoch(self) -> np.ndarray:
        """Batches per epoch ``[M]`` (rounded down with ``drop_last``, else fractional)."""
        return self.n // self.batch_size if self.drop_last else self.n / self.batch_size

    def next(self) -> torch.Tensor:
        """The next batch ``[M, B]`` (long, on ``device``); ``self.epoch`` says which epoch each row is from."""
        if self._idx is None or self._k == self.block:
            self._refill()
        idx, self.epoch = self._idx[:, self._k], self._epoch[:, self._k]
        self._k += 1
        return idx

    def _refill(self):
        need = self.block * self.batch_size
        rows, epochs = [], []
        for m, gen in enumerate(self._gens):
            idx, ep = self._pending[m]
            parts, tags = [idx], [ep]
            have = len(idx)
            while have < need:
                perm = torch.randperm(int(self.n[m]), generator=gen)
                if self.drop_last:
                    perm = perm[: len(perm) - len(perm) % self.batch_size]
                parts.append(perm)
                tags.append(torch.full_like(perm, int(self._epochs_drawn[m])))
                self._epochs_drawn[m] += 1
                have += len(perm)
            idx, ep = torch.cat(parts), torch.cat(tags)
            rows.append(idx[:need])
            epochs.append(ep[: need : self.batch_size])
            self._pending[m] = (idx[need:], ep[need:])
        self._idx = torch.stack(rows).view(len(rows), self.block, self.batch_size).to(self.device)
        self._epoch = torch.stack(epochs).numpy()
        self._k = 0


def take(x: torch.Tensor, idx: torch.Tensor | None, *, stacked: bool = False) -> torch.Tensor:
    """Each member's rows ``idx`` ``[M, B]`` of ``x``: ``[N, ...]`` shared, or ``[M, N, ...]`` with ``stacked``.

    Returns ``[M, B, ...]`` (one ``index_select``, no per-member loop); ``idx`` None returns ``x``.
    """
    if idx is None:
        return x
    m, b = idx.shape
    if not stacked:
        return x.index_select(0, idx.reshape(-1)).view(m, b, *x.shape[1:])
    n = x.shape[1]
    flat = (idx + torch.arange(0, m * n, n, device=idx.device).unsqueeze(1)).reshape(-1)
    return x.reshape(m * n, *x.shape[2:]).index_select(0, flat).view(m, b, *x.shape[2:])
