"""Connectionist temporal classification in the Keras backend ``K``: ``ctc_batch_cost``,
``ctc_decode`` (greedy and beam search) and ``ctc_label_dense_to_sparse``, with Keras's
conventions: ``y_pred`` holds softmax outputs ``(samples, time, classes)``, the blank is the
last class, and the functions work on ``log(y_pred + epsilon)`` as Keras feeds TensorFlow.
"""
from __future__ import annotations

import math
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F

from .config import epsilon
from .conversion import TensorLike, _as_operand, _as_tensor

__all__ = ["ctc_label_dense_to_sparse", "ctc_batch_cost", "ctc_decode"]


def _lengths(lengths: TensorLike, like: torch.Tensor, where: str) -> torch.Tensor:
    lengths = _as_operand(lengths, like)
    if lengths.dim() == 2 and lengths.shape[-1] == 1:
        lengths = lengths[:, 0]
    if lengths.dim() != 1:
        raise ValueError(f"`{where}` expects lengths of shape (samples,) or (samples, 1). "
                         f"Received shape {tuple(lengths.shape)}.")
    return lengths.long()


def ctc_label_dense_to_sparse(labels: TensorLike, label_lengths: TensorLike) -> torch.Tensor:
    """Dense labels ``(samples, max_length)`` as a sparse COO tensor holding the first
    ``label_lengths[i]`` labels of each row (``ctc_batch_cost`` accepts it as ``y_true``).

    Args:
        labels: integer labels, padded.
        label_lengths: ``(samples,)`` lengths.
    """
    labels = _as_tensor(labels)
    lengths = _lengths(label_lengths, labels, "ctc_label_dense_to_sparse")
    keep = torch.arange(labels.shape[1], device=labels.device)[None, :] < lengths[:, None]
    indices = keep.nonzero().t()
    return torch.sparse_coo_tensor(indices, labels[keep], tuple(labels.shape),
                                   check_invariants=True).coalesce()


def ctc_batch_cost(y_true: TensorLike, y_pred: TensorLike, input_length: TensorLike,
                   label_length: TensorLike) -> torch.Tensor:
    """CTC loss of each sample: ``-log p(label | y_pred)`` summed over alignments.

    Args:
        y_true: ``(samples, max_string_length)`` labels (or ``ctc_label_dense_to_sparse``'s
            result).
        y_pred: ``(samples, time, classes)`` softmax outputs; the blank is class
            ``classes - 1``.
        input_length: ``(samples, 1)`` number of valid time steps.
        label_length: ``(samples, 1)`` number of valid labels.

    Returns:
        ``(samples, 1)`` losses.
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_operand(y_true, y_pred)
    if y_true.layout != torch.strided:
        y_true = y_true.to_dense()
    input_length = _lengths(input_length, y_pred, "ctc_batch_cost")
    label_length = _lengths(label_length, y_pred, "ctc_batch_cost")
    # TensorFlow's ctc_loss takes log(y_pred + eps) as logits: it normalises them again.
    log_probs = torch.log_softmax(torch.log(y_pred + epsilon()), dim=-1).transpose(0, 1)
    loss = F.ctc_loss(log_probs, y_true.long(), input_length, label_length,
                      blank=y_pred.shape[-1] - 1, reduction="none", zero_infinity=False)
    return loss.unsqueeze(1).to(y_pred.dtype)


def _pad_decoded(sequences: List[List[int]], device) -> torch.Tensor:
    width = max((len(s) for s in sequences), default=0)
    out = torch.full((len(sequences), width), -1, dtype=torch.int64, device=device)
    for i, seq in enumerate(sequences):
        if seq:
            out[i, :len(seq)] = torch.tensor(seq, dtype=torch.int64)
    return out


def _greedy(logits: torch.Tensor, lengths: torch.Tensor) -> Tuple[List[torch.Tensor], torch.Tensor]:
    blank = logits.shape[-1] - 1
    best, best_idx = logits.max(dim=-1)  # (samples, time)
    steps = torch.arange(logits.shape[1], device=logits.device)[None, :] < lengths[:, None]
    neg_sum = -(best * steps).sum(dim=1, keepdim=True)
    sequences = []
    for idx, n in zip(best_idx.tolist(), lengths.tolist()):
        seq, prev = [], None
        for c in idx[:n]:
            if c != prev and c != blank:
                seq.append(c)
            prev = c
        sequences.append(seq)
    return [_pad_decoded(sequences, logits.device)], neg_sum


def _logaddexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def _beam_one(log_probs: List[List[float]], beam_width: int, top_paths: int,
              merge_repeated: bool) -> List[Tuple[Tuple[int, ...], float]]:
    """CTC prefix beam search on one sequence of log-probabilities (time, classes)."""
    blank = len(log_probs[0]) - 1 if log_probs else 0
    beams: Dict[Tuple[int, ...], Tuple[float, float]] = {(): (0.0, -math.inf)}  # (p_blank, p_label)
    for frame in log_probs:
        nxt: Dict[Tuple[int, ...], List[float]] = {}

        def add(prefix, pb, pnb):
            cur = nxt.setdefault(prefix, [-math.inf, -math.inf])
            cur[0] = _logaddexp(cur[0], pb)
            cur[1] = _logaddexp(cur[1], pnb)

        for prefix, (pb, pnb) in beams.items():
            total = _logaddexp(pb, pnb)
            add(prefix, total + frame[blank], -math.inf)
            for c, lp in enumerate(frame):
                if c == blank:
                    continue
                if prefix and prefix[-1] == c:
                    add(prefix, -math.inf, pnb + lp)          # the label continues
                    add(prefix + (c,), -math.inf, pb + lp)    # a new label after a blank
                else:
                    add(prefix + (c,), -math.inf, total + lp)
        ranked = sorted(nxt.items(), key=lambda kv: _logaddexp(*kv[1]), reverse=True)
        beams = {k: (v[0], v[1]) for k, v in ranked[:beam_width]}
    ranked = sorted(beams.items(), key=lambda kv: _logaddexp(*kv[1]), reverse=True)[:top_paths]
    out = []
    for prefix, (pb, pnb) in ranked:
        labels = list(prefix)
        if merge_repeated:
            labels = [c for i, c in enumerate(labels) if i == 0 or c != labels[i - 1]]
        out.append((tuple(labels), _logaddexp(pb, pnb)))
    return out


def ctc_decode(y_pred: TensorLike, input_length: TensorLike, greedy: bool = True,
               beam_width: int = 100, top_paths: int = 1,
               merge_repeated: bool = False) -> Tuple[List[torch.Tensor], torch.Tensor]:
    """Decodes softmax outputs: best path (greedy) or CTC prefix beam search.

    Args:
        y_pred: ``(samples, time, classes)`` softmax outputs (blank: the last class).
        input_length: ``(samples,)`` number of valid time steps.
        greedy: best-path decoding (repeats merged, blanks removed).
        beam_width: the beam width of the beam search.
        top_paths: number of most probable labellings the beam search returns.
        merge_repeated: beam search only: merge equal consecutive labels of a result.

    Returns:
        ``(decoded, log_prob)``: a list (one entry, or ``top_paths``) of ``(samples,
        max_length)`` int64 tensors padded with -1; greedy: ``(samples, 1)``, the negative
        sum of each frame's largest ``log(y_pred + eps)``; beam search:
        ``(samples, top_paths)``, the log probability of each labelling.

    Example:
        >>> probs = np.array([[[0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.7, 0.2, 0.1]]])
        >>> K.ctc_decode(probs, np.array([3]))[0][0]
        tensor([[1, 0]])
    """
    y_pred = _as_tensor(y_pred)
    lengths = _lengths(input_length, y_pred, "ctc_decode")
    logits = torch.log(y_pred + epsilon())
    if greedy:
        return _greedy(logits, lengths)
    if top_paths < 1 or top_paths > beam_width:
        raise ValueError(f"`top_paths` must be between 1 and `beam_width` ({beam_width}). "
                         f"Received: top_paths={top_paths}")
    log_probs = torch.log_softmax(logits, dim=-1).detach().cpu().double()
    paths: List[List[List[int]]] = [[] for _ in range(top_paths)]
    scores = torch.full((y_pred.shape[0], top_paths), -math.inf, dtype=torch.float64)
    for b, n in enumerate(lengths.tolist()):
        results = _beam_one(log_probs[b, :n].tolist(), int(beam_width), int(top_paths),
                            merge_repeated)
        for k in range(top_paths):
            labels, score = results[k] if k < len(results) else ((), -math.inf)
            paths[k].append(list(labels))
            scores[b, k] = score
    decoded = [_pad_decoded(p, y_pred.device) for p in paths]
    return decoded, scores.to(device=y_pred.device, dtype=y_pred.dtype)


